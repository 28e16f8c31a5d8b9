// RewardTrainer: a tiny bag-of-embeddings reward model learns to rank SYNTHETIC positive reviews
// over negative ones; the loss matches Bradley–Terry by hand; resume; reward function wrapper.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import {
  div,
  Generator,
  logSigmoid,
  manualSeed,
  memory,
  mul,
  nn,
  optim,
  sum,
  type Tensor,
  tensor,
  unsqueeze,
} from "../../core/mod.ts";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../../data/mod.ts";
import {
  rewardModelFunction,
  type RewardPair,
  RewardTrainer,
  type ScalarRewardModel,
  tokenizeRewardPairs,
} from "../../reward/mod.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
import { fixtureDir as bertFixture } from "../models/bert_fixtures.ts";
import { crashAfterSteps } from "./tiny_lms.ts";

const tokenizer = new SyntheticWordTokenizer();

/** Mean of the token embeddings under the mask, then a linear score. */
class BagOfEmbeddings extends nn.Module implements ScalarRewardModel {
  readonly emb: nn.Embedding;
  readonly head: nn.Linear;
  calls: number[][] = [];

  constructor(seed: number, backend = "cpu", dim = 16) {
    super();
    const g = new Generator(seed);
    this.emb = this.registerModule(
      "emb",
      new nn.Embedding(tokenizer.vocabSize, dim, { generator: g, backend }),
    );
    this.head = this.registerModule("head", new nn.Linear(dim, 1, { generator: g, backend }));
  }

  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor } {
    this.calls.push([...inputs.inputIds.shape]);
    const mask = unsqueeze(inputs.attentionMask, -1);
    const pooled = div(
      sum(mul(this.emb.forward(inputs.inputIds), mask), { axis: 1 }),
      sum(mask, { axis: 1 }),
    );
    return { logits: this.head.forward(pooled) };
  }
}

/** Positive review preferred over a negative one, from the SYNTHETIC corpus. */
function reviewPairs(count: number, seed: number): RewardPair[] {
  const reviews = generateSyntheticReviews(4 * count, { seed }).toArray();
  const pos = reviews.filter((r) => r.label === 1), neg = reviews.filter((r) => r.label === 0);
  const texts = Array.from({ length: count }, (_, i) => ({
    chosen: pos[i].text,
    rejected: neg[i].text,
  }));
  return tokenizeRewardPairs(texts, tokenizer, { appendEos: true });
}

