// GRPO and RLOO on the tiny task (the tiny GPT-2 policy, its SYNTHETIC review prompts and the
// tiny reward model): each raises the held-out mean reward by a stated margin with the KL to the
// reference under a stated bound (seed 1, 20 rounds of 8 prompts × 4 completions); a run stopped
// and resumed lands on the straight run's weights and metrics; bad settings and rewards fail
// naming the field.

import assert from "node:assert/strict";
import { join } from "node:path";
import { memory } from "../../core/mod.ts";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { GRPOConfig, GRPOTrainer } from "../../algorithms/grpo/mod.ts";
import { RLOOConfig, RLOOTrainer } from "../../algorithms/rloo/mod.ts";
import { sequenceKl } from "../../algorithms/ppo/mod.ts";
import { keywordReward } from "../../reward/mod.ts";
import { loadTinyTask, type TinyTask } from "../../examples/compare/task.ts";
import { mean, sampleHeldOut } from "../../examples/compare/held_out.ts";

const task: TinyTask = await loadTinyTask({
  backend: "cpu",
  seed: 0,
  heldOutPrompts: 12,
  preferencePairs: 512,
});
const prompts = task.trainPrompts.map((p) => task.encodePrompt(p));
const SAMPLING = { maxNewTokens: 16 };
const EVAL_SEED = 7919;
const before = mean((await sampleHeldOut(task.reference, task, SAMPLING, 4, EVAL_SEED)).rewards);

const EFFECT = {
  learningRate: 1e-3,
  batchSize: 32,
  numGenerations: 4,
  maxCompletionLength: 16,
  maxSteps: 20,
  seed: 1,
};

const CASES = [
  {
    name: "GRPO (beta 0.1)",
    make: GRPOTrainer,
    config: new GRPOConfig({ ...EFFECT, beta: 0.1 }),
    klBound: 6,
    measured: "-0.41 -> 4.61, KL 2.44",
  },
  {
    name: "RLOO (beta 0.05)",
    make: RLOOTrainer,
    config: new RLOOConfig(EFFECT),
    klBound: 10,
    measured: "-0.41 -> 6.68, KL 5.66",
  },
] as const;

