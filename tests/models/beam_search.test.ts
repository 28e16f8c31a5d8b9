/**
 * Beam search: every family's tiny checkpoint reproduces an independent reference
 * (tools/gen_beam_fixtures.py) token for token; one beam is greedy; on a hand-built model
 * whose best sequence starts with a less likely token, beam search finds it and greedy cannot;
 * the KV cache changes nothing; the reported log-probs are the model's own; bad settings fail
 * naming the value; nothing leaks.
 */

import assert from "node:assert/strict";
import { memory, noGrad, slice, type Tensor, tensor, tidy, tokenLogProbs } from "../../core/mod.ts";
import { beamSearch } from "../../models/beam_search.ts";
import {
  type CachedLayer,
  generate,
  type GenerateOptions,
  type GenerativeModel,
} from "../../models/generation.ts";
import {
  assertMatchesCase,
  beamFixture,
  beamSubject,
  optionsOf,
  subjectTest,
} from "./beam_fixture.ts";
import { leftPrompts, loadGpt2A } from "./gpt2_fixture.ts";

for (const family of ["gpt2", "llama", "qwen2", "opt", "t5"]) {
  const subject = await beamSubject(family);
  const name = `beam search on ${subject.fixture.checkpoint} matches the reference on cpu`;
  subjectTest(subject, name, async () => {
    const model = await subject.load("cpu");
    let worst = 0;
    for (const c of subject.fixture.cases) {
      const got = await model.generate(c.prompts, optionsOf(c));
      worst = Math.max(worst, assertMatchesCase(got, c, 1e-4, subject.fixture.checkpoint));
    }
    assert.ok(worst < 1e-4);
    model.dispose();
  });
}

Deno.test("the reference fixtures exercise EOS and every stopping rule", () => {
  for (const family of ["gpt2", "llama", "qwen2", "opt", "t5"]) {
    const f = beamFixture(family);
    const eosEnded = f.cases.flatMap((c) => c.sequences).filter((s) => s.finished).length;
    assert.ok(eosEnded > 0, `${family}: no hypothesis ends on EOS`);
    const rules = new Set(f.cases.map((c) => String(c.settings.early_stopping)));
    assert.deepEqual([...rules].sort(), ["false", "never", "true"], family);
    const penalties = new Set(f.cases.map((c) => c.settings.length_penalty));
    assert.deepEqual([...penalties].sort(), [0, 1, 2], family);
  }
});

Deno.test("one beam picks the greedy tokens, EOS included", async () => {
  const model = await loadGpt2A();
  for (const opts of [{ eosTokenId: null }, { eosTokenId: 65, padTokenId: 0 }]) {
    const greedy = await model.generate(leftPrompts(), { maxNewTokens: 6, ...opts });
    const beam = await beamSearch(model, leftPrompts(), { maxNewTokens: 6, numBeams: 1, ...opts });
    assert.deepEqual(beam.tokens, greedy.tokens, JSON.stringify(opts));
    assert.deepEqual(beam.finished, greedy.finished, JSON.stringify(opts));
    beam.logProbs.forEach((row, r) =>
      row.forEach((x, i) => assert.ok(Math.abs(x - greedy.logProbs[r][i]) <= 1e-6))
    );
  }
  // The EOS case really stops a row early.
  const stopped = await beamSearch(model, leftPrompts(), {
    maxNewTokens: 6,
    numBeams: 1,
    eosTokenId: 65,
  });
  assert.deepEqual(stopped.tokens[1], [65]);
  model.dispose();
});

Deno.test("beam search with the KV cache equals beam search without it", async () => {
  const model = await loadGpt2A();
  const c = beamFixture("gpt2").cases[1];
  const cached = await model.generate(c.prompts, optionsOf(c));
  const full = await model.generate(c.prompts, { ...optionsOf(c), useCache: false });
  assert.deepEqual(full.tokens, cached.tokens);
  cached.sequenceScores!.forEach((x, r) =>
    assert.ok(Math.abs(x - full.sequenceScores![r]) <= 1e-5, `sequence ${r}`)
  );
  model.dispose();
});