Deno.test("RewardTrainer learns to rank positive over negative SYNTHETIC reviews", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = reviewPairs(256, 1), heldOut = reviewPairs(128, 2);
    const model = new BagOfEmbeddings(0);
    const trainer = new RewardTrainer({
      learningRate: 0.03,
      batchSize: 16,
      maxSteps: 100,
      loggingSteps: 25,
      evalSteps: 50,
      outputDir: dir,
      seed: 1,
    }, { model, trainDataset: train, evalDataset: heldOut, tokenizer });
    const before = await trainer.evaluate(heldOut);
    const started = performance.now();
    await trainer.train();
    const seconds = (performance.now() - started) / 1000;
    const after = await trainer.evaluate(heldOut);
    console.log(
      `reward model held-out accuracy ${before.accuracy.toFixed(3)} -> ${
        after.accuracy.toFixed(3)
      }, loss ${before.loss.toFixed(3)} -> ${after.loss.toFixed(3)} in ${seconds.toFixed(2)} s`,
    );
    // Stated margins: near chance before, >= 0.85 held-out accuracy after 100 steps.
    assert.ok(before.accuracy <= 0.7, `before: ${before.accuracy}`);
    assert.ok(after.accuracy >= 0.85, `after: ${after.accuracy}`);
    assert.ok(after.margin > before.margin + 1);
    assert.ok(after.loss < 0.5 * before.loss);

    // Every training forward held chosen and rejected rows together: 2 × 16 rows.
    assert.ok(
      model.calls.length > 100 && model.calls.every(([rows]) => rows === 32 || rows <= 2 * 128),
    );
    const lines = await readMetrics(dir);
    assert.deepEqual(lines.filter((l) => "train/loss" in l).map((l) => l.step), [25, 50, 75, 100]);
    const evals = lines.filter((l) => "eval/accuracy" in l);
    assert.deepEqual(evals.map((l) => l.step), [50, 100]);
    assert.equal(evals[1]["eval/accuracy"], after.accuracy);
    for (const key of ["train/accuracy", "train/margin", "train/mean_reward", "train/grad_norm"]) {
      assert.ok(key in lines[0], key);
    }

    // The trained model as a reward function ranks fresh texts the same way.
    const reward = rewardModelFunction(model, tokenizer, { batchSize: 5, appendEos: true });
    const probe = generateSyntheticReviews(40, { seed: 9 }).toArray();
    const scores = await reward(probe.map((r) => r.text));
    assert.equal(scores.length, 40);
    const avg = (label: number) => {
      const s = scores.filter((_, i) => probe[i].label === label);
      return s.reduce((a, b) => a + b, 0) / s.length;
    };
    assert.ok(avg(1) > avg(0) + 1, `positive ${avg(1)} vs negative ${avg(0)}`);
    // Batching and padding do not change a text's score.
    const alone = await reward([probe[3].text]);
    assert.ok(Math.abs(alone[0] - scores[3]) < 1e-5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the trainer's loss is Bradley–Terry with margins and centring, by hand", async () => {
  const model = new BagOfEmbeddings(3, "cpu64", 4);
  const pairs: RewardPair[] = [
    { chosen: [5, 6, 7], rejected: [8, 9], margin: 0.5 },
    { chosen: [10], rejected: [11, 12, 13, 14], margin: -0.25 },
    { chosen: [15, 16], rejected: [17], margin: 1 },
  ];
  const trainer = new RewardTrainer(
    { centerRewardsCoefficient: 0.1, evalBatchSize: 2, maxSteps: 1 },
    { model, trainDataset: pairs },
  );
  const score = (ids: number[]) =>
    model.forward({
      inputIds: tensor(ids, [1, ids.length], { backend: "cpu64" }),
      attentionMask: tensor(ids.map(() => 1), [1, ids.length], { backend: "cpu64" }),
    }).logits.toFloat64ArraySync()[0];
  const rc = pairs.map((p) => score(p.chosen)), rr = pairs.map((p) => score(p.rejected));
  const lsig = (v: number) =>
    logSigmoid(tensor([v], [1], { backend: "cpu64" })).toFloat64ArraySync()[0];
  // evalBatchSize 2: batches [0, 1] and [2]; the loss is the per-pair average either way only
  // for the log-sigmoid part, the centring term is a per-batch mean.
  const batchLoss = (ix: number[]) => {
    const bt = -ix.reduce((s, i) => s + lsig(rc[i] - rr[i] - pairs[i].margin!), 0) / ix.length;
    const center = ix.reduce((s, i) => s + (rc[i] + rr[i]) ** 2, 0) / ix.length;
    return bt + 0.1 * center;
  };
  const expected = (batchLoss([0, 1]) * 2 + batchLoss([2])) / 3;
  const got = await trainer.evaluate(pairs);
  assert.ok(Math.abs(got.loss - expected) < 1e-6, `${got.loss} vs ${expected}`);
  const acc = rc.filter((c, i) => c > rr[i]).length / 3;
  assert.ok(Math.abs(got.accuracy - acc) < 1e-12);
  const margin = rc.reduce((s, c, i) => s + c - rr[i], 0) / 3;
  assert.ok(Math.abs(got.margin - margin) < 1e-6);

  // A tie counts as wrong (strict >).
  const tie = await trainer.evaluate([{ chosen: [5, 6], rejected: [6, 5], margin: 0 }]);
  assert.equal(tie.accuracy, 0);
});