for (const c of CASES) {
  Deno.test(`${c.name} raises the held-out reward by >= 2.5 with KL <= ${c.klBound} nats (measured ${c.measured})`, async () => {
    const model = await task.loadPolicy({ seed: 1 });
    const trainer = new (c.make as typeof GRPOTrainer)(c.config as GRPOConfig, {
      model,
      tokenizer: task.tokenizer,
      rewardFuncs: { name: "reward_model", fn: task.reward },
      trainDataset: prompts,
    });
    try {
      await trainer.train({ log: false, progress: false });
      const sampled = await sampleHeldOut(model, task, SAMPLING, 4, EVAL_SEED);
      model.eval();
      const kl = mean(
        await sequenceKl(model, trainer.reference!, sampled.queries, sampled.responses, {
          padTokenId: task.tokenizer.eosTokenId!,
          backend: "cpu",
        }),
      );
      const after = mean(sampled.rewards);
      console.log(
        `${c.name}: held-out reward ${before.toFixed(3)} -> ${after.toFixed(3)}, KL ${
          kl.toFixed(3)
        }`,
      );
      assert.ok(after >= before + 2.5, `held-out reward ${before} -> ${after}`);
      assert.ok(kl <= c.klBound, `KL ${kl}`);
      assert.equal(trainer.reference!.kind, "copy", "a full fine-tune keeps a frozen copy");
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });
}

// A cheap reward for the loop tests: count the corpus's most positive words.
const positive = keywordReward({ superb: 1, great: 1, loved: 1, awful: -1 });
const SMALL = {
  learningRate: 2e-3,
  batchSize: 8,
  numGenerations: 4,
  maxCompletionLength: 8,
  maxSteps: 4,
  saveSteps: 10,
  beta: 0.1,
  seed: 3,
};

function small(outputDir: string | null, policy: Awaited<ReturnType<TinyTask["loadPolicy"]>>) {
  return new GRPOTrainer({ ...SMALL, outputDir }, {
    model: policy,
    tokenizer: task.tokenizer,
    rewardFuncs: [positive],
    trainDataset: task.trainPrompts,
  });
}

const weights = (m: { parameters(): { toArraySync(): Float32Array }[] }) =>
  m.parameters().map((p) => Array.from(p.toArraySync()));

const withoutTime = async (dir: string) =>
  (await readMetrics(dir)).map((l) =>
    Object.fromEntries(Object.entries(l).filter(([k]) => !k.startsWith("time/")))
  );

Deno.test("GRPO stopped after round 2 of 4 and resumed reaches the straight run's weights and metrics", async () => {
  const dir = await Deno.makeTempDir();
  const models = await Promise.all([0, 1, 2].map(() => task.loadPolicy({ seed: 0 })));
  const start = memory();
  try {
    const straight = small(join(dir, "straight"), models[0]);
    const full = await straight.train({ log: false, progress: false });
    assert.equal(full.steps, 4);
    const lines = await readMetrics(join(dir, "straight"));
    for (const key of ["reward", "reward_std", "rewards/keyword/mean", "kl", "entropy"]) {
      assert.equal(typeof lines[3][key], "number", key);
    }
    const out = join(dir, "run");
    const stopped = small(out, models[1]);
    await stopped.train({ log: false, progress: false, shouldStop: ({ step }) => step >= 2 });
    const resumed = small(out, models[2]);
    const rest = await resumed.train({ log: false, progress: false, resume: true });
    assert.equal(rest.resumedFrom, 2);
    assert.deepEqual(weights(models[2]), weights(models[0]));
    assert.deepEqual(await withoutTime(out), await withoutTime(join(dir, "straight")));
    for (const t of [straight, stopped, resumed]) t.dispose();
    assert.deepEqual(memory(), start, "the trainers free their copies and optimizer state");
  } finally {
    for (const m of models) m.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GRPO with beta 0 keeps no reference at all; scaleRewards takes TRL's booleans", async () => {
  const model = await task.loadPolicy({ seed: 0 });
  try {
    const start = memory();
    const t = new GRPOTrainer({ ...SMALL, beta: 0, scaleRewards: false }, {
      model,
      tokenizer: task.tokenizer,
      rewardFuncs: positive,
      trainDataset: prompts,
    });
    assert.equal(t.reference, null);
    assert.equal(t.config.scaleRewards, "none");
    assert.equal(new GRPOConfig({ scaleRewards: true }).scaleRewards, "group");
    t.dispose();
    assert.deepEqual(memory(), start);
  } finally {
    model.dispose();
  }
});

Deno.test("bad GRPO and RLOO input fails naming the field, the value and the fix", async () => {
  assert.throws(
    () => new GRPOConfig({ batchSize: 6, numGenerations: 4 }),
    /numGenerations = 4 does not divide the generation batch batchSize × stepsPerGeneration = 6 × 1 = 6/,
  );
  assert.throws(
    () => new RLOOConfig({ batchSize: 8, gradientAccumulationSteps: 2, numGenerations: 3 }),
    /RLOOConfig: numGenerations = 3 does not divide .* 8 × 2 = 16/,
  );
  assert.throws(
    () => new GRPOConfig({ lossType: "ppo" as "grpo" }),
    /GRPOConfig: lossType must be one of grpo, bnpo, dr_grpo, dapo, got "ppo"/,
  );
  assert.throws(
    () => new GRPOConfig({ numGenerations: 1 }),
    /numGenerations must be an integer >= 2 \(advantages compare completions\), got 1/,
  );
  assert.throws(
    () => new GRPOConfig({ epsilon: 1.5 }),
    /epsilon must be a number in \(0, 1\), got 1.5/,
  );
  assert.throws(
    () => new GRPOConfig({ lossTyp: "dapo" } as never),
    /unknown key "lossTyp"; the closest valid name is "lossType"/,
  );
  const model = await task.loadPolicy({ seed: 0 });
  try {
    const parts = { model, tokenizer: task.tokenizer, trainDataset: prompts };
    assert.throws(
      () =>
        new GRPOTrainer({ ...SMALL, rewardWeights: [1, 2, 3] }, {
          ...parts,
          rewardFuncs: [positive, { name: "length", fn: (t) => t.map((x) => x.length) }],
        }),
      /rewardWeights has 3 weights but there are 2 reward functions \(keyword, length\)/,
    );
    const t = new GRPOTrainer({ ...SMALL, beta: 0 }, { ...parts, rewardFuncs: [positive] });
    const q = [0, 0, 0, 0, 1, 1, 1, 1].map((i) => prompts[i]);
    const c = q.map(() => [5, 6, 1]);
    await assert.rejects(
      () => t.step(q, c, [[1, 2, 3, 4, null, null, null, null]]),
      /every reward function returned null for all 4 completions of prompt 1 \(rows 4–7\)/,
    );
    await assert.rejects(
      () => t.step(q.slice(1), c.slice(1), [[1]]),
      /prompts has 7 rows but a generation round has/,
    );
    await assert.rejects(
      () => t.step(q, c, [[1, 2, 3, 4, 5, 6, 7, Infinity]]),
      /reward 0 of completion 7 is Infinity/,
    );
    assert.equal(t.currentStep, 0, "no failed step counts");
    t.dispose();
  } finally {
    model.dispose();
  }
});
