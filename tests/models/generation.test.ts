/**
 * Batched generation on the tiny reference GPT-2: the KV cache changes nothing, host and
 * on-device token picking agree, rows stop on their own at EOS, EOS is held back until the
 * minimum length, seeds reproduce, and the reported log-probs are the model's own.
 */

import assert from "node:assert/strict";
import {
  Generator,
  memory,
  profileOpsAsync,
  sampleTokens,
  slice,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import { sampleRow } from "../../models/generation.ts";
import { leftPrompts, loadGpt2A } from "./gpt2_fixture.ts";

const PROMPTS = leftPrompts();

Deno.test("generation with the KV cache equals generation without it", async () => {
  const model = await loadGpt2A();
  for (const opts of [{ doSample: false }, { doSample: true, seed: 3, topK: 20, topP: 0.9 }]) {
    const common = { maxNewTokens: 8, returnScores: true, eosTokenId: null, ...opts };
    const cached = await model.generate(PROMPTS, { ...common, useCache: true });
    const full = await model.generate(PROMPTS, { ...common, useCache: false });
    assert.deepEqual(cached.tokens, full.tokens, JSON.stringify(opts));
    assert.equal(cached.scores!.length, 8);
    for (let s = 0; s < 8; s++) {
      const a = cached.scores![s], b = full.scores![s];
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) <= 1e-5, `step ${s} logit ${i}: ${a[i]} vs ${b[i]}`);
      }
    }
  }
  model.dispose();
});

Deno.test("generated log-probs equal the log-probs of a forward pass over the sequence", async () => {
  const model = await loadGpt2A();
  const out = await model.generate(PROMPTS, { maxNewTokens: 5, doSample: true, seed: 11 });
  for (let r = 0; r < PROMPTS.length; r++) {
    const seq = [...PROMPTS[r], ...out.tokens[r]];
    const lp = tidy(() => {
      const ids = tensor([seq]);
      const logits = model.forward({ inputIds: ids }).logits;
      const n = seq.length, p = PROMPTS[r].length;
      return tokenLogProbs(
        slice(logits, [0, p - 1, 0], [1, n - p, 97]),
        slice(ids, [0, p], [1, n - p]),
      ).toArraySync();
    });
    out.logProbs[r].forEach((x, i) => {
      assert.ok(Math.abs(x - lp[i]) <= 1e-5, `row ${r} token ${i}: ${x} vs ${lp[i]}`);
    });
  }
  model.dispose();
});

Deno.test("each row stops at its own EOS and is cut there; minNewTokens holds EOS back", async () => {
  const model = await loadGpt2A();
  // Greedy decoding of row 1 emits 65 forever (see the reference tokens); make it the EOS.
  const out = await model.generate(PROMPTS, { maxNewTokens: 6, eosTokenId: 65, padTokenId: 0 });
  assert.deepEqual(out.tokens[1], [65]);
  assert.deepEqual(out.finished, [true, true, false]);
  assert.deepEqual(out.tokens[0], [91, 62, 26, 37, 18, 65]);
  assert.deepEqual(out.tokens[2], [25, 25, 25, 25, 25, 25]);
  assert.equal(out.logProbs[1].length, 1);

  const held = await model.generate(PROMPTS, {
    maxNewTokens: 6,
    eosTokenId: 65,
    minNewTokens: 3,
  });
  assert.equal(held.tokens[1].slice(0, 3).includes(65), false, `${held.tokens[1]}`);
  for (const row of held.tokens) {
    const at = row.indexOf(65);
    assert.ok(at === -1 || at >= 3, `EOS at ${at} in ${row}`);
    assert.ok(at === -1 || at === row.length - 1, `tokens after EOS in ${row}`);
  }
  // min_length counts the padded prompt (9 tokens here) as transformers does.
  const byLength = await model.generate(PROMPTS, {
    maxNewTokens: 6,
    eosTokenId: 65,
    minLength: 12,
  });
  assert.deepEqual(byLength.tokens, held.tokens);
  model.dispose();
});

Deno.test("picking tokens on the device equals picking them on the host", async () => {
  const model = await loadGpt2A();
  const cases = [
    { doSample: false },
    { doSample: true, seed: 5 },
    { doSample: true, seed: 5, temperature: 0.7, topK: 10, topP: 0.8 },
    { doSample: false, eosTokenId: 65, minNewTokens: 2 },
    { doSample: false, eosTokenId: 65, useCache: false },
  ];
  for (const c of cases) {
    const host = await model.generate(PROMPTS, { maxNewTokens: 7, ...c, sampleOnDevice: false });
    const device = await model.generate(PROMPTS, {
      maxNewTokens: 7,
      ...c,
      sampleOnDevice: true,
      stopCheckEvery: 2,
    });
    assert.deepEqual(device.tokens, host.tokens, JSON.stringify(c));
    assert.deepEqual(device.finished, host.finished, JSON.stringify(c));
    host.logProbs.forEach((row, r) =>
      row.forEach((x, i) => assert.ok(Math.abs(x - device.logProbs[r][i]) <= 1e-5))
    );
  }
  model.dispose();
});

