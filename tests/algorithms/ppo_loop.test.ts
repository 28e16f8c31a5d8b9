// trainPPO on the tiny value-head LM of the TRL replays: the loop raises a toy reward, logs one
// metrics line per step, resumes exactly after a crash, stops on a non-finite loss without
// touching the last checkpoint, and passes bad inputs through to the trainer's named errors.

import assert from "node:assert/strict";
import { join } from "node:path";
import { Generator, memory, noGrad, tensor, tidy } from "../../core/mod.ts";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { NonFiniteLossError } from "../../algorithms/common/nonfinite.ts";
import { PPO_CHECKPOINT_DIR, statsLine, trainPPO } from "../../algorithms/ppo/loop.ts";
import { CHECKPOINT_MANIFEST } from "../../algorithms/common/checkpoint.ts";
import type { PPOLoopOptions, PPOStepContext } from "../../algorithms/ppo/loop.ts";
import { PPOTrainer } from "../../algorithms/ppo/trainer.ts";
import { e2e, TinyLMWithValueHead } from "./ppo_tiny_lm.ts";
import { crashAfterSteps } from "./tiny_lms.ts";

const PAD = e2e.pad_token_id as number; // 6: never sampled
const SAMPLED_VOCAB = PAD;
const TARGET = 3; // the reward counts this token
const RESPONSE_LENGTH = 4;
const BATCH = 8;

/** 16 two-token queries over the non-pad tokens. */
const QUERIES = Array.from(
  { length: 16 },
  (_, i) => [i % SAMPLED_VOCAB, (i * 5 + 1) % SAMPLED_VOCAB],
);

const CONFIG = {
  batchSize: BATCH,
  miniBatchSize: 4,
  ppoEpochs: 2,
  learningRate: 0.05,
  initKlCoef: 0.05,
  seed: 7,
};

function setup(config: Record<string, unknown> = {}) {
  const model = new TinyLMWithValueHead(e2e.init_params, "cpu");
  const ref = new TinyLMWithValueHead(e2e.init_params, "cpu");
  const trainer = new PPOTrainer({ ...CONFIG, ...config }, {
    model,
    refModel: ref,
    padTokenId: PAD,
    warn: () => {},
  });
  return { model, ref, trainer };
}

/** Samples RESPONSE_LENGTH tokens per row (pad excluded) from the policy with the step's generator. */
function sampler(model: TinyLMWithValueHead) {
  return async (
    queries: number[][],
    { generator }: PPOStepContext,
  ): Promise<number[][]> => {
    const rows = queries.map((q) => [...q]);
    for (let t = 0; t < RESPONSE_LENGTH; t++) {
      const L = rows[0].length;
      const logits = tidy(() =>
        noGrad(() => {
          const ids = tensor(rows.flat(), [rows.length, L], { backend: "cpu" });
          return model.forward({ inputIds: ids, attentionMask: ids }).logits;
        })
      );
      const v = await logits.toArray();
      logits.dispose();
      const V = v.length / (rows.length * L);
      rows.forEach((row, b) => {
        const last = v.subarray(
          (b * L + L - 1) * V,
          (b * L + L - 1) * V + SAMPLED_VOCAB,
        );
        row.push(sampleSoftmax(last, generator));
      });
    }
    return rows.map((row, b) => row.slice(queries[b].length));
  };
}

function sampleSoftmax(logits: Float32Array, generator: Generator): number {
  const max = Math.max(...logits);
  return generator.categorical(Array.from(logits, (x) => Math.exp(x - max)));
}

const countTarget = (_q: number[][], responses: number[][]) =>
  Promise.resolve(responses.map((r) => r.filter((t) => t === TARGET).length));

function loopOptions(
  s: ReturnType<typeof setup>,
  extra: Partial<PPOLoopOptions>,
): PPOLoopOptions {
  return {
    trainer: s.trainer,
    queries: QUERIES,
    generate: sampler(s.model),
    reward: countTarget,
    steps: 6,
    log: false,
    progress: false,
    ...extra,
  };
}

const weights = (m: TinyLMWithValueHead) => m.parameters().map((p) => Array.from(p.toArraySync()));

function dispose(...models: TinyLMWithValueHead[]) {
  for (const m of models) for (const p of m.parameters()) p.dispose();
}

