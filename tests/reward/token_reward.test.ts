import assert from "node:assert/strict";
import { Generator, noGrad, tensor, tidy } from "../../core/mod.ts";
import {
  GPT2TokenRewardModel,
  loadGpt2TokenRewardModel,
  pairSpan,
  tokenPairLoss,
  tokenRewardFunction,
  type TokenRewardPair,
  TokenRewardTrainer,
} from "../../reward/mod.ts";

const EOS = 1, PAD = 1;
const CONFIG = { vocab_size: 24, n_positions: 32, n_embd: 16, n_layer: 4, n_head: 2 };

function tinyModel(seed = 3): GPT2TokenRewardModel {
  return new GPT2TokenRewardModel(
    { ...CONFIG, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
    { backend: "cpu", generator: new Generator(seed) },
  );
}

const softplusNeg = (x: number) => Math.log1p(Math.exp(-x)); // −log σ(x)

// Hand-built pairs: the same prefix then different words; a shorter rejected (a prefix of the
// chosen); a rejected longer by several tokens; and one pair with no difference at all.
const PAIRS: TokenRewardPair[] = [
  { chosen: [5, 6, 7, 8, 9], rejected: [5, 6, 7, 11, 12] },
  { chosen: [5, 6, 7, 8, 9, 10], rejected: [5, 6, 7] },
  { chosen: [4, 13, 14], rejected: [4, 13, 15, 16, 17, 18] },
  { chosen: [5, 6, 20], rejected: [5, 6, 20] },
];

Deno.test("pairSpan: first difference to the later end; identical rows have none", () => {
  assert.deepEqual(pairSpan(PAIRS[0].chosen, PAIRS[0].rejected), {
    identical: false,
    start: 3,
    end: 5,
  });
  assert.deepEqual(pairSpan(PAIRS[1].chosen, PAIRS[1].rejected), {
    identical: false,
    start: 3,
    end: 6,
  });
  assert.deepEqual(pairSpan(PAIRS[2].chosen, PAIRS[2].rejected), {
    identical: false,
    start: 2,
    end: 6,
  });
  assert.deepEqual(pairSpan(PAIRS[3].chosen, PAIRS[3].rejected), { identical: true, end: 3 });
  assert.deepEqual(pairSpan([9, 1], [8, 1]), { identical: false, start: 0, end: 2 });
});

Deno.test("tokenPairLoss: matches a plain loop over hand-set rewards; no span adds 0, B divides", () => {
  const rc = [[0.1, 0.2, 0.3, 0.9, -0.4, 0], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0]];
  const rr = [[0.1, 0.2, 0.3, -1, 0.5, 0], [1, 2, 3, 1, 1, 1], [0, 0, 0, 0, 0, 0]];
  const chosen = [[5, 6, 7, 8, 9], [5, 6, 7, 8, 9, 10], [3, 3]];
  const rejected = [[5, 6, 7, 11, 12], [5, 6, 7], [3, 3]];
  const r = tokenPairLoss(tensor(rc.flat(), [3, 6]), tensor(rr.flat(), [3, 6]), chosen, rejected);
  let expected = 0;
  for (const [i, [s, e]] of [[0, [3, 5]], [1, [3, 6]]] as const) {
    let m = 0;
    for (let t = s; t < e; t++) m += softplusNeg(rc[i][t] - rr[i][t]);
    expected += m / (e - s);
  }
  expected /= 3;
  assert.ok(Math.abs(r.loss.itemSync() - expected) < 1e-6, `${r.loss.itemSync()} vs ${expected}`);
  assert.equal(r.identicalPairs, 1);
  // trlX reads both members at end − 1 of the span; "last_token" at each member's own end.
  assert.deepEqual(Array.from(r.chosenScores.toArraySync()), [-0.4, 6, 0].map(Math.fround));
  assert.deepEqual(Array.from(r.rejectedScores.toArraySync()), [0.5, 1, 0].map(Math.fround));
  const own = tokenPairLoss(
    tensor(rc.flat(), [3, 6]),
    tensor(rr.flat(), [3, 6]),
    chosen,
    rejected,
    {
      scoreAt: "last_token",
    },
  );
  assert.deepEqual(Array.from(own.rejectedScores.toArraySync()), [0.5, 3, 0].map(Math.fround));
  assert.deepEqual(Array.from(own.hasSpan.toArraySync()), [1, 1, 0]);
});

/** Rewards of one row run alone, padded to `length` exactly as the batch pads it. */
function rowRewards(model: GPT2TokenRewardModel, row: number[], length: number): number[] {
  const input = [...row, EOS];
  const ids = [...input, ...Array(length - input.length).fill(PAD)];
  const mask = ids.map((_, t) => (t < input.length ? 1 : 0));
  return noGrad(() =>
    tidy(() => {
      const { rewards } = model.forward({
        inputIds: tensor(ids, [1, length]),
        attentionMask: tensor(mask, [1, length]),
      });
      return Array.from(rewards.toArraySync());
    })
  );
}

