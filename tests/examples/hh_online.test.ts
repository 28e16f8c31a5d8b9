// The hh-rlhf lesson's reward model → RL path, tiny presets shortened, in-process on the tiny
// checkpoints and the SYNTHETIC preference set (seed 0): the reward model ranks held-out pairs,
// then PPO and GRPO each raise that reward model's held-out score. The full presets stop at once
// offline, naming the model; bad flags are named with their values.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import {
  main as rmMain,
  parseHhRewardModelArgs,
  runHhRewardModel,
} from "../../examples/hh_reward_model.ts";
import { main as ppoMain, parseHhPpoArgs, runHhPpo } from "../../examples/hh_ppo.ts";
import { main as grpoMain, parseHhGrpoArgs, runHhGrpo } from "../../examples/hh_grpo.ts";
import {
  loadRewardClassifier,
  microBatchArgs,
  type RewardClassifier,
  tokenizeTranscripts,
  transcriptPairs,
} from "../../examples/hh/reward_model.ts";
import { loadHhPairs } from "../../examples/hh/data.ts";
import { RewardTrainer } from "../../reward/mod.ts";
import { copyTokenizerFiles } from "../../examples/hh/policy.ts";
import { hhPreset } from "../../examples/hh/presets.ts";
import { optim, tensor, tidy } from "../../core/mod.ts";

const QUIET = { log: () => {}, stepLog: false as const, progress: false };
const dir = await Deno.makeTempDir({ prefix: "hh_online_" });
const tiny = (out: string, ...flags: string[]) => ["--preset", "tiny", "--out", out, ...flags];
const rmOut = join(dir, "rm");

async function silent<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

// The tiny preset's settings throughout: the reward model the RL examples train first, then
// their full tiny runs, scored on 48 held-out prompts.
Deno.test("hh_reward_model tiny: held-out pair accuracy >= 0.9 (measured 0.551 -> 1.000)", async () => {
  const r = await runHhRewardModel({
    ...parseHhRewardModelArgs(tiny(rmOut)),
    log: () => {},
    progress: false,
  });
  console.log(`reward model: held-out pair accuracy ${r.accuracyBefore} -> ${r.accuracyAfter}`);
  assert.ok(r.accuracyAfter >= 0.9, `accuracy ${r.accuracyAfter}`);
  assert.ok(r.accuracyAfter > r.accuracyBefore);
  assert.equal(r.steps, 40);
  await Deno.stat(join(rmOut, "model", "model.safetensors"));
  await Deno.stat(join(rmOut, "model", "tokenizer.json"));
});

// The full preset runs opt-350m's micro-batch of 64 pairs in parts of 16 to fit in memory; the
// parts must accumulate exactly the whole micro-batch's gradient. Plain SGD at lr 1 makes the
// update the gradient itself (Adam's would hide a wrong loss scale), and no clipping.
Deno.test("hh_reward_model: a micro-batch run in parts accumulates the whole micro-batch's gradient (max |Δ| <= 5e-5 of its largest entry); a non-divisor is refused", async () => {
  const preset = hhPreset("tiny");
  const split = await loadHhPairs({ ...preset, trainExamples: 32, testExamples: 8 }, 0);
  const gradients: Float32Array[][] = [];
  for (const forwardBatchSize of [null, 8]) {
    const s = { ...preset.rm, forwardBatchSize };
    const bundle = await loadRewardClassifier(s.base, { backend: "cpu", seed: 0 });
    try {
      const encode = (rows: typeof split.train) =>
        tokenizeTranscripts(transcriptPairs(rows), bundle.tokenizer, s.maxLength).pairs;
      const params = bundle.model.parameters();
      const recorder = new (class extends optim.SGD {
        override step(): void {
          gradients.push(params.map((p) => p.grad!.toArraySync()));
          super.step();
        }
      })(params, { lr: 0 });
      const trainer = new RewardTrainer({
        ...microBatchArgs(s),
        learningRate: 0,
        maxGradNorm: null,
        maxSteps: 1,
        outputDir: join(dir, `rm_parts_${forwardBatchSize}`),
        seed: 0,
        progress: false,
      }, {
        model: bundle.model,
        trainDataset: encode(split.train),
        evalDataset: encode(split.test),
        tokenizer: bundle.tokenizer,
        optimizer: recorder,
      });
      await silent(() => trainer.train());
    } finally {
      bundle.model.dispose();
    }
  }
  assert.deepEqual(microBatchArgs({ ...preset.rm, forwardBatchSize: 8 }), {
    batchSize: 8,
    gradientAccumulationSteps: 4,
    evalBatchSize: 8,
  });
  let largest = 0, maxDiff = 0;
  gradients[0].forEach((whole, k) => {
    whole.forEach((g, i) => {
      largest = Math.max(largest, Math.abs(g));
      maxDiff = Math.max(maxDiff, Math.abs(g - gradients[1][k][i]));
    });
  });
  const stats = `max |Δ| ${maxDiff}, largest gradient entry ${largest}`;
  assert.ok(largest > 1e-3, stats);
  // Only the f32 summation order differs: measured 3.3e-7 against 9.5e-2 (3.5e-6 of it). A
  // wrong scale is off by 4x, one pair dropped or repeated by about 1/32 of its entries.
  assert.ok(maxDiff <= 5e-5 * largest, stats);
  assert.throws(
    () => parseHhRewardModelArgs(["--preset", "tiny", "--forward-batch-size", "5"]),
    /rm\.forwardBatchSize \(--forward-batch-size\) 5 must divide rm\.batchSize \(--batch-size\) 32/,
  );
});