Deno.test("beam log-probs are the model's own and the scores follow from them", async () => {
  const model = await loadGpt2A();
  const prompts = leftPrompts();
  const out = await model.generate(prompts, {
    numBeams: 4,
    numReturnSequences: 3,
    maxNewTokens: 7,
    eosTokenId: 25,
    lengthPenalty: 0.5,
  });
  for (let r = 0; r < out.tokens.length; r++) {
    const prompt = prompts[Math.floor(r / 3)];
    const seq = [...prompt, ...out.tokens[r]];
    const lp = tidy(() => {
      const ids = tensor([seq]);
      const logits = model.forward({ inputIds: ids }).logits;
      const n = seq.length, p = prompt.length;
      return tokenLogProbs(
        slice(logits, [0, p - 1, 0], [1, n - p, 97]),
        slice(ids, [0, p], [1, n - p]),
      ).toArraySync();
    });
    out.logProbs[r].forEach((x, i) => {
      assert.ok(Math.abs(x - lp[i]) <= 1e-5, `sequence ${r} token ${i}: ${x} vs ${lp[i]}`);
    });
    const sum = out.logProbs[r].reduce((a, b) => a + b, 0);
    const want = sum / out.tokens[r].length ** 0.5;
    assert.ok(Math.abs(out.sequenceScores![r] - want) <= 1e-9, `sequence ${r} score`);
  }
  model.dispose();
});

/**
 * A hand-built model over 4 tokens whose next-token distribution depends on the two tokens
 * before it. It reads the earlier token from its own KV cache (a [B, 1, T, 1] tensor of the
 * tokens seen), so a cache that does not follow the beams gives the wrong distribution.
 */
class TwoTokenModel implements GenerativeModel {
  readonly backend = "cpu";
  readonly eosTokenId = null;
  readonly padTokenId = 0;
  readonly v = 4;
  calls = 0;

  /** p(next | previous, last) for a prompt [0]: from 0 the likely token 1 leads nowhere. */
  static probs(prev: number, last: number): number[] {
    if (last === 0) return [0.001, 0.6, 0.398, 0.001]; // greedy takes 1 ...
    if (prev === 0 && last === 1) return [0.25, 0.26, 0.25, 0.24]; // ... then nothing is likely
    if (prev === 0 && last === 2) return [0.02, 0.02, 0.02, 0.94]; // 2 then 3 is the best pair
    if (last === 3) return prev === 2 ? [0.1, 0.7, 0.1, 0.1] : [0.1, 0.1, 0.7, 0.1];
    return [0.1, 0.7, 0.1, 0.1];
  }

  forward(input: {
    inputIds: Tensor;
    attentionMask: Tensor;
    pastKeyValues?: CachedLayer[];
    useCache?: boolean;
  }): { logits: Tensor; pastKeyValues?: CachedLayer[] } {
    this.calls++;
    const [n, t] = input.inputIds.shape;
    const fed = input.inputIds.toArraySync();
    const seen = input.pastKeyValues?.[0].key.toArraySync() ?? new Float32Array(0);
    const tPast = seen.length / n;
    const rows: number[][] = [];
    for (let r = 0; r < n; r++) {
      rows.push([...seen.slice(r * tPast, (r + 1) * tPast), ...fed.slice(r * t, (r + 1) * t)]);
    }
    const logits = rows.flatMap((row) =>
      TwoTokenModel.probs(row.at(-2) ?? 0, row.at(-1)!).map(Math.log)
    );
    const cached = () => tensor(rows.flat(), [n, 1, tPast + t, 1]);
    return {
      logits: tensor(logits, [n, 1, this.v]),
      pastKeyValues: input.useCache ? [{ key: cached(), value: cached() }] : undefined,
    };
  }
}

function sumLog(model: typeof TwoTokenModel, prompt: number[], tokens: number[]): number {
  const seq = [...prompt, ...tokens];
  let s = 0;
  for (let i = prompt.length; i < seq.length; i++) {
    s += Math.log(model.probs(seq[i - 2] ?? 0, seq[i - 1])[seq[i]]);
  }
  return s;
}

