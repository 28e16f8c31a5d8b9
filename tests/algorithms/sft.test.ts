// SFTTrainer: a tiny causal LM learns SYNTHETIC review text; completion-only masking checked
// exactly on a hand example; packing; resume; errors.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import {
  type CausalLM,
  IGNORE_INDEX,
  packRows,
  SFTTrainer,
  tokenizeSftExamples,
  toLmRows,
} from "../../algorithms/sft/mod.ts";
import { Generator, memory, nn, optim, softmax, type Tensor, tensor } from "../../core/mod.ts";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../../data/mod.ts";
import { BigramLM, crashAfterSteps } from "./tiny_lms.ts";

const tokenizer = new SyntheticWordTokenizer();

/** The SFT tests' bigram model is wider (32) than the helper's default. */
const sftLM = (seed: number, backend = "cpu", dim = 32) => new BigramLM(seed, backend, dim);

/** Logits are a free parameter per position: the gradient reaching each position is visible. */
class PositionTable extends nn.Module implements CausalLM {
  readonly table: Tensor;
  constructor(length: number, vocab: number, seed: number) {
    super();
    const g = new Generator(seed);
    this.table = this.registerParameter(
      "table",
      tensor(g.normal(length * vocab), [1, length, vocab], { backend: "cpu64" }),
    );
  }
  forward(): { logits: Tensor } {
    return { logits: this.table };
  }
}

function reviewTexts(count: number, seed: number) {
  return tokenizeSftExamples(
    generateSyntheticReviews(count, { seed }).toArray().map((r) => ({ text: r.text })),
    tokenizer,
  );
}

