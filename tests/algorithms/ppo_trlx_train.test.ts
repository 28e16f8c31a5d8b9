// train({ rewardFn, prompts, evalPrompts, config }) end to end on the tiny offline GPT-2 (causal)
// and the tiny T5 (seq2seq): trlX's step counting, evaluations and their tables, checkpoints and
// exact resume, and bad input (config keys trlX does not have, a seq2seq config on a causal
// checkpoint, reward functions that return the wrong count or NaN — with what was trained kept).

import assert from "node:assert/strict";
import { join } from "node:path";
import { train, TrlxConfigError, type TrlxConfigInput } from "../../algorithms/ppo_trlx/mod.ts";
import { hasCheckpoint } from "../../algorithms/common/checkpoint.ts";

const GPT2 = new URL("../../examples/assets/tiny-imdb/policy", import.meta.url).pathname;
const PROMPTS = ["the movie was", "the acting was", "the plot was", "the film was"];
const keyword = (_s: string[], { outputs }: { outputs: string[] }) =>
  outputs.map((o) => (o.includes("great") ? 1 : 0) - (o.includes("bad") ? 1 : 0));

function causalConfig(dir: string, extra: TrlxConfigInput = {}): TrlxConfigInput {
  return {
    ...extra,
    train: {
      total_steps: 8,
      batch_size: 4,
      eval_interval: 4,
      checkpoint_interval: 4,
      checkpoint_dir: dir,
      tracker: null,
      seed: 5,
      ...extra.train,
    },
    model: { model_path: GPT2, model_arch_type: "causal", num_layers_unfrozen: 2, ...extra.model },
    tokenizer: { tokenizer_path: GPT2 },
    method: {
      num_rollouts: 8,
      chunk_size: 4,
      ppo_epochs: 2,
      gen_kwargs: { max_new_tokens: 6 },
      ...extra.method,
    },
  };
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("train(): trlX's step counting, evaluations every eval_interval with their tables", async () => {
  const dir = await Deno.makeTempDir();
  let calls = 0;
  const trainer = await train({
    rewardFn: async (samples, ctx) => {
      calls++;
      assert.equal(samples[0], ctx.prompts[0] + ctx.outputs[0], "causal sample = prompt + output");
      return await Promise.resolve(keyword(samples, ctx));
    },
    prompts: PROMPTS,
    evalPrompts: ["the movie was", "the plot was"],
    config: causalConfig(dir, { train: { total_steps: 10 } }),
    log: false,
  });
  try {
    // 8 rollouts per collection, batch 4, 2 epochs: 4 steps per collection; total 10 → 3
    // collections, the last cut after 2 steps. Evaluations at 0, 4, 8 and the last (10).
    assert.deepEqual(trainer.metrics.map((m) => m.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(trainer.evaluations.map((e) => e.step), [0, 4, 8, 10]);
    for (const e of trainer.evaluations) {
      assert.equal(e.table.length, 2);
      assert.equal(trainer.metrics[e.step]["reward/mean"], e.rewardMean);
    }
    assert.equal(trainer.metrics[3]["reward/mean"], undefined);
    // 2 chunks per collection × 3 collections + 4 evaluations.
    assert.equal(calls, 3 * 2 + 4);
    for (
      const key of [
        "losses/total_loss",
        "policy/approx_kl",
        "returns/mean",
        "learning_rate_group_0",
      ]
    ) {
      assert.ok(Number.isFinite(trainer.metrics[1][key]), key);
    }
    // Rollout statistics on each collection's first step; KL 0 on the first collection.
    assert.equal(trainer.metrics[1]["policy/sqrt_kl"], 0);
    assert.ok(Number.isFinite(trainer.metrics[5]["rollout_scores/mean"]));
    const samples = await lines(join(dir, "samples.jsonl"));
    const tables = new Set(samples.map((s) => s.table));
    for (const step of [0, 4, 8, 10]) {
      assert.ok(tables.has(`eval/completions (step ${step})`), `${step}`);
    }
    const metrics = await lines(join(dir, "metrics.jsonl"));
    assert.equal(metrics.length, 3);
    assert.ok(await hasCheckpoint(join(dir, "checkpoint")));
    const out = await trainer.generate(["the movie was"], { maxNewTokens: 4, seed: 1 });
    assert.equal(out.length, 1);
    await trainer.save(join(dir, "saved"));
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) {
      await Deno.stat(join(dir, "saved", f));
    }
  } finally {
    trainer.dispose();
  }
});

Deno.test("train(): a stopped run resumed lands on the straight run's metrics and weights", async () => {
  const straightDir = await Deno.makeTempDir();
  const straight = await train({
    rewardFn: keyword,
    prompts: PROMPTS,
    config: causalConfig(straightDir),
    log: false,
  });
  const splitDir = await Deno.makeTempDir();
  const first = await train({
    rewardFn: keyword,
    prompts: PROMPTS,
    config: causalConfig(splitDir),
    log: false,
    shouldStop: ({ step }) => step >= 1,
  });
  assert.equal(first.metrics.at(-1)!.step, 4);
  first.dispose();
  // The same folder without resume is refused: nothing is overwritten.
  await assert.rejects(
    train({ rewardFn: keyword, prompts: PROMPTS, config: causalConfig(splitDir), log: false }),
    /already holds a run; set train.resume_from_checkpoint/,
  );
  const resumed = await train({
    rewardFn: keyword,
    prompts: PROMPTS,
    config: causalConfig(splitDir, { train: { resume_from_checkpoint: splitDir } }),
    log: false,
  });
  try {
    assert.deepEqual(resumed.metrics.map((m) => m.step), [5, 6, 7, 8]);
    for (const m of resumed.metrics) {
      const s = straight.metrics[m.step];
      for (const key of ["losses/total_loss", "policy/approx_kl", "returns/mean", "reward/mean"]) {
        if (s[key] === undefined) continue;
        assert.equal(m[key], s[key], `step ${m.step} ${key}`);
      }
    }
    const a = straight.policy.parameters(), b = resumed.policy.parameters();
    for (let i = 0; i < a.length; i++) {
      assert.deepEqual(a[i].toArraySync(), b[i].toArraySync(), `parameter ${i}`);
    }
  } finally {
    straight.dispose();
    resumed.dispose();
  }
});

Deno.test("train(): a reward function returning the wrong count or NaN names the step and sample; the checkpoint is kept", async () => {
  const dir = await Deno.makeTempDir();
  let chunks = 0;
  await assert.rejects(
    train({
      rewardFn: (samples, ctx) => {
        chunks++;
        // The initial evaluation, collection 1 (2 chunks) and the evaluation after step 4 are
        // fine; collection 2's first chunk comes back one short.
        const scores = keyword(samples, ctx);
        return chunks <= 4 ? scores : scores.slice(1);
      },
      prompts: PROMPTS,
      config: causalConfig(dir),
      log: false,
    }),
    (e: Error) => {
      assert.match(
        e.message,
        /rewardFn returned 3 scores for the 4 samples of rollout collection 2/,
      );
      assert.match(e.message, /after trlX step 4/);
      assert.match(e.message, /checkpointed at step 1/);
      return true;
    },
  );
  assert.ok(await hasCheckpoint(join(dir, "checkpoint")), "what was trained is kept");
  const resumed = await train({
    rewardFn: keyword,
    prompts: PROMPTS,
    config: causalConfig(dir, { train: { resume_from_checkpoint: dir } }),
    log: false,
  });
  assert.deepEqual(resumed.metrics.map((m) => m.step), [5, 6, 7, 8]);
  resumed.dispose();

  // NaN in the evaluation after step 4 (the last step of collection 1): the collection is
  // finished and checkpointed before the error surfaces.
  const evalDir = await Deno.makeTempDir();
  let evals = 0;
  await assert.rejects(
    train({
      rewardFn: (samples, ctx) => {
        const isEval = samples.length === 2;
        if (isEval) evals++;
        return samples.map((_, i) => (isEval && evals === 2 && i === 1 ? NaN : 0)).map((v, i) =>
          v + keyword(samples, ctx)[i]
        );
      },
      prompts: PROMPTS,
      evalPrompts: ["the movie was", "the plot was"],
      config: causalConfig(evalDir),
      log: false,
    }),
    (e: Error) => {
      assert.match(e.message, /rewardFn returned NaN for sample 1 of the evaluation after step 4/);
      assert.match(e.message, /checkpointed at step 1, trlX step 4/);
      return true;
    },
  );
  assert.ok(await hasCheckpoint(join(evalDir, "checkpoint")));

  await assert.rejects(
    train({
      rewardFn: (samples) => samples.map((_, i) => (i === 2 ? NaN : 0)),
      prompts: PROMPTS,
      config: causalConfig(await Deno.makeTempDir()),
      log: false,
    }),
    /rewardFn returned NaN for sample 2 of the evaluation after step 0 \("the plot was/,
  );
});

Deno.test("train(): config keys trlX does not have and a seq2seq config on a causal checkpoint fail clearly", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    train({
      rewardFn: keyword,
      prompts: PROMPTS,
      config: { ...causalConfig(dir), method: { init_kl_coeff: 0.1 } } as TrlxConfigInput,
      log: false,
    }),
    (e: Error) => {
      assert.ok(e instanceof TrlxConfigError);
      assert.match(e.message, /method\.init_kl_coeff: unknown key; did you mean init_kl_coef\?/);
      return true;
    },
  );
  await assert.rejects(
    train({
      rewardFn: keyword,
      prompts: PROMPTS,
      config: causalConfig(dir, { model: { model_arch_type: "seq2seq" } }),
      log: false,
    }),
    /model\.model_arch_type is "seq2seq" but .*tiny-imdb\/policy is a causal LM \(model_type "gpt2"\); set model\.model_arch_type to "causal"/,
  );
  await assert.rejects(
    train({ rewardFn: keyword, prompts: [], config: causalConfig(dir), log: false }),
    /prompts must be a non-empty array of strings/,
  );
  await assert.rejects(
    train({
      rewardFn: keyword,
      prompts: PROMPTS,
      config: causalConfig(dir, {
        model: { peft_config: { peft_type: "LORA", r: 4, target_modules: ["q_proj"] } },
      }),
      log: false,
    }),
    /model\.peft_config: .*q_proj/,
  );
});

Deno.test("train() with peft_config: adapters and value head train, the base stays, the reference is adapters off", async () => {
  const dir = await Deno.makeTempDir();
  const trainer = await train({
    rewardFn: keyword,
    prompts: PROMPTS,
    config: causalConfig(dir, {
      model: { peft_config: { peft_type: "LORA", r: 4, lora_alpha: 8 } },
      optimizer: { name: "adamw", kwargs: { lr: 1e-2 } },
    }),
    log: false,
  });
  try {
    assert.equal(trainer.metrics[1]["policy/sqrt_kl"], 0, "KL 0 at step 0");
    assert.ok(trainer.metrics[5]["policy/sqrt_kl"] > 0, "the adapters moved the policy");
    const named = trainer.policy.namedParameters();
    const trained = named.filter(([, p]) => p.requiresGrad).map(([n]) => n);
    assert.ok(trained.length > 0);
    for (const n of trained) assert.ok(/lora_|^v_head\./.test(n), `${n} trains`);
    await trainer.save(join(dir, "adapter"));
    for (const f of ["adapter_config.json", "adapter_model.safetensors", "tokenizer.json"]) {
      await Deno.stat(join(dir, "adapter", f));
    }
  } finally {
    trainer.dispose();
  }
});
