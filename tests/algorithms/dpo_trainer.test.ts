// DPOTrainer: a tiny causal LM learns to prefer positive SYNTHETIC review completions; the three
// reference modes agree; one step moves chosen log-probs up relative to rejected; resume; errors.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import {
  type DpoLossType,
  type DpoPairRows,
  type DpoPolicy,
  DPOTrainer,
  type PreferenceTriple,
} from "../../algorithms/dpo/mod.ts";
import { add, Generator, memory, nn, optim, type Tensor } from "../../core/mod.ts";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../../data/mod.ts";
import { BigramLM, crashAfterSteps } from "./tiny_lms.ts";

const tokenizer = new SyntheticWordTokenizer();
const V = tokenizer.vocabSize;

/** A frozen bigram base with a LoRA-style adapter (B starts at zero) that can be switched off. */
class AdapterLM extends nn.Module implements DpoPolicy {
  readonly base: BigramLM;
  readonly loraA: nn.Linear;
  readonly loraB: nn.Linear;
  #adapters = true;

  constructor(seed: number, backend = "cpu64", dim = 16, rank = 4) {
    super();
    this.base = this.registerModule("base", new BigramLM(seed, backend, dim));
    for (const p of this.base.parameters()) p.requiresGrad = false;
    const g = new Generator(seed + 1000);
    this.loraA = this.registerModule(
      "loraA",
      new nn.Linear(dim, rank, { bias: false, generator: g, backend }),
    );
    this.loraB = this.registerModule(
      "loraB",
      new nn.Linear(rank, V, { bias: false, generator: g, backend }),
    );
    this.loraB.weight.backend.write(
      this.loraB.weight.storage.handle,
      new Float64Array(V * rank),
      0,
    );
  }

  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor } {
    const h = this.base.wte.forward(inputs.inputIds);
    const logits = this.base.head.forward(h);
    return {
      logits: this.#adapters ? add(logits, this.loraB.forward(this.loraA.forward(h))) : logits,
    };
  }

  withAdaptersDisabled<T>(fn: () => T): T {
    this.#adapters = false;
    try {
      return fn();
    } finally {
      this.#adapters = true;
    }
  }
}

/** Prompt BOS; a positive review preferred over a negative one (SYNTHETIC corpus). */
function triples(count: number, seed: number): PreferenceTriple[] {
  const reviews = generateSyntheticReviews(4 * count, { seed }).toArray();
  const pos = reviews.filter((r) => r.label === 1), neg = reviews.filter((r) => r.label === 0);
  return Array.from({ length: count }, (_, i) => ({
    prompt: [tokenizer.bosTokenId],
    chosen: tokenizer.encode(pos[i].text, { addEos: true }),
    rejected: tokenizer.encode(neg[i].text, { addEos: true }),
  }));
}

const flat = (m: nn.Module) => m.parameters().flatMap((p) => [...p.toFloat64ArraySync()]);
const maxDiff = (a: number[], b: number[]) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