/** Metric lines without the wall-clock entries, which differ from run to run. */
async function linesWithoutTime(dir: string) {
  return (await readMetrics(dir)).map((line) =>
    Object.fromEntries(
      Object.entries(line).filter(([k]) => !k.startsWith("time/")),
    )
  );
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const [a, b] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory) await copyTree(a, b);
    else await Deno.copyFile(a, b);
  }
}

async function folderBytes(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(dir)) {
    out.set(entry.name, await Deno.readFile(join(dir, entry.name)));
  }
  return out;
}

Deno.test("trainPPO raises a token-count reward and writes one TRL-named metrics line per step", async () => {
  const dir = await Deno.makeTempDir();
  const s = setup();
  try {
    let lines: string[] = [];
    const seen: number[] = [];
    let memoryAtStep2: unknown;
    const result = await trainPPO(loopOptions(s, {
      steps: 30,
      outputDir: dir,
      log: (line) => lines.push(line),
      onStep: ({ step, responses }) => {
        seen.push(step);
        if (step === 2) memoryAtStep2 = memory();
        if (step === 30) {
          assert.deepEqual(
            memory(),
            memoryAtStep2,
            "steps leave tensors behind",
          );
        }
        assert.equal(responses.length, BATCH);
      },
    }));
    assert.equal(result.steps, 30);
    assert.equal(result.history.length, 30);
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i + 1));

    const metrics = await readMetrics(dir);
    assert.deepEqual(metrics.map((m) => m.step), seen);
    for (
      const key of [
        "env/reward_mean",
        "env/reward_std",
        "objective/kl",
        "objective/kl_coef",
        "objective/entropy",
        "ppo/returns/mean",
        "ppo/loss/total",
        "ppo/policy/clipfrac",
        "time/step",
        "time/generate",
        "time/ppo/total",
      ]
    ) {
      assert.equal(
        typeof metrics[29][key],
        "number",
        `metrics line lacks ${key}`,
      );
    }
    // Distributions stay out of the scalar log.
    assert.equal(metrics[0]["objective/kl_dist"], undefined);

    const rewards = metrics.map((m) => m["env/reward_mean"] as number);
    const first = rewards.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = rewards.slice(-5).reduce((a, b) => a + b) / 5;
    console.log(
      `mean reward (count of token ${TARGET} in 4): first 5 steps ${first}, last 5 ${last}`,
    );
    assert.ok(
      last >= first + 1,
      `mean reward rose only from ${first} to ${last}`,
    );

    // The log also carries the sample tables (steps 1, 10, 20, 30): one block each.
    const samples = lines.filter((l) => l.startsWith("ppo step ") && l.includes(" samples:"));
    assert.deepEqual(
      samples.map((l) => l.split("\n")[0]),
      [1, 10, 20, 30].map((s) => `ppo step ${s} samples:`),
    );
    lines = lines.filter((l) => !samples.includes(l));
    assert.equal(lines.length, 30);
    assert.match(
      lines[29],
      /^ppo step 30\/30 \| env\/reward_mean \S+ \| ppo\/returns\/mean \S+ \| objective\/kl \S+ \| objective\/kl_coef \S+ \| \d+\.\d\d s\/step$/,
    );
    assert.equal(
      lines[29],
      statsLine(30, 30, metrics[29] as Record<string, number>),
    );
  } finally {
    dispose(s.model, s.ref);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run that crashes after its step-3 checkpoint resumes to the straight run's weights and metrics", async () => {
  const dir = await Deno.makeTempDir();
  // Score scaling (running moments) on, and a reward with noise from a generator of the
  // caller's, one normal draw per step so the cached Box–Muller spare matters too.
  const scaling = { useScoreScaling: true, useScoreNorm: true };
  const straight = setup(scaling),
    crashing = setup(scaling),
    resumed = setup(scaling);
  const control = setup(scaling);
  const noisy = (noise: Generator): Partial<PPOLoopOptions> => ({
    checkpointEvery: 3,
    generators: { noise },
    reward: async (q, r) => {
      const jitter = noise.normal(1)[0] * 0.1;
      return (await countTarget(q, r)).map((x) => x + jitter);
    },
  });
  try {
    await trainPPO(loopOptions(straight, {
      outputDir: join(dir, "straight"),
      ...noisy(new Generator(11)),
    }));

    const out = join(dir, "run");
    // Optimizer updates per PPO step: ppoEpochs × (batch / miniBatch).
    const perStep = CONFIG.ppoEpochs * (BATCH / CONFIG.miniBatchSize);
    crashAfterSteps(crashing.trainer.optimizer, 4 * perStep);
    await assert.rejects(
      () =>
        trainPPO(
          loopOptions(crashing, {
            outputDir: out,
            ...noisy(new Generator(11)),
          }),
        ),
      /simulated crash/,
    );
    // Step 4 was logged before the crash in step 5; the checkpoint is at step 3.
    assert.deepEqual((await readMetrics(out)).map((m) => m.step), [1, 2, 3, 4]);

    // Control: the same resume with the noise generator left out of the checkpointed ones
    // (it restarts from its seed) must end elsewhere, or the comparison below proves nothing.
    const copy = join(dir, "copy");
    await copyTree(out, copy);
    const { generators: _, ...forgetful } = noisy(new Generator(11));
    await trainPPO(
      loopOptions(control, { outputDir: copy, resume: true, ...forgetful }),
    );
    assert.notDeepEqual(weights(control.model), weights(straight.model));

    const result = await trainPPO(
      loopOptions(resumed, {
        outputDir: out,
        resume: true,
        ...noisy(new Generator(999)),
      }),
    );
    assert.equal(result.resumedFrom, 3);
    assert.equal(result.steps, 6);
    assert.equal(result.history.length, 3);
    assert.deepEqual(weights(resumed.model), weights(straight.model));
    assert.equal(resumed.trainer.klCtl.value, straight.trainer.klCtl.value);
    assert.deepEqual(
      await linesWithoutTime(out),
      await linesWithoutTime(join(dir, "straight")),
    );

    await assert.rejects(
      () =>
        trainPPO(
          loopOptions(setup({ batchSize: 4 }), {
            outputDir: out,
            resume: true,
          }),
        ),
      /cannot resume exactly: batchSize was 8, now 4/,
    );
  } finally {
    dispose(
      ...[straight, crashing, resumed, control].flatMap((
        s,
      ) => [s.model, s.ref]),
    );
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shouldStop after step 3 of 6 checkpoints step 3; resume reaches the straight run", async () => {
  const dir = await Deno.makeTempDir();
  const straight = setup(), stopped = setup(), resumed = setup();
  try {
    const full = await trainPPO(loopOptions(straight, { outputDir: join(dir, "straight") }));
    assert.equal(full.stoppedEarly, false);

    const out = join(dir, "run");
    const asked: number[] = [];
    const generated: number[] = [];
    const first = await trainPPO(loopOptions(stopped, {
      outputDir: out,
      generate: (q, c) => {
        generated.push(c.step);
        return sampler(stopped.model)(q, c);
      },
      shouldStop: ({ step, elapsedSeconds }) => {
        asked.push(step);
        assert.ok(elapsedSeconds >= 0 && Number.isFinite(elapsedSeconds), `${elapsedSeconds}`);
        return step >= 3;
      },
    }));
    assert.deepEqual(asked, [0, 1, 2, 3], "asked before each step, the stop included");
    assert.deepEqual(generated, [1, 2, 3], "nothing of step 4 ran");
    assert.equal(first.stoppedEarly, true);
    assert.equal(first.steps, 3);
    assert.equal(first.history.length, 3);
    assert.equal(stopped.trainer.currentStep, 3);
    // checkpointEvery is 10: the checkpoint at step 3 is the stop's.
    const manifest = JSON.parse(
      await Deno.readTextFile(join(out, PPO_CHECKPOINT_DIR, CHECKPOINT_MANIFEST)),
    );
    assert.equal(manifest.step, 3);
    assert.notDeepEqual(weights(stopped.model), weights(straight.model), "3 steps are not 6");

    const result = await trainPPO(loopOptions(resumed, { outputDir: out, resume: true }));
    assert.equal(result.resumedFrom, 3);
    assert.equal(result.steps, 6);
    assert.equal(result.stoppedEarly, false);
    assert.deepEqual(weights(resumed.model), weights(straight.model));
    assert.equal(resumed.trainer.klCtl.value, straight.trainer.klCtl.value);
    assert.deepEqual(await linesWithoutTime(out), await linesWithoutTime(join(dir, "straight")));
  } finally {
    dispose(...[straight, stopped, resumed].flatMap((s) => [s.model, s.ref]));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a non-finite loss stops the loop naming the step; the checkpoint is untouched and resume works", async () => {
  const dir = await Deno.makeTempDir();
  const straight = setup(),
    first = setup(),
    poisoned = setup(),
    resumed = setup();
  try {
    await trainPPO(loopOptions(straight, {}));
    const out = join(dir, "run");
    await trainPPO(loopOptions(first, { outputDir: out, steps: 3 }));
    const ckpt = join(out, "checkpoint");
    const before = await folderBytes(ckpt);

    // Scores near the float32 maximum overflow the value loss.
    const huge = (q: number[][], r: number[][], c: PPOStepContext) =>
      c.step === 4 ? Promise.resolve(r.map(() => 3e38)) : countTarget(q, r);
    const error = await trainPPO(
      loopOptions(poisoned, { outputDir: out, resume: true, reward: huge }),
    )
      .then(() => null, (e) => e);
    assert.ok(error instanceof NonFiniteLossError, String(error));
    assert.equal(error.step, 4);
    assert.match(
      error.message,
      /^trainPPO: the loss is (NaN|-?Infinity) at step 4/,
    );
    // The CPU reads each minibatch loss before backward: the first one was already NaN, so the
    // trainer is exactly as the checkpoint left it.
    assert.equal(error.afterUpdate, false);
    assert.equal(poisoned.trainer.currentStep, 3);
    assert.deepEqual(weights(poisoned.model), weights(first.model));
    assert.deepEqual(poisoned.trainer.stateDict(), first.trainer.stateDict());
    assert.equal(
      error.lastStats["objective/kl"],
      undefined,
      "no good step ran in this call",
    );
    assert.deepEqual(await folderBytes(ckpt), before);
    assert.deepEqual((await readMetrics(out)).map((m) => m.step), [1, 2, 3]);

    const result = await trainPPO(
      loopOptions(resumed, { outputDir: out, resume: true }),
    );
    assert.equal(result.resumedFrom, 3);
    assert.deepEqual(weights(resumed.model), weights(straight.model));
  } finally {
    dispose(
      ...[straight, first, poisoned, resumed].flatMap((s) => [s.model, s.ref]),
    );
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a non-finite loss later in a run reports the last good step's metrics", async () => {
  const s = setup();
  try {
    const huge = (q: number[][], r: number[][], c: PPOStepContext) =>
      c.step === 2 ? Promise.resolve(r.map(() => 3e38)) : countTarget(q, r);
    let afterStep1: unknown;
    const error = await trainPPO(loopOptions(s, {
      reward: huge,
      onStep: () => void (afterStep1 = memory()),
    })).then(() => null, (e) => e);
    assert.ok(error instanceof NonFiniteLossError, String(error));
    assert.equal(error.step, 2);
    assert.equal(typeof error.lastStats["env/reward_mean"], "number");
    assert.match(error.message, /Last good stats: .*env\/reward_mean=/);
    assert.equal(s.trainer.currentStep, 1);
    assert.deepEqual(
      memory(),
      afterStep1,
      "the failed step left tensors behind",
    );
  } finally {
    dispose(s.model, s.ref);
  }
});

Deno.test("bad batches fail through the loop with the trainer's named errors", async () => {
  const s = setup();
  try {
    const run = (extra: Partial<PPOLoopOptions>) =>
      trainPPO(loopOptions(s, { steps: 1, ...extra }));
    await assert.rejects(
      () => run({ generate: (q) => Promise.resolve(q.slice(1).map(() => [1])) }),
      /responses has 7 entries but config\.batchSize is 8/,
    );
    await assert.rejects(
      () =>
        run({
          generate: (q) => Promise.resolve(q.map((_, i) => (i === 2 ? [] : [1]))),
        }),
      /response 2 is empty/,
    );
    await assert.rejects(
      () =>
        run({
          reward: (q) => Promise.resolve(q.map((_, i) => (i === 0 ? NaN : 1))),
        }),
      /score 0 is NaN; scores must be finite/,
    );
    await assert.rejects(
      () => run({ queries: QUERIES.slice(0, 5) }),
      /query set has 5 rows but config\.batchSize is 8/,
    );
    await assert.rejects(
      // Two steps of 8 visit all 16 rows.
      () => run({ steps: 2, queries: QUERIES.map((q, i) => (i === 5 ? [] : q)) }),
      /trainPPO: query row 5 is empty/,
    );
    const empty = await Deno.makeTempDir();
    try {
      await assert.rejects(
        () => run({ outputDir: empty, resume: true }),
        /no checkpoint at/,
      );
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  } finally {
    dispose(s.model, s.ref);
  }
});