Deno.test("TokenRewardTrainer: batched span loss, scores and accuracy equal a row-by-row computation", async () => {
  const model = tinyModel();
  model.eval();
  const trainer = new TokenRewardTrainer({ batchSize: 4, evalBatchSize: 4, maxLength: 16 }, {
    model,
    trainDataset: PAIRS,
    tokenizer: { eosTokenId: EOS, padTokenId: PAD },
  });
  // The batch pads every row to the longest input (7 tokens with the EOS).
  let lossSum = 0, correct = 0;
  const expectedScores: [number, number][] = [];
  for (const pair of PAIRS) {
    const c = rowRewards(model, pair.chosen, 7), r = rowRewards(model, pair.rejected, 7);
    const span = pairSpan(pair.chosen, pair.rejected);
    if (span.identical) {
      expectedScores.push([c[span.end - 1], c[span.end - 1]]);
      continue;
    }
    let m = 0;
    for (let t = span.start; t < span.end; t++) m += softplusNeg(c[t] - r[t]);
    lossSum += m / (span.end - span.start);
    expectedScores.push([c[span.end - 1], r[span.end - 1]]);
    if (c[span.end - 1] > r[span.end - 1]) correct++;
  }
  const metrics = await trainer.evaluate(PAIRS);
  assert.ok(Math.abs(metrics.loss - lossSum / 4) < 1e-5, `${metrics.loss} vs ${lossSum / 4}`);
  assert.equal(metrics.pairs, 4);
  assert.equal(metrics.pairs_without_difference, 1);
  assert.equal(metrics.accuracy, correct / 3);
  const scores = await trainer.scorePairs(PAIRS);
  scores.forEach((s, i) => {
    assert.ok(Math.abs(s.chosen - expectedScores[i][0]) < 1e-5, `pair ${i} chosen`);
    assert.ok(Math.abs(s.rejected - expectedScores[i][1]) < 1e-5, `pair ${i} rejected`);
  });
  assert.deepEqual(scores.map((s) => s.hasSpan), [true, true, true, false]);
  // The identical pair is left out of training, and said so.
  assert.equal(trainer.droppedIdenticalPairs, 1);
  trainer.optimizer.dispose();
  model.dispose();
});

Deno.test("GPT2TokenRewardModel: freezing 70% of blocks as trlX counts them; only the rest train", async () => {
  for (const [n, frozen] of [[12, 9], [28, 20], [4, 3], [2, 2], [10, 7]]) {
    const m = new GPT2TokenRewardModel({ ...CONFIG, n_layer: n }, { backend: "cpu" });
    assert.deepEqual(m.freezeFirstBlocks(0.7), { frozen, total: n }, `${n} blocks`);
    m.dispose();
  }
  const model = tinyModel();
  model.freezeFirstBlocks(0.7);
  const before = new Map(
    model.namedParameters().map(([k, p]) => [k, Array.from(p.toArraySync())]),
  );
  const trainer = new TokenRewardTrainer(
    { batchSize: 3, maxSteps: 1, learningRate: 1e-2, maxGradNorm: null },
    { model, trainDataset: PAIRS.slice(0, 3), tokenizer: { eosTokenId: EOS } },
  );
  await trainer.train();
  const changed = model.namedParameters().filter(([k, p]) =>
    Array.from(p.toArraySync()).some((v, i) => v !== before.get(k)![i])
  ).map(([k]) => k);
  assert.ok(changed.includes("v_head.weight"));
  assert.ok(changed.some((k) => k.startsWith("transformer.h.3.")));
  assert.ok(changed.includes("transformer.wte.weight"), "embeddings stay trainable, as trlX");
  assert.ok(!changed.some((k) => /^transformer\.h\.[012]\./.test(k)), changed.join(", "));
  trainer.optimizer.dispose();
  model.dispose();
});

Deno.test("TokenRewardTrainer: bad pairs fail naming the pair; all-identical data has nothing to learn", () => {
  const model = tinyModel();
  const make = (pairs: TokenRewardPair[], maxLength = 8) =>
    new TokenRewardTrainer({ maxLength }, { model, trainDataset: pairs, eosTokenId: EOS });
  assert.throws(() => make([{ chosen: [], rejected: [2] }]), /pair 0 chosen is empty/);
  assert.throws(
    () => make([{ chosen: [2, 3], rejected: Array(9).fill(2) }]),
    /pair 0 rejected has 9 tokens/,
  );
  assert.throws(
    () => make([{ chosen: [2, 3], rejected: [2, 3] }]),
    /all 1 training pairs have identical/,
  );
  model.dispose();
});

Deno.test("tokenRewardFunction: the reward at each text's last token; saved and loaded under trlX's names", async () => {
  const model = tinyModel(5);
  model.eval();
  const tokenizer = {
    encode: (text: string) => text.split(" ").filter(Boolean).map(Number),
    eosTokenId: EOS,
    padTokenId: PAD,
  };
  const fn = tokenRewardFunction(model, tokenizer, { prefix: "", maxLength: 6 });
  const texts = ["5 6 7", "5 6 7 8 9 10 11"];
  const scores = await fn(texts);
  const alone = rowRewards(model, [5, 6, 7], 4);
  assert.ok(Math.abs(scores[0] - alone[2]) < 1e-5);
  // Cut to maxLength 6 with no room for the EOS: read at position 5.
  const cut = noGrad(() =>
    tidy(() =>
      Array.from(
        model.forward({
          inputIds: tensor([5, 6, 7, 8, 9, 10], [1, 6]),
          attentionMask: tensor([1, 1, 1, 1, 1, 1], [1, 6]),
        }).rewards.toArraySync(),
      )
    )
  );
  assert.ok(Math.abs(scores[1] - cut[5]) < 1e-5);
  const dir = await Deno.makeTempDir();
  try {
    await model.save(dir);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.deepEqual(config.architectures, ["GPTRewardModel"]);
    const loaded = await loadGpt2TokenRewardModel(dir, { backend: "cpu", log: () => {} });
    assert.deepEqual(
      await tokenRewardFunction(loaded, tokenizer, { prefix: "", maxLength: 6 })(texts),
      scores,
    );
    assert.ok(loaded.stateDict().has("v_head.weight"));
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
    model.dispose();
  }
});