const RL = [
  {
    name: "hh_grpo",
    measured: "0.498 -> 1.801, KL 1.64",
    run: (out: string, log: (l: string) => void) =>
      runHhGrpo({
        ...parseHhGrpoArgs(tiny(out, "--reward-model", join(rmOut, "model"))),
        ...QUIET,
        log,
      }),
    steps: 25,
    statKeys: ["reward", "reward_std", "rewards/reward_model/mean", "kl", "entropy"],
  },
  {
    name: "hh_ppo",
    measured: "0.498 -> 2.361, KL 2.93",
    run: (out: string, log: (l: string) => void) =>
      runHhPpo({
        ...parseHhPpoArgs(tiny(out, "--reward-model", join(rmOut, "model"))),
        ...QUIET,
        log,
      }),
    steps: 40,
    statKeys: ["env/reward_mean", "objective/kl", "ppo/returns/mean"],
  },
];

for (const c of RL) {
  Deno.test(`${c.name} tiny: the reward model's held-out score rises by >= 0.8 with KL <= 5 nats (measured ${c.measured})`, async () => {
    const out = join(dir, c.name);
    const lines: string[] = [];
    const r = await silent(() => c.run(out, (l) => lines.push(l)));
    console.log(lines.at(-1));
    assert.match(lines.at(-1)!, /^held-out reward -?\d+\.\d{4} -> -?\d+\.\d{4}, KL \d+\.\d{4}$/);
    assert.ok(r.after >= r.before + 0.8, `held-out reward ${r.before} -> ${r.after}`);
    assert.ok(r.kl <= 5, `KL ${r.kl}`);
    assert.equal(r.sideBySide.rows, 48);
    assert.equal(r.steps, c.steps);
    const metrics = await readMetrics(out);
    assert.equal(metrics.length, c.steps);
    for (const key of c.statKeys) assert.equal(typeof metrics[c.steps - 1][key], "number", key);
    await Deno.stat(join(out, "model", "model.safetensors"));
  });
}

// The full preset's reward model grows from facebook/opt-350m: an OPT checkpoint (the tiny
// opt-a fixture here, with the tiny policy's tokenizer) loads as a 1-label classifier whose
// fresh score head reads the last real token, and saves and reloads as one.
Deno.test("an OPT base loads as the reward classifier and round-trips through save", async () => {
  const base = join(dir, "opt-base");
  await Deno.mkdir(base, { recursive: true });
  const fixture = new URL("../fixtures/models/opt-a/", import.meta.url);
  for (const name of ["config.json", "model.safetensors"]) {
    await Deno.copyFile(new URL(name, fixture), join(base, name));
  }
  await copyTokenizerFiles(hhPreset("tiny").policy, base);
  const ids = [[5, 9, 17, 2], [7, 3, 1, 1]], mask = [[1, 1, 1, 1], [1, 1, 0, 0]];
  const score = (m: RewardClassifier) =>
    tidy(() => {
      const { logits } = m.forward({ inputIds: tensor(ids), attentionMask: tensor(mask) });
      return { shape: logits.shape, values: Array.from(logits.toArraySync()) };
    });
  const { model, tokenizer } = await loadRewardClassifier(base, { seed: 0 });
  try {
    assert.equal((model as unknown as { modelType: string }).modelType, "opt");
    assert.ok(tokenizer.encode("Human: hi").length > 0);
    const before = score(model);
    assert.deepEqual(before.shape, [2, 1]);
    assert.ok(before.values.every(Number.isFinite));
    await model.save(join(dir, "opt-rm"));
    await copyTokenizerFiles(base, join(dir, "opt-rm"));
    const again = await loadRewardClassifier(join(dir, "opt-rm"));
    try {
      assert.deepEqual(score(again.model), before);
    } finally {
      again.model.dispose();
    }
  } finally {
    model.dispose();
  }
});