Deno.test("beam search finds a better sequence than greedy on a model built for it", async () => {
  const model = new TwoTokenModel();
  const prompts = [[0], [0]];
  const greedy = await generate(model, prompts, { maxNewTokens: 3 });
  assert.deepEqual(greedy.tokens[0], [1, 1, 1]);
  const beams = await generate(model, prompts, {
    maxNewTokens: 3,
    numBeams: 2,
    numReturnSequences: 2,
    lengthPenalty: 0,
  });
  // The best pair starts with the less likely token: 0.398 · 0.94 · 0.7 against 0.6 · 0.26 · 0.7.
  assert.deepEqual(beams.tokens[0], [2, 3, 1]);
  assert.deepEqual(beams.tokens[2], [2, 3, 1]);
  const best = sumLog(TwoTokenModel, [0], [2, 3, 1]);
  const greedyScore = sumLog(TwoTokenModel, [0], greedy.tokens[0]);
  assert.ok(best > greedyScore + 0.8, `${best} vs ${greedyScore}`);
  // Every hypothesis' log-probs are those of its own tokens: the cache followed the beams.
  beams.tokens.forEach((tokens, r) => {
    const sum = beams.logProbs[r].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - sumLog(TwoTokenModel, [0], tokens)) <= 1e-6, `row ${r}`);
    assert.ok(Math.abs(beams.sequenceScores![r] - sum) <= 1e-12, `row ${r} score`);
  });
  const uncached = await generate(model, prompts, {
    maxNewTokens: 3,
    numBeams: 2,
    numReturnSequences: 2,
    lengthPenalty: 0,
    useCache: false,
  });
  assert.deepEqual(uncached.tokens, beams.tokens);
});

/**
 * A seq2seq-style adapter: it holds one "encoder" value per row outside the KV cache (here a
 * shift of the token ids) and fails when fed another number of rows, as an adapter that bound
 * the encoder's output would. Beam search must widen it through `repeatRows`.
 */
class BoundRowsModel extends TwoTokenModel {
  disposed = 0;
  widened: BoundRowsModel[] = [];
  constructor(readonly shifts: number[]) {
    super();
  }

  override forward(input: Parameters<TwoTokenModel["forward"]>[0]) {
    const n = input.inputIds.shape[0];
    if (n !== this.shifts.length) {
      throw new Error(`fed ${n} rows, bound to ${this.shifts.length}`);
    }
    // Unshift the ids, run the two-token model, shift its logits: row r prefers token + shift.
    const fed = input.inputIds.toArraySync();
    const t = input.inputIds.shape[1];
    const plain = tensor(Array.from(fed, (x, i) => (x - this.shifts[Math.floor(i / t)] + 4) % 4), [
      n,
      t,
    ]);
    const pastKeyValues = input.pastKeyValues;
    const out = super.forward({ ...input, inputIds: plain, pastKeyValues });
    plain.dispose();
    const logits = out.logits.toArraySync();
    out.logits.dispose();
    const shifted = Array.from(logits, (_, i) => {
      const r = Math.floor(i / 4), token = i % 4;
      return logits[r * 4 + (token - this.shifts[r] + 4) % 4];
    });
    return { logits: tensor(shifted, [n, 1, 4]), pastKeyValues: out.pastKeyValues };
  }

  repeatRows(times: number): BoundRowsModel & { dispose(): void } {
    const wide = new BoundRowsModel(this.shifts.flatMap((x) => new Array(times).fill(x)));
    this.widened.push(wide);
    return Object.assign(wide, { dispose: () => void wide.disposed++ });
  }
}

Deno.test("beam search widens per-row state held outside the cache through repeatRows", async () => {
  const model = new BoundRowsModel([0, 1]);
  const opts = { maxNewTokens: 3, numBeams: 2, numReturnSequences: 2, lengthPenalty: 0 };
  const out = await generate(model, [[0], [1]], opts);
  // Row 1 is row 0's search with every token shifted by one.
  assert.deepEqual(out.tokens, [[2, 3, 1], [1, 1, 1], [3, 0, 2], [2, 2, 2]]);
  assert.equal(model.widened.length, 1);
  assert.deepEqual(model.widened[0].shifts, [0, 0, 1, 1]);
  assert.equal(model.widened[0].disposed, 1, "the widened model is disposed once");
  // Shifted cached ids would change the distribution: the scores match the true tokens.
  out.tokens.forEach((tokens, r) => {
    const shift = r < 2 ? 0 : 1;
    const plain = tokens.map((x) => (x - shift + 4) % 4);
    const want = sumLog(TwoTokenModel, [0], plain);
    assert.ok(Math.abs(out.sequenceScores![r] - want) <= 1e-6, `row ${r}`);
  });
});