Deno.test("RewardTrainer resumes exactly from its checkpoint (cpu64)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = reviewPairs(24, 5);
    const args = { learningRate: 0.02, batchSize: 4, maxSteps: 8, seed: 2 };
    const straight = new BagOfEmbeddings(1, "cpu64", 4);
    await new RewardTrainer(args, { model: straight, trainDataset: train }).train();

    // A run that dies after its step-4 checkpoint (the optimizer refuses the fifth step).
    const four = { ...args, saveSteps: 4, outputDir: dir };
    const first = new RewardTrainer(four, {
      model: new BagOfEmbeddings(1, "cpu64", 4),
      trainDataset: train,
    });
    crashAfterSteps(first.optimizer, 4);
    await assert.rejects(() => first.train(), /simulated crash/);

    const resumedModel = new BagOfEmbeddings(42, "cpu64", 4);
    await new RewardTrainer(four, { model: resumedModel, trainDataset: train })
      .train({ resumeFrom: join(dir, "checkpoint") });
    const flat = (m: BagOfEmbeddings) => m.parameters().flatMap((p) => [...p.toFloat64ArraySync()]);
    const a = flat(resumedModel), b = flat(straight);
    const d = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(d <= 1e-7, `resumed run differs by ${d}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RewardTrainer names bad pairs and settings", () => {
  const model = new BagOfEmbeddings(0);
  const ok = { chosen: [4, 5], rejected: [6] };
  assert.throws(
    () => new RewardTrainer({}, { model, trainDataset: [ok, { chosen: [], rejected: [3] }] }),
    /trainDataset pair 1 chosen is empty/,
  );
  // As TRL, a pair with a side longer than maxLength is filtered out, and counted.
  const lines: string[] = [];
  const sink = { isTerminal: () => false, write: (t: string) => void lines.push(t) };
  const filtered = new RewardTrainer({ maxLength: 2 }, {
    model,
    trainDataset: [ok, { chosen: [1, 2, 3], rejected: [3] }],
    progressSink: sink,
  });
  assert.deepEqual(
    [filtered.dataReports[0].kept, filtered.dataReports[0].dropped, filtered.dataReports[0].causes],
    [1, 1, { "dropped: a side longer than maxLength 2": 1 }],
  );
  assert.deepEqual(lines, [
    "RewardTrainer: trainDataset: 2 rows (ids): none truncated, 1 dropped (a side longer than " +
    "maxLength 2: 1)\n",
  ]);
  assert.throws(
    () =>
      new RewardTrainer({ maxLength: 2 }, {
        model,
        trainDataset: [{ chosen: [1, 2, 3], rejected: [3] }],
      }),
    /trainDataset: all 1 rows were dropped \(.*a side longer than maxLength 2: 1\)/,
  );
  assert.throws(
    () => new RewardTrainer({}, { model, trainDataset: [{ ...ok, margin: 1 }, ok] }),
    /pair 0 has a margin but pair 1 does not/,
  );
  assert.throws(
    () => new RewardTrainer({}, { model, trainDataset: [{ chosen: [1.5], rejected: [2] }] }),
    /pair 0 chosen: token 0 is 1.5/,
  );
  assert.throws(
    () => new RewardTrainer({ centerRewardsCoefficient: -1 }, { model, trainDataset: [ok] }),
    /centerRewardsCoefficient must be a number >= 0, or null, got -1/,
  );
});

Deno.test("RewardTrainer steps and evaluation leave no tensors behind", async () => {
  const pairs = reviewPairs(16, 8);
  const trainer = new RewardTrainer(
    { learningRate: 0.01, batchSize: 4, maxSteps: 2, centerRewardsCoefficient: 0.01 },
    { model: new BagOfEmbeddings(2), trainDataset: pairs, evalDataset: pairs },
  );
  await trainer.train();
  await trainer.evaluate();
  const before = memory();
  (trainer.args as { maxSteps: number }).maxSteps = 5;
  await trainer.train();
  await trainer.evaluate();
  assert.deepEqual(memory(), before);
});

Deno.test("RewardTrainer: gradient_checkpointing gives the plain step's loss and gradients", async () => {
  // distilbert-a (dropout 0.1 in its blocks) as a one-label reward model, in training mode.
  const model = await loadSequenceClassifier(bertFixture("distilbert-a"), {
    numLabels: 1,
    log: () => {},
  });
  const pairs: RewardPair[] = [
    { chosen: [5, 6, 7, 8], rejected: [9, 10] },
    { chosen: [11, 12], rejected: [13, 14, 15, 16, 17] },
    { chosen: [18, 19, 20], rejected: [21] },
  ];
  const step = async (gradientCheckpointing: boolean) => {
    manualSeed(5);
    for (const g of nn.dropoutGenerators(model)) g.seed(6);
    // lr 0: the weights stay as they are, and the step's gradients are read before they go.
    const optimizer = new optim.SGD(model.parameters(), { lr: 0 });
    const grads: Float32Array[] = [];
    const update = optimizer.step.bind(optimizer);
    optimizer.step = () => {
      for (const p of model.parameters()) grads.push(p.grad!.toArraySync());
      update();
    };
    const trainer = new RewardTrainer(
      {
        gradient_checkpointing: gradientCheckpointing,
        max_steps: 1,
        batchSize: 3,
        maxGradNorm: null,
      },
      { model, trainDataset: pairs, optimizer },
    );
    const blocks = model.namedModules().filter(([, m]) => m.gradientCheckpointing).length;
    const { trainingLoss } = await trainer.train();
    model.gradientCheckpointingEnable(false);
    return { trainingLoss, grads, blocks };
  };
  const plain = await step(false), checked = await step(true);
  assert.equal(plain.blocks, 0);
  assert.ok(checked.blocks > 2, `${checked.blocks} modules switched on`);
  assert.ok(Number.isFinite(plain.trainingLoss));
  assert.equal(checked.trainingLoss, plain.trainingLoss);
  assert.equal(checked.grads.length, model.parameters().length);
  assert.ok(plain.grads.some((g) => g.some((v) => v !== 0)));
  plain.grads.forEach((g, i) => assert.deepEqual(checked.grads[i], g, `gradient ${i}`));
  model.dispose();
});
