// The shared training loop (on a tiny regression trainer), metrics.jsonl and the progress line.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CHECKPOINT_MANIFEST,
  MetricsWriter,
  type MicroBatchResult,
  NonFiniteLossError,
  Progress,
  type ProgressSink,
  readMetrics,
  type Rows,
  TrainerBase,
  type TrainingArgs,
} from "../../algorithms/common/mod.ts";
import {
  abs,
  Generator,
  mean,
  memory,
  mul,
  nn,
  noGrad,
  square,
  sub,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";

const BACKEND = "cpu64";

interface Point {
  x: number[];
  y: number;
}

function points(n: number, seed: number): Point[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const x = [...g.normal(2)];
    return { x, y: 2 * x[0] - x[1] + 0.5 };
  });
}

class RegressionTrainer extends TrainerBase<Point, nn.Linear> {
  /** The step (1-based) whose loss is made NaN, to exercise the guard. */
  failAt = -1;

  constructor(
    model: nn.Linear,
    args: Partial<TrainingArgs>,
    rows: Rows<Point>,
    evalRows?: Rows<Point>,
  ) {
    super("RegressionTrainer", model, args, rows, evalRows, {});
  }

  #residual(batch: Point[]): Tensor {
    const x = tensor(batch.flatMap((p) => p.x), [batch.length, 2], { backend: BACKEND });
    const y = tensor(batch.map((p) => p.y), [batch.length, 1], { backend: BACKEND });
    return sub(this.model.forward(x), y);
  }

  protected computeLoss(batch: Point[]): MicroBatchResult {
    const r = this.#residual(batch);
    let loss = mean(square(r));
    if (this.globalStep + 1 === this.failAt) loss = mul(loss, NaN);
    return { loss, stats: { mae: noGrad(() => mean(abs(r))) } };
  }

  evaluate(rows: Rows<Point> = this.evalRows!): Promise<Record<string, number>> {
    const all = Array.from({ length: rows.length }, (_, i) => (rows as Point[])[i]);
    const loss = noGrad(() => tidy(() => mean(square(this.#residual(all))).itemSync()));
    return Promise.resolve({ loss });
  }
}

function model(seed = 1) {
  return new nn.Linear(2, 1, { generator: new Generator(seed), backend: BACKEND });
}

function weights(m: nn.Linear): number[] {
  return m.parameters().flatMap((p) => [...p.toFloat64ArraySync()]);
}

function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

const ARGS: Partial<TrainingArgs> = {
  learningRate: 0.05,
  batchSize: 4,
  maxSteps: 10,
  loggingSteps: 1,
  warmupSteps: 2,
  weightDecay: 0.01,
  seed: 3,
};

Deno.test("the loop logs TRL-named metrics per step and evaluates every evalSteps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = points(24, 1), heldOut = points(16, 2);
    const trainer = new RegressionTrainer(
      model(),
      {
        ...ARGS,
        maxSteps: 30,
        loggingSteps: 5,
        evalSteps: 10,
        outputDir: join(dir, "run"),
      },
      train,
      heldOut,
    );
    const before = (await trainer.evaluate()).loss;
    const out = await trainer.train();
    const after = (await trainer.evaluate()).loss;
    assert.equal(out.globalStep, 30);
    assert.ok(after < 0.5 * before, `eval loss ${before} -> ${after}`);
    const lines = await readMetrics(join(dir, "run"));
    const trainLines = lines.filter((l) => "train/loss" in l);
    const evalLines = lines.filter((l) => "eval/loss" in l);
    assert.deepEqual(trainLines.map((l) => l.step), [5, 10, 15, 20, 25, 30]);
    assert.deepEqual(evalLines.map((l) => l.step), [10, 20, 30]);
    assert.deepEqual(Object.keys(trainLines[0]).sort(), [
      "step",
      "train/epoch",
      "train/grad_norm",
      "train/learning_rate",
      "train/loss",
      "train/mae",
    ]);
    // 24 rows in batches of 4: 6 steps per epoch.
    assert.equal(trainLines[1]["train/epoch"], 10 / 6);
    // Linear warmup over 2 steps, then linear decay to 0 at step 30: step 5 ran at lr·(30 − 4)/28.
    assert.ok(Math.abs((trainLines[0]["train/learning_rate"] as number) - 0.05 * 26 / 28) < 1e-12);
    assert.ok(Math.abs((evalLines[2]["eval/loss"] as number) - after) < 1e-12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gradient accumulation of 2 x 2 rows equals batches of 4 (cpu64)", async () => {
  const train = points(16, 4);
  const a = model(), b = model();
  await new RegressionTrainer(a, { ...ARGS, batchSize: 4 }, train).train();
  await new RegressionTrainer(b, { ...ARGS, batchSize: 2, gradientAccumulationSteps: 2 }, train)
    .train();
  assert.ok(maxDiff(weights(a), weights(b)) < 1e-12, `${weights(a)} vs ${weights(b)}`);
  assert.ok(maxDiff(weights(a), weights(model())) > 1e-3);
});

Deno.test("a NaN loss stops training, keeps the last checkpoint, and resume is exact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = points(20, 5);
    const straight = model();
    await new RegressionTrainer(straight, ARGS, train).train();

    const out = join(dir, "run");
    const crashing = new RegressionTrainer(
      model(),
      { ...ARGS, saveSteps: 4, outputDir: out },
      train,
    );
    crashing.failAt = 6;
    const error = await crashing.train().then(() => null, (e) => e);
    assert.ok(error instanceof NonFiniteLossError, String(error));
    assert.equal(error.step, 6);
    assert.match(error.message, /loss is NaN at step 6/);
    assert.match(error.message, /train\/loss=/);
    assert.ok(error.lastStats["train/loss"] > 0);
    // CPU backends read the loss before backward: nothing of step 6 was applied.
    assert.equal(error.afterUpdate, false);
    // The failing step changed nothing: weights are those after step 5.
    assert.equal(crashing.globalStep, 5);

    const resumed = new RegressionTrainer(
      model(99),
      { ...ARGS, saveSteps: 4, outputDir: out },
      train,
    );
    const result = await resumed.train({ resumeFrom: join(out, "checkpoint") });
    assert.equal(result.globalStep, 10);
    const d = maxDiff(weights(resumed.model), weights(straight));
    assert.ok(d <= 1e-7, `resumed differs from the straight run by ${d}`);
    // Step 5 was logged by the crashed run and again after the resume: it appears once.
    const steps = (await readMetrics(out)).map((l) => l.step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    await assert.rejects(
      () =>
        new RegressionTrainer(model(), { ...ARGS, batchSize: 5, outputDir: out }, train)
          .train({ resumeFrom: join(out, "checkpoint") }),
      /cannot resume exactly .*batchSize was 4, now 5/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shouldStop after step 3 of 10 checkpoints step 3; resume reaches the straight run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const train = points(20, 6);
    const straight = model();
    const full = await new RegressionTrainer(straight, ARGS, train).train();
    assert.equal(full.stoppedEarly, false);

    const out = join(dir, "run");
    // saveSteps 4: the only checkpoint a stop at 3 can leave is the one the stop writes.
    const args = { ...ARGS, saveSteps: 4, outputDir: out };
    const asked: number[] = [];
    const stopped = new RegressionTrainer(model(), args, train);
    const first = await stopped.train({
      shouldStop: ({ step, elapsedSeconds }) => {
        asked.push(step);
        assert.ok(elapsedSeconds >= 0 && Number.isFinite(elapsedSeconds), `${elapsedSeconds}`);
        return step >= 3;
      },
    });
    assert.deepEqual(asked, [0, 1, 2, 3], "asked before each step, the stop included");
    assert.equal(first.globalStep, 3);
    assert.equal(first.stoppedEarly, true);
    assert.equal(first.lastStats["train/loss"] > 0, true);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(out, "checkpoint", CHECKPOINT_MANIFEST)),
    );
    assert.equal(manifest.step, 3);
    assert.deepEqual((await readMetrics(out)).map((l) => l.step), [1, 2, 3]);
    assert.ok(maxDiff(weights(stopped.model), weights(straight)) > 1e-3, "3 steps are not 10");

    // Other initial weights: all that carries over is the checkpoint.
    const resumed = new RegressionTrainer(model(99), args, train);
    const rest = await resumed.train({ resumeFrom: join(out, "checkpoint") });
    assert.equal(rest.globalStep, 10);
    assert.equal(rest.stoppedEarly, false);
    const d = maxDiff(weights(resumed.model), weights(straight));
    assert.ok(d <= 1e-7, `resumed differs from the straight run by ${d}`);
    assert.deepEqual((await readMetrics(out)).map((l) => l.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The last step of a run is checkpointed too, so it can be extended.
    const end = JSON.parse(await Deno.readTextFile(join(out, "checkpoint", CHECKPOINT_MANIFEST)));
    assert.equal(end.step, 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stop between logging steps logs the partial window at the stop step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "run");
    const trainer = new RegressionTrainer(
      model(),
      { ...ARGS, loggingSteps: 4, outputDir: out },
      points(20, 6),
    );
    const result = await trainer.train({ shouldStop: ({ step }) => step === 6 });
    assert.equal(result.globalStep, 6);
    const lines = await readMetrics(out);
    assert.deepEqual(lines.map((l) => l.step), [4, 6]);
    // The same run logged every step: the stop's line averages its steps 5 and 6.
    const everyStep = join(dir, "every");
    await new RegressionTrainer(
      model(),
      { ...ARGS, loggingSteps: 1, outputDir: everyStep },
      points(20, 6),
    ).train({ shouldStop: ({ step }) => step === 6 });
    const single = (await readMetrics(everyStep)).map((l) => l["train/loss"] as number);
    const expected = (single[4] + single[5]) / 2;
    assert.ok(Math.abs((lines[1]["train/loss"] as number) - expected) < 1e-12);
    assert.equal(lines[1]["train/epoch"], result.lastStats["train/epoch"]);
    // saveSteps is unset: no checkpoint is written.
    await assert.rejects(() => Deno.stat(join(out, "checkpoint")), Deno.errors.NotFound);

    const none = new RegressionTrainer(model(), ARGS, points(20, 6));
    const zero = await none.train({ shouldStop: () => true });
    assert.deepEqual([zero.globalStep, zero.stoppedEarly], [0, true]);
    assert.ok(Number.isNaN(zero.trainingLoss));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("settings are validated by name", () => {
  const rows = points(4, 1);
  assert.throws(
    () => new RegressionTrainer(model(), { batchSize: 0 }, rows),
    /RegressionTrainer: batchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => new RegressionTrainer(model(), { saveSteps: 5 }, rows),
    /outputDir must be a folder when saveSteps is set/,
  );
  assert.throws(
    () => new RegressionTrainer(model(), { lrSchedulerType: "bogus" as "linear" }, rows),
    /lrSchedulerType must be one of linear, constant/,
  );
  assert.throws(() => new RegressionTrainer(model(), {}, []), /training set is empty/);
});

Deno.test("MetricsWriter appends lines, keeps non-finite values, and trims on resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nested = join(dir, "a", "b");
    const w = await MetricsWriter.open(nested);
    await w.write(1, { "train/loss": 1.5 });
    await w.write(2, { "train/loss": NaN, "eval/loss": Infinity });
    await w.write(3, { "train/loss": 0.25 });
    w.close();
    // A line torn by a crash at the end of the file.
    await Deno.writeTextFile(join(nested, "metrics.jsonl"), '{"step": 4, "tr', { append: true });
    assert.deepEqual((await readMetrics(nested)).slice(0, 2), [
      { step: 1, "train/loss": 1.5 },
      { step: 2, "train/loss": "NaN", "eval/loss": "Infinity" },
    ]);
    const again = await MetricsWriter.open(nested, { resumeStep: 2 });
    await again.write(3, { "train/loss": 0.5 });
    again.close();
    assert.deepEqual((await readMetrics(nested)).map((l) => [l.step, l["train/loss"]]), [
      [1, 1.5],
      [2, "NaN"],
      [3, 0.5],
    ]);
    const w2 = await MetricsWriter.open(join(dir, "x.jsonl"));
    await assert.rejects(() => w2.write(1, { step: 3 }), /"step" is reserved/);
    w2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function fakeSink(terminal: boolean): ProgressSink & { text: string } {
  return {
    text: "",
    isTerminal: () => terminal,
    write(t: string) {
      this.text += t;
    },
  };
}

Deno.test("Progress prints a plain line every N steps in a log, redraws in place on a TTY", () => {
  let clock = 0;
  const log = fakeSink(false);
  const p = new Progress({ label: "sft", total: 5, every: 2, sink: log, now: () => clock });
  for (let s = 1; s <= 5; s++) {
    clock += 1000;
    p.update(s, { loss: 1 / s });
  }
  p.finish();
  const lines = log.text.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(" | ")[0]), [
    "sft step 2/5",
    "sft step 4/5",
    "sft step 5/5",
  ]);
  assert.equal(lines[0], "sft step 2/5 | 1.00 steps/s | ETA 0:03 | loss 0.5000");
  assert.ok(!log.text.includes("\r"));

  const tty = fakeSink(true);
  clock = 0;
  const q = new Progress({ label: "dpo", sink: tty, now: () => clock, redrawMs: 100 });
  q.update(1, { loss: 2 });
  clock += 50;
  q.update(2, { loss: 1 }); // within redrawMs: skipped
  clock += 100;
  q.update(3, { loss: 0.5 });
  q.finish();
  assert.equal(tty.text.split("\r").length - 1, 3);
  assert.ok(tty.text.endsWith("| loss 0.5000\x1b[K\n"), JSON.stringify(tty.text));
  assert.match(tty.text, /\rdpo step 3 \| /);
  assert.ok(!tty.text.includes("step 2 "));
});

Deno.test("training steps and evaluation leave no tensors behind", async () => {
  const trainer = new RegressionTrainer(
    model(),
    { ...ARGS, maxSteps: 2 },
    points(16, 7),
    points(8, 8),
  );
  await trainer.train();
  await trainer.evaluate();
  const before = memory();
  (trainer.args as { maxSteps: number }).maxSteps = 6;
  await trainer.train();
  await trainer.evaluate();
  assert.equal(trainer.globalStep, 6);
  assert.deepEqual(memory(), before);
});

/**
 * A trainer that makes its targets inside the step: `prepareBatch` awaits an asynchronous
 * "labeller" whose noise is drawn from a generator seeded by the step (as an online trainer
 * samples), and `computeLoss` gets the labelled rows.
 */
class LabellingTrainer extends TrainerBase<number[], nn.Linear, Point[]> {
  readonly calls: { indices: number[]; step: number }[] = [];

  constructor(m: nn.Linear, args: Partial<TrainingArgs>, rows: Rows<number[]>) {
    super("LabellingTrainer", m, args, rows, undefined, {});
  }

  protected override async prepareBatch(
    batch: number[][],
    indices: number[],
    step: number,
  ): Promise<Point[]> {
    this.calls.push({ indices, step });
    await new Promise((resolve) => setTimeout(resolve, 1));
    const noise = new Generator(1000 + step).normal(batch.length);
    return batch.map((x, i) => ({ x, y: 2 * x[0] - x[1] + 0.5 + 0.01 * noise[i] }));
  }

  protected computeLoss(batch: Point[]): MicroBatchResult {
    const x = tensor(batch.flatMap((p) => p.x), [batch.length, 2], { backend: BACKEND });
    const y = tensor(batch.map((p) => p.y), [batch.length, 1], { backend: BACKEND });
    return { loss: mean(square(sub(this.model.forward(x), y))), stats: {} };
  }

  evaluate(): Promise<Record<string, number>> {
    return Promise.resolve({});
  }
}

Deno.test("the async prepareBatch hook runs before each micro-batch's loss; resume repeats it exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const inputs = points(16, 8).map((p) => p.x);
    const args = { ...ARGS, gradientAccumulationSteps: 2, batchSize: 2, maxSteps: 6 };
    const straight = new LabellingTrainer(model(), args, inputs);
    const first = weights(straight.model);
    await straight.train();
    // Once per micro-batch, two per step, with the step being taken.
    assert.deepEqual(straight.calls.map((c) => c.step), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    assert.ok(straight.calls.every((c) => c.indices.length === 2));
    assert.ok(maxDiff(weights(straight.model), first) > 1e-3, "it trained on the labels");

    const out = join(dir, "run");
    const stopped = new LabellingTrainer(
      model(),
      { ...args, saveSteps: 10, outputDir: out },
      inputs,
    );
    await stopped.train({ shouldStop: ({ step }) => step >= 3 });
    const resumed = new LabellingTrainer(
      model(5),
      { ...args, saveSteps: 10, outputDir: out },
      inputs,
    );
    await resumed.train({ resumeFrom: join(out, "checkpoint") });
    assert.deepEqual(resumed.calls.map((c) => c.step), [4, 4, 5, 5, 6, 6]);
    assert.deepEqual(resumed.calls, straight.calls.slice(6), "the same rows at the same steps");
    const d = maxDiff(weights(resumed.model), weights(straight.model));
    assert.ok(d <= 1e-12, `resumed differs from the straight run by ${d}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