Deno.test("beam search settings that cannot work fail naming the value and the fix", async () => {
  const model = new TwoTokenModel();
  const run = (opts: GenerateOptions) => generate(model, [[0]], { maxNewTokens: 2, ...opts });
  const cases: [GenerateOptions, RegExp][] = [
    [{ numBeams: 0 }, /numBeams must be an integer >= 1 .*got 0/],
    [{ numBeams: -2 }, /numBeams must be an integer >= 1 .*got -2/],
    [{ numBeams: 2.5 }, /numBeams must be an integer >= 1 .*got 2\.5/],
    [{ numBeams: "4" as unknown as number }, /numBeams must be an integer >= 1 .*got 4/],
    [
      { numBeams: 2, numReturnSequences: 3 },
      /numReturnSequences \(3\) must be <= numBeams \(2\); raise numBeams to at least 3/,
    ],
    [
      { numReturnSequences: 2 },
      /numReturnSequences \(2\) must be <= numBeams \(1\).*repeat the prompts/,
    ],
    [
      { numBeams: 2, numReturnSequences: 1.5 },
      /numReturnSequences must be an integer >= 1, got 1\.5/,
    ],
    [{ numBeams: 2, numReturnSequences: 0 }, /numReturnSequences must be an integer >= 1, got 0/],
    [{ numBeams: 2, doSample: true }, /doSample with numBeams 2 .*doSample: false/],
    [{ numBeams: 2, lengthPenalty: NaN }, /lengthPenalty must be a finite number, got NaN/],
    [
      { numBeams: 2, earlyStopping: "sometimes" as unknown as boolean },
      /earlyStopping must be true, false or "never", got "sometimes"/,
    ],
    [{ numBeams: 2, returnScores: true }, /returnScores is not available with numBeams 2/],
    [{ numBeams: 2, maxNewTokens: -1 }, /maxNewTokens must be an integer >= 0, got -1/],
  ];
  for (const [opts, message] of cases) {
    await assert.rejects(run(opts), message, JSON.stringify(opts));
  }
  assert.equal(model.calls, 0, "a bad setting must fail before the first forward");
});

Deno.test("no new tokens asked: empty hypotheses, no forward pass", async () => {
  const model = new TwoTokenModel();
  const out = await generate(model, [[0], [0, 1]], {
    maxNewTokens: 0,
    numBeams: 2,
    numReturnSequences: 2,
  });
  assert.deepEqual(out.tokens, [[], [], [], []]);
  assert.deepEqual(out.sequenceScores, [0, 0, 0, 0]);
  assert.equal(model.calls, 0);
});

Deno.test("beam search frees everything it allocates", async () => {
  const model = await loadGpt2A();
  const c = beamFixture("gpt2").cases[1];
  await model.generate(c.prompts, optionsOf(c));
  const before = memory();
  for (let i = 0; i < 3; i++) {
    for (const useCache of [true, false]) {
      await model.generate(c.prompts, { ...optionsOf(c), useCache });
    }
  }
  assert.deepEqual(memory(), before);
  // A failing step frees the cache too.
  const failing: GenerativeModel = {
    backend: "cpu",
    eosTokenId: null,
    padTokenId: 0,
    forward(input) {
      const r = noGrad(() => model.forward(input));
      if (input.pastKeyValues) {
        r.logits.dispose();
        for (const l of r.pastKeyValues ?? []) l.key.dispose(), l.value.dispose();
        throw new Error("step failed");
      }
      return r;
    },
  };
  await assert.rejects(
    generate(failing, c.prompts, { numBeams: 2, maxNewTokens: 4 }),
    /step failed/,
  );
  assert.deepEqual(memory(), before);
  model.dispose();
});