Deno.test("the same seed gives the same samples; another seed gives others", async () => {
  const model = await loadGpt2A();
  const opts = { maxNewTokens: 12, doSample: true, eosTokenId: null };
  const a = await model.generate(PROMPTS, { ...opts, seed: 1 });
  const b = await model.generate(PROMPTS, { ...opts, generator: new Generator(1) });
  const c = await model.generate(PROMPTS, { ...opts, seed: 2 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  model.dispose();
});

Deno.test("generation frees everything it allocates", async () => {
  const model = await loadGpt2A();
  await model.generate(PROMPTS, { maxNewTokens: 2 });
  const before = memory();
  for (const sampleOnDevice of [false, true]) {
    await model.generate(PROMPTS, { maxNewTokens: 5, doSample: true, seed: 0, sampleOnDevice });
    await model.generate(PROMPTS, { maxNewTokens: 3, useCache: false, sampleOnDevice });
  }
  assert.deepEqual(memory(), before);
  model.dispose();
});

Deno.test("sampleRow follows the core sampleTokens rules draw for draw", () => {
  const g = new Generator(7);
  for (
    const opts of [
      { temperature: 1, topK: 0, topP: 1 },
      { temperature: 0.5, topK: 5, topP: 1 },
      { temperature: 1.3, topK: 0, topP: 0.6 },
      { temperature: 0.9, topK: 8, topP: 0.95 },
    ]
  ) {
    const logits = g.normal(4 * 40, 0, 2);
    const draws = new Generator(99).uniform(4);
    const want = tidy(() =>
      sampleTokens(tensor(logits, [4, 40]), { ...opts, generator: new Generator(99) })
        .toArraySync()
    );
    for (let r = 0; r < 4; r++) {
      const got = sampleRow(logits.subarray(r * 40, (r + 1) * 40), draws[r], opts);
      assert.equal(got, want[r], `${JSON.stringify(opts)} row ${r}`);
    }
  }
  // top-k 1 and a tiny top-p both reduce to the most likely token.
  const row = new Float32Array([0.1, 2, -1, 1.9]);
  assert.equal(sampleRow(row, 0.99, { temperature: 1, topK: 1, topP: 1 }), 1);
  assert.equal(sampleRow(row, 0.99, { temperature: 1, topK: 0, topP: 1e-6 }), 1);
  const eosFirst = new Float32Array([0.1, 1.9, -1, 2]);
  assert.equal(sampleRow(eosFirst, 0.5, { temperature: 1, topK: 1, topP: 1, banned: 3 }), 1);
  assert.equal(sampleRow(eosFirst, 0.999, { temperature: 1, topK: 0, topP: 1, banned: 3 }), 2);
});

Deno.test("generate rejects bad options with the field named", async () => {
  const model = await loadGpt2A();
  await assert.rejects(() => model.generate([[1], []]), /prompt 1 is empty/);
  await assert.rejects(() => model.generate([[1]], { topP: 0 }), /topP must be in \(0, 1\]/);
  await assert.rejects(() => model.generate([[1]], { maxNewTokens: -1 }), /maxNewTokens/);
  await assert.rejects(() => model.generate([[1]], { maxNewTokens: 70 }), /exceed n_positions 64/);
  model.dispose();
});

Deno.test("batchSize generates the prompts in slices: greedy tokens as in one batch, samples from one generator, less live memory", async () => {
  const model = await loadGpt2A();
  const greedy = { maxNewTokens: 6, eosTokenId: null };
  const whole = await model.generate(PROMPTS, greedy);
  const apart = await model.generate(PROMPTS, { ...greedy, batchSize: 1 });
  assert.deepEqual(apart.tokens, whole.tokens);
  apart.logProbs.flat().forEach((x, i) => {
    assert.ok(Math.abs(x - whole.logProbs.flat()[i]) <= 1e-5, `log-prob ${i}`);
  });
  // Sampled: the slices draw from one generator in turn, so a seed reproduces the whole run,
  // and the second slice continues the first one's stream rather than restarting it.
  const sampled = { maxNewTokens: 8, doSample: true, eosTokenId: null, batchSize: 2 };
  const a = await model.generate(PROMPTS, { ...sampled, seed: 4 });
  const b = await model.generate(PROMPTS, { ...sampled, generator: new Generator(4) });
  assert.deepEqual(a.tokens, b.tokens);
  const g = new Generator(4);
  const first = await model.generate(PROMPTS.slice(0, 2), { ...sampled, generator: g });
  const second = await model.generate(PROMPTS.slice(2), { ...sampled, generator: g });
  assert.deepEqual(a.tokens, [...first.tokens, ...second.tokens]);
  const restarted = await model.generate(PROMPTS.slice(2), { ...sampled, seed: 4 });
  assert.notDeepEqual(a.tokens.slice(2), restarted.tokens);
  // Beam search per slice, hypotheses prompt-major as in one batch.
  const beams = { maxNewTokens: 4, numBeams: 2, numReturnSequences: 2, eosTokenId: null };
  const beamWhole = await model.generate(PROMPTS, beams);
  const beamApart = await model.generate(PROMPTS, { ...beams, batchSize: 2 });
  assert.deepEqual(beamApart.tokens, beamWhole.tokens);
  assert.equal(beamApart.sequenceScores!.length, PROMPTS.length * 2);

  const long = { maxNewTokens: 16, eosTokenId: null };
  const rows = Array.from({ length: 8 }, (_, i) => PROMPTS[i % PROMPTS.length]);
  const peak = async (batchSize?: number) =>
    (await profileOpsAsync(() => model.generate(rows, { ...long, batchSize }))).profile
      .peakLiveBytes;
  const peakAll = await peak(), peakOne = await peak(1);
  assert.ok(peakOne < peakAll, `peak live bytes: batchSize 1 ${peakOne}, all 8 ${peakAll}`);

  await assert.rejects(
    model.generate(PROMPTS, { returnScores: true, batchSize: 2 }),
    /returnScores needs every prompt in one batch \(batchSize 2 < 3 prompts\).*drop batchSize or returnScores/,
  );
  await assert.rejects(
    model.generate(PROMPTS, { batchSize: 0 }),
    /generate: batchSize must be an integer >= 1, got 0/,
  );
  model.dispose();
});