Deno.test("SFTTrainer: a tiny causal LM's held-out loss on SYNTHETIC reviews falls by >= 30%", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = reviewTexts(400, 1), heldOut = reviewTexts(100, 2);
    const trainer = new SFTTrainer({
      learningRate: 0.02,
      batchSize: 16,
      maxSteps: 80,
      loggingSteps: 20,
      evalSteps: 40,
      outputDir: dir,
      seed: 0,
    }, { model: sftLM(0), trainDataset: train, evalDataset: heldOut, tokenizer });
    const before = await trainer.evaluate();
    const started = performance.now();
    await trainer.train();
    const seconds = (performance.now() - started) / 1000;
    const after = await trainer.evaluate();
    console.log(
      `SFT held-out loss ${before.loss.toFixed(3)} -> ${after.loss.toFixed(3)} (perplexity ` +
        `${before.perplexity.toFixed(1)} -> ${after.perplexity.toFixed(1)}) in ${
          seconds.toFixed(2)
        } s`,
    );
    assert.ok(after.loss <= 0.7 * before.loss, `${before.loss} -> ${after.loss}`);
    assert.ok(Math.abs(after.perplexity - Math.exp(after.loss)) < 1e-9);
    const lines = await readMetrics(dir);
    const evals = lines.filter((l) => "eval/loss" in l);
    assert.deepEqual(evals.map((l) => l.step), [40, 80]);
    assert.equal(evals[1]["eval/loss"], after.loss);
    assert.equal(evals[1]["eval/perplexity"], after.perplexity);
    const trains = lines.filter((l) => "train/loss" in l);
    assert.deepEqual(trains.map((l) => l.step), [20, 40, 60, 80]);
    assert.ok((trains[3]["train/loss"] as number) < (trains[0]["train/loss"] as number));
    assert.ok("train/learning_rate" in trains[0] && "train/mean_token_accuracy" in trains[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** One SGD step of lr 1 through the trainer; returns the change of the logits table. */
async function oneStepDelta(
  example: { prompt: number[]; completion: number[] },
  onlyCompletion: boolean,
) {
  const L = example.prompt.length + example.completion.length, V = 6;
  const model = new PositionTable(L, V, 4);
  const start = model.table.toFloat64ArraySync();
  const trainer = new SFTTrainer(
    { maxSteps: 1, batchSize: 1, maxGradNorm: null, completionOnlyLoss: onlyCompletion },
    {
      model,
      trainDataset: [example],
      optimizer: new optim.SGD(model.parameters(), { lr: 1 }),
      scheduler: {
        step() {},
        stateDict: () => ({ lastStep: 0, baseLrs: [1] }),
        loadStateDict() {},
      },
    },
  );
  await trainer.train();
  const end = model.table.toFloat64ArraySync();
  const p = softmax(tensor(start, [L, V], { backend: "cpu64" })).toFloat64ArraySync();
  return { delta: end.map((v, i) => v - start[i]), p, L, V };
}

Deno.test("completion-only loss: prompt positions get exactly no gradient (hand example)", async () => {
  // ids = [3, 1, 4 | 5, 2]: position t predicts ids[t + 1].
  const example = { prompt: [3, 1, 4], completion: [5, 2] };
  const ids = [...example.prompt, ...example.completion];
  const { delta, p, L, V } = await oneStepDelta(example, true);
  // Only positions 2 (predicts 5) and 3 (predicts 2) are trained; the mean is over 2 tokens.
  for (let t = 0; t < L; t++) {
    for (let v = 0; v < V; v++) {
      const trained = t === 2 || t === 3;
      const expected = trained ? -(p[t * V + v] - (v === ids[t + 1] ? 1 : 0)) / 2 : 0;
      assert.ok(
        Math.abs(delta[t * V + v] - expected) < 1e-12,
        `position ${t}, token ${v}: ${delta[t * V + v]} vs ${expected}`,
      );
    }
  }
  // The same example trained on the whole text moves every position with a next token.
  const whole = await oneStepDelta(example, false);
  for (let t = 0; t < L; t++) {
    const moved = whole.delta.slice(t * V, (t + 1) * V).some((d) => d !== 0);
    assert.equal(moved, t < L - 1, `position ${t}`);
    if (t < L - 1) {
      const v = ids[t + 1];
      assert.ok(Math.abs(whole.delta[t * V + v] - (1 - whole.p[t * V + v]) / 4) < 1e-12);
    }
  }
  const rows = toLmRows("x", [example], { maxLength: null, completionOnlyLoss: true });
  assert.deepEqual(rows[0].labels, [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 5, 2]);
});

Deno.test("packing concatenates rows into blocks and keeps their labels", async () => {
  const rows = toLmRows("x", [
    { prompt: [7, 8], completion: [9] },
    { inputIds: [4, 5, 6] },
    { prompt: [10, 11, 12, 13], completion: [14] },
  ], { maxLength: null, completionOnlyLoss: true });
  const blocks = packRows(rows, 4);
  const M = IGNORE_INDEX;
  assert.deepEqual(blocks, [
    { ids: [7, 8, 9, 4], labels: [M, M, 9, 4] },
    { ids: [5, 6, 10, 11], labels: [5, 6, M, M] },
    { ids: [12, 13, 14], labels: [M, M, 14] },
  ]);
  // In blocks of 3, [10, 11, 12] holds prompt tokens only (no target): it is dropped.
  assert.deepEqual(packRows(rows, 3).map((b) => b.ids), [[7, 8, 9], [4, 5, 6], [13, 14]]);

  // A packed run trains: blocks of 32 tokens, held-out loss down by >= 30% as well.
  const train = reviewTexts(300, 3), heldOut = reviewTexts(60, 4);
  const trainer = new SFTTrainer(
    { learningRate: 0.02, batchSize: 8, maxSteps: 60, packing: true, maxLength: 32 },
    { model: sftLM(1), trainDataset: train, evalDataset: heldOut, tokenizer },
  );
  const tokens = train.reduce((n, e) => n + ("inputIds" in e ? e.inputIds.length : 0), 0);
  // Every block has targets here (text examples); a last block of one token would have none.
  const expectedBlocks = Math.floor(tokens / 32) + (tokens % 32 >= 2 ? 1 : 0);
  assert.equal(trainer.trainingRows.length, expectedBlocks, `${tokens} tokens`);
  assert.ok(trainer.trainingRows.slice(0, -1).every((r) => r.ids.length === 32));
  const before = await trainer.evaluate();
  await trainer.train();
  const after = await trainer.evaluate();
  assert.ok(after.loss <= 0.7 * before.loss, `${before.loss} -> ${after.loss}`);
});

Deno.test("SFTTrainer resumes exactly from its checkpoint (cpu64)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = reviewTexts(40, 6);
    const args = { learningRate: 0.01, batchSize: 4, maxSteps: 6, seed: 5, maxLength: 24 };
    const straight = sftLM(2, "cpu64", 8);
    await new SFTTrainer(args, { model: straight, trainDataset: train }).train();

    const withSaves = { ...args, saveSteps: 3, outputDir: dir };
    const first = new SFTTrainer(withSaves, {
      model: sftLM(2, "cpu64", 8),
      trainDataset: train,
    });
    crashAfterSteps(first.optimizer, 3);
    await assert.rejects(() => first.train(), /simulated crash/);
    const resumed = sftLM(9, "cpu64", 8);
    const out = await new SFTTrainer(withSaves, { model: resumed, trainDataset: train })
      .train({ resumeFrom: join(dir, "checkpoint") });
    assert.equal(out.globalStep, 6);
    const flat = (m: BigramLM) => m.parameters().flatMap((p) => [...p.toFloat64ArraySync()]);
    const a = flat(resumed), b = flat(straight);
    const d = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(d <= 1e-7, `resumed run differs by ${d}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SFTTrainer names bad examples", () => {
  const model = sftLM(0);
  assert.throws(
    () => new SFTTrainer({}, { model, trainDataset: [{ prompt: [1, 2], completion: [] }] }),
    /trainDataset example 0 has an empty completion/,
  );
  // A row left with nothing to train on after truncation is dropped and counted (TRL keeps it
  // and takes no loss from it).
  const cut = new SFTTrainer({ maxLength: 3 }, {
    model,
    trainDataset: [{ inputIds: [1, 2] }, { prompt: [1, 2, 3, 4], completion: [5] }],
    progressSink: { isTerminal: () => false, write: () => {} },
  });
  assert.deepEqual([cut.trainingRows.length, cut.dataReports[0].causes], [1, {
    "dropped: no completion token within maxLength 3": 1,
  }]);
  assert.throws(
    () =>
      new SFTTrainer({ maxLength: 3 }, {
        model,
        trainDataset: [{ prompt: [1, 2, 3, 4], completion: [5] }],
      }),
    /trainDataset: all 1 rows were dropped \(.*no completion token within maxLength 3: 1\)/,
  );
  assert.throws(
    () => new SFTTrainer({}, { model, trainDataset: [{ text: "raw" }] }),
    /trainDataset: the rows are text, so the trainer needs a tokenizer: pass parts.tokenizer/,
  );
  assert.throws(
    () => new SFTTrainer({}, { model, trainDataset: [{ txt: "raw" }], tokenizer }),
    /example 0 must be \{ text \}, \{ prompt, completion \}, \{ messages \} or token ids .*got keys txt/,
  );
  assert.throws(
    () =>
      new SFTTrainer({ packing: true, maxLength: null }, {
        model,
        trainDataset: [{ inputIds: [1, 2] }],
      }),
    /packing needs maxLength/,
  );
});

Deno.test("SFTTrainer steps and evaluation leave no tensors behind", async () => {
  const rows = reviewTexts(16, 8);
  const trainer = new SFTTrainer(
    { learningRate: 0.01, batchSize: 4, maxSteps: 2, packing: true, maxLength: 16 },
    { model: sftLM(2), trainDataset: rows, evalDataset: rows },
  );
  await trainer.train();
  await trainer.evaluate();
  const before = memory();
  (trainer.args as { maxSteps: number }).maxSteps = 5;
  await trainer.train();
  await trainer.evaluate();
  assert.deepEqual(memory(), before);
});