Deno.test("DPOTrainer raises held-out implicit-reward accuracy on SYNTHETIC preferences", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = triples(160, 1), heldOut = triples(80, 2);
    const trainer = new DPOTrainer({
      beta: 0.1,
      learningRate: 0.01,
      batchSize: 8,
      maxSteps: 40,
      loggingSteps: 10,
      evalSteps: 20,
      outputDir: dir,
      seed: 0,
    }, {
      model: new BigramLM(0),
      refModel: new BigramLM(0),
      trainDataset: train,
      evalDataset: heldOut,
      tokenizer,
    });
    const before = await trainer.evaluate();
    const started = performance.now();
    await trainer.train();
    const seconds = (performance.now() - started) / 1000;
    const after = await trainer.evaluate();
    console.log(
      `DPO held-out rewards/accuracies ${before["rewards/accuracies"].toFixed(3)} -> ${
        after["rewards/accuracies"].toFixed(3)
      }, margins ${before["rewards/margins"].toFixed(3)} -> ${
        after["rewards/margins"].toFixed(3)
      }, loss ${before.loss.toFixed(3)} -> ${after.loss.toFixed(3)} in ${seconds.toFixed(2)} s`,
    );
    // The policy starts equal to its reference: every implicit reward is 0, a tie, counted wrong.
    assert.equal(before["rewards/accuracies"], 0);
    assert.ok(Math.abs(before.loss - Math.log(2)) < 1e-6);
    assert.ok(after["rewards/accuracies"] >= 0.8, `after: ${after["rewards/accuracies"]}`);
    assert.ok(after["rewards/margins"] > 0.5);
    assert.ok(
      after["logps/chosen"] - after["logps/rejected"] >
        before["logps/chosen"] - before["logps/rejected"],
    );

    const lines = await readMetrics(dir);
    const trainLines = lines.filter((l) => "train/loss" in l);
    assert.deepEqual(trainLines.map((l) => l.step), [10, 20, 30, 40]);
    for (
      const name of [
        "rewards/chosen",
        "rewards/rejected",
        "rewards/accuracies",
        "rewards/margins",
        "logps/chosen",
        "logps/rejected",
      ]
    ) {
      assert.ok(`train/${name}` in trainLines[0], name);
    }
    const evals = lines.filter((l) => "eval/rewards/accuracies" in l);
    assert.deepEqual(evals.map((l) => l.step), [20, 40]);
    assert.equal(evals[1]["eval/rewards/accuracies"], after["rewards/accuracies"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reference as a separate model, precomputed once, or adapters off: same training (cpu64)", async () => {
  const train = triples(12, 3);
  const args = { beta: 0.2, learningRate: 0.01, batchSize: 4, maxSteps: 4, seed: 1 };

  const withRef = new BigramLM(5, "cpu64");
  await new DPOTrainer(args, {
    model: withRef,
    refModel: new BigramLM(5, "cpu64"),
    trainDataset: train,
  })
    .train();
  const precomputed = new BigramLM(5, "cpu64");
  await new DPOTrainer({ ...args, precomputeRefLogps: true }, {
    model: precomputed,
    trainDataset: train,
  })
    .train();
  assert.ok(maxDiff(flat(withRef), flat(precomputed)) < 1e-12);
  assert.ok(maxDiff(flat(withRef), flat(new BigramLM(5, "cpu64"))) > 1e-3);

  const adapters = new AdapterLM(6);
  await new DPOTrainer(args, { model: adapters, trainDataset: train }).train();
  const adaptersRef = new AdapterLM(6);
  await new DPOTrainer(args, {
    model: adaptersRef,
    refModel: new AdapterLM(6),
    trainDataset: train,
  })
    .train();
  const adaptersPre = new AdapterLM(6);
  await new DPOTrainer({ ...args, precomputeRefLogps: true }, {
    model: adaptersPre,
    trainDataset: train,
  })
    .train();
  // The adapters on a separate handle (as applyLora returns them), the policy without the method.
  const handle = new AdapterLM(6);
  const bare = {
    forward: handle.forward.bind(handle),
    parameters: () => handle.parameters(),
    stateDict: () => handle.stateDict(),
    loadStateDict: handle.loadStateDict.bind(handle),
  };
  await new DPOTrainer(args, { model: bare, adapters: handle, trainDataset: train }).train();
  assert.ok(maxDiff(flat(adapters), flat(handle)) < 1e-12);
  assert.ok(maxDiff(flat(adapters), flat(adaptersRef)) < 1e-12);
  assert.ok(maxDiff(flat(adapters), flat(adaptersPre)) < 1e-12);
  // Only the adapter trained; the frozen base is untouched.
  assert.equal(maxDiff(flat(adapters.base), flat(new BigramLM(6, "cpu64"))), 0);
  assert.ok(maxDiff(flat(adapters), flat(new AdapterLM(6))) > 1e-4);
});

Deno.test("one step raises chosen log-prob relative to rejected for the h-only losses (cpu64)", async () => {
  const pair = triples(1, 4);
  // These losses depend on h = (log π_c − log π_r) − (ref terms) alone, so a small gradient step
  // moves log π_c − log π_r against dL/dh. At h = 0 that slope is negative for all but discopop:
  // its weight σ(h/τ) rises so steeply (τ = 0.05) that dL/dh = β·(4.5 − 5·ln 2 − 0.25) ≈ +0.078
  // there, and one step lowers the gap while still lowering the loss.
  const types: DpoLossType[] = ["sigmoid", "hinge", "ipo", "robust", "exo_pair", "aot", "discopop"];
  for (const lossType of types) {
    const model = new BigramLM(7, "cpu64");
    const trainer = new DPOTrainer({
      lossType,
      beta: 0.1,
      labelSmoothing: lossType === "robust" ? 0.1 : 0,
      maxSteps: 1,
      batchSize: 1,
      maxGradNorm: null,
    }, {
      model,
      refModel: new BigramLM(7, "cpu64"),
      trainDataset: pair,
      optimizer: new optim.SGD(model.parameters(), { lr: 1e-3 }),
    });
    const before = await trainer.evaluate(pair);
    await trainer.train();
    const after = await trainer.evaluate(pair);
    const gap = (m: Record<string, number>) => m["logps/chosen"] - m["logps/rejected"];
    const rises = lossType !== "discopop";
    assert.equal(gap(after) > gap(before), rises, `${lossType}: ${gap(before)} -> ${gap(after)}`);
    assert.equal(after["rewards/margins"] > 0, rises, `${lossType}: ${after["rewards/margins"]}`);
    assert.ok(after.loss < before.loss, `${lossType}: loss ${before.loss} -> ${after.loss}`);
  }
});

Deno.test("DPOTrainer resumes exactly, with precomputed reference log-probs from the checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = triples(16, 5);
    const args = {
      beta: 0.1,
      learningRate: 0.01,
      batchSize: 4,
      maxSteps: 6,
      seed: 2,
      precomputeRefLogps: true,
    };
    const straight = new BigramLM(8, "cpu64");
    await new DPOTrainer(args, { model: straight, trainDataset: train }).train();

    const withSaves = { ...args, saveSteps: 3, outputDir: dir };
    const first = new DPOTrainer(withSaves, {
      model: new BigramLM(8, "cpu64"),
      trainDataset: train,
    });
    crashAfterSteps(first.optimizer, 3);
    await assert.rejects(() => first.train(), /simulated crash/);
    // A fresh policy with other weights: its own log-probs must not become the reference.
    const resumed = new BigramLM(99, "cpu64");
    await new DPOTrainer(withSaves, { model: resumed, trainDataset: train })
      .train({ resumeFrom: join(dir, "checkpoint") });
    const d = maxDiff(flat(resumed), flat(straight));
    assert.ok(d <= 1e-7, `resumed run differs by ${d}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('DPOTrainer with TRL\'s optim "rmsprop" (a frozen reference model) resumes exactly', async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = triples(16, 6);
    // TRL 0.7.4's dpo.py settings, scaled down: rmsprop, linear warmup then decay.
    const args = {
      beta: 0.1,
      optim: "rmsprop" as const,
      learning_rate: 1e-3,
      per_device_train_batch_size: 4,
      max_steps: 6,
      warmup_steps: 2,
      seed: 3,
    };
    const parts = (model: BigramLM) => ({
      model,
      refModel: new BigramLM(8, "cpu64"),
      trainDataset: train,
    });
    const straight = new BigramLM(8, "cpu64");
    const plain = new DPOTrainer(args, parts(straight));
    assert.ok(plain.optimizer instanceof optim.RMSprop, plain.optimizer.name);
    await plain.train();
    const adam = new BigramLM(8, "cpu64");
    await new DPOTrainer({ ...args, optim: "adamw_torch" }, parts(adam)).train();
    assert.ok(maxDiff(flat(adam), flat(straight)) > 1e-4, "the optimizer must matter");

    const withSaves = { ...args, save_steps: 3, output_dir: dir };
    const first = new DPOTrainer(withSaves, parts(new BigramLM(8, "cpu64")));
    crashAfterSteps(first.optimizer, 3);
    await assert.rejects(() => first.train(), /simulated crash/);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "checkpoint", "checkpoint.json")),
    );
    assert.equal(manifest.step, 3);
    assert.equal(manifest.optimizer.paramGroups[0].alpha, 0.99);
    assert.deepEqual(manifest.optimizer.state[0].buffers, ["squareAvg"]);
    const resumed = new BigramLM(99, "cpu64");
    const second = new DPOTrainer(withSaves, parts(resumed));
    await second.train({ resumeFrom: join(dir, "checkpoint") });
    assert.equal(second.globalStep, 6);
    assert.equal(maxDiff(flat(resumed), flat(straight)), 0, "resumed run differs");
    const sq = (t: DPOTrainer) =>
      t.optimizer.params().flatMap((p) => [
        ...t.optimizer.stateOf(p)!.buffers.squareAvg.toFloat64ArraySync(),
      ]);
    assert.equal(maxDiff(sq(second), sq(plain)), 0, "squared-gradient averages differ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DPOTrainer names bad triples and missing references", () => {
  const model = new BigramLM(0), refModel = new BigramLM(0);
  const ok = { prompt: [1, 5], chosen: [7, 8], rejected: [9] };
  const make = (t: PreferenceTriple[], extra = {}) =>
    new DPOTrainer({ ...extra }, { model, refModel, trainDataset: t });
  assert.throws(
    () => make([{ prompt: [1], chosen: [], rejected: [3] }]),
    /pair 0: the chosen completion is empty/,
  );
  assert.throws(
    () => make([{ prompt: [], chosen: [2], rejected: [3] }]),
    /pair 0: the prompt is empty/,
  );
  assert.throws(
    () => make([{ prompt: [1], chosen: [2.5], rejected: [3] }]),
    /pair 0 chosen: token 0 is 2.5/,
  );
  assert.throws(
    () => new DPOTrainer({}, { model, trainDataset: [ok] }),
    /no reference: pass refModel .* or precomputeRefLogps: true/,
  );
  assert.throws(
    () => make([ok], { lossType: "kto_pair" }),
    /lossType must be one of sigmoid, hinge, .*, got "kto_pair" \(a string\)/,
  );
  assert.throws(() => make([ok], { beta: 0 }), /beta must be a finite number > 0, got 0/);
  assert.throws(
    () => make([{ prompt: [1], chosen: [4, 5], rejected: [4, 5] }]),
    /trainDataset: all 1 rows were dropped \(.*chosen and rejected identical: 1\)/,
  );
});

Deno.test("DPO rows follow TRL's truncation: prompt from the left, completions from the right, rows by truncationMode", () => {
  const model = new BigramLM(0), refModel = new BigramLM(0);
  const rows = (extra: Record<string, unknown>, t: PreferenceTriple[]) => {
    const trainer = new DPOTrainer(extra, {
      model,
      refModel,
      trainDataset: t,
      progressSink: { isTerminal: () => false, write: () => {} },
    });
    return { pairs: (trainer as unknown as { trainRows: DpoPairRows[] }).trainRows, trainer };
  };
  const long = { prompt: [1, 2, 3, 4, 5, 6], chosen: [7, 8, 9], rejected: [10, 11] };
  // maxPromptLength keeps the prompt's last tokens; maxCompletionLength the completions' first.
  const cut = rows({ max_prompt_length: 2, max_completion_length: 2 }, [long]).pairs[0];
  assert.deepEqual(cut.chosen, { ids: [5, 6, 7, 8], labels: [-100, -100, 7, 8] });
  assert.deepEqual(cut.rejected, { ids: [5, 6, 10, 11], labels: [-100, -100, 10, 11] });
  // keep_end (TRL's default) cuts a long row from the start, keep_start from the end.
  const end = rows({ maxLength: 4 }, [long]).pairs[0];
  assert.deepEqual(end.chosen.ids, [6, 7, 8, 9]);
  assert.deepEqual(end.chosen.labels, [-100, 7, 8, 9]);
  assert.deepEqual(end.rejected.ids, [5, 6, 10, 11]);
  const start = rows({ maxLength: 8, truncationMode: "keep_start" }, [long]).pairs[0];
  assert.deepEqual(start.chosen.ids, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(start.rejected.ids, [1, 2, 3, 4, 5, 6, 10, 11]);
  // A pair left without a completion token, or with identical rows, is dropped and counted.
  const ok = { prompt: [1, 5], chosen: [7, 8], rejected: [9] };
  const twins = { prompt: [1, 2], chosen: [5, 6, 7], rejected: [5, 6, 8] };
  const { pairs, trainer } = rows({ maxLength: 4, truncation_mode: "keep_start" }, [
    ok,
    { prompt: [1, 2, 3, 4], chosen: [5], rejected: [6] },
    twins,
  ]);
  assert.equal(pairs.length, 1);
  assert.deepEqual(trainer.dataReports[0], {
    dataset: "trainDataset",
    format: "ids",
    rows: 3,
    kept: 1,
    truncated: 0,
    dropped: 2,
    causes: {
      "dropped: no chosen token left within maxLength 4": 1,
      "dropped: chosen and rejected identical after truncation": 1,
    },
  });
  assert.equal(trainer.dpoConfig.truncationMode, "keep_start");
});

Deno.test("evaluating new pairs after training without a reference model is refused", async () => {
  const train = triples(8, 6);
  const trainer = new DPOTrainer(
    { precomputeRefLogps: true, maxSteps: 1, batchSize: 4 },
    { model: new BigramLM(1), trainDataset: train },
  );
  await trainer.train();
  await assert.rejects(
    () => trainer.evaluate(triples(4, 7)),
    /were not precomputed, and the policy has been trained for 1 steps/,
  );
});

Deno.test("DPOTrainer steps and evaluation leave no tensors behind, in every reference mode", async () => {
  const rows = triples(8, 9);
  const modes = [
    { parts: { model: new BigramLM(3), refModel: new BigramLM(3) }, config: {} },
    { parts: { model: new BigramLM(3) }, config: { precomputeRefLogps: true } },
    { parts: { model: new AdapterLM(3, "cpu") }, config: { lossType: "aot" as const } },
  ];
  for (const { parts, config } of modes) {
    const trainer = new DPOTrainer(
      { learningRate: 0.01, batchSize: 4, maxSteps: 2, ...config },
      { ...parts, trainDataset: rows, evalDataset: rows },
    );
    await trainer.train();
    await trainer.evaluate();
    const before = memory();
    (trainer.args as { maxSteps: number }).maxSteps = 5;
    await trainer.train();
    await trainer.evaluate();
    assert.deepEqual(memory(), before);
  }
});