Deno.test("the full presets fail fast offline, naming the model", async () => {
  const saved = { home: Deno.env.get("HF_HOME"), offline: Deno.env.get("HF_HUB_OFFLINE") };
  Deno.env.set("HF_HOME", join(dir, "hf"));
  Deno.env.set("HF_HUB_OFFLINE", "1");
  try {
    const mains: [string, (argv: string[]) => Promise<number>, string][] = [
      ["hh_ppo", ppoMain, "gpt2"],
      ["hh_grpo", grpoMain, "gpt2"],
      ["hh_reward_model", rmMain, "facebook/opt-350m"],
    ];
    for (const [name, main, model] of mains) {
      const t0 = performance.now();
      const errors: string[] = [];
      const error = console.error;
      console.error = (line: string) => errors.push(line);
      try {
        assert.equal(await silent(() => main(["--out", join(dir, "full"), "--backend", "cpu"])), 1);
      } finally {
        console.error = error;
      }
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(errors[0], new RegExp(`^${name}: .*model "${model}"`));
      assert.ok(performance.now() - t0 < 10_000, "it must not hang");
    }
  } finally {
    for (const [key, value] of [["HF_HOME", saved.home], ["HF_HUB_OFFLINE", saved.offline]]) {
      if (value === undefined) Deno.env.delete(key!);
      else Deno.env.set(key!, value);
    }
  }
});

Deno.test("bad RL flags are named with their values", () => {
  assert.throws(
    () => parseHhGrpoArgs(["--beta=-1"]),
    /hh_grpo: bad --beta \(-1\): use a number >= 0/,
  );
  assert.throws(
    () => parseHhGrpoArgs(["--num-generations", "1"]),
    /hh_grpo: bad --num-generations \(1\): use an integer >= 2/,
  );
  assert.throws(
    () => parseHhPpoArgs(["--steps", "0"]),
    /hh_ppo: bad --steps \(0\): use an integer >= 1/,
  );
  assert.throws(
    () => parseHhPpoArgs(["--batch-sizes", "3"]),
    /hh_ppo: unknown flag \(--batch-sizes\)/,
  );
  assert.throws(
    () => parseHhGrpoArgs(["--preset", "tiny", "--batch-size", "30"]),
    /GRPOConfig: numGenerations = 4 does not divide the generation batch/,
  );
  // Defaults: the lesson's settings in full, the measured tiny ones in tiny.
  const full = parseHhGrpoArgs([]);
  assert.deepEqual(
    [full.grpo.learningRate, full.grpo.numGenerations, full.grpo.beta, full.grpo.batchSize],
    [1e-6, 8, 0, 8],
  );
  assert.equal(parseHhPpoArgs([]).ppo.learningRate, 1.41e-5);
  assert.equal(parseHhPpoArgs(["--generation-batch-size", "8"]).ppo.generationBatchSize, 8);
  assert.equal(parseHhRewardModelArgs([]).preset.rm.base, "facebook/opt-350m");
  const rm = parseHhRewardModelArgs(["--gradient-accumulation-steps", "3"]).preset.rm;
  assert.deepEqual([rm.batchSize, rm.gradientAccumulationSteps, rm.forwardBatchSize], [64, 3, 16]);
  assert.equal(parseHhPpoArgs(["--preset", "tiny"]).rewardModel, null, "tiny trains its own");
  assert.equal(parseHhGrpoArgs(["--preset", "tiny"]).preset.sideBySidePrompts, 48);
});

Deno.test({
  name: "cleanup",
  fn: () => Deno.remove(dir, { recursive: true }),
  sanitizeResources: false,
});
