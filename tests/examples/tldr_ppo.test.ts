// The TL;DR PPO stage: the full preset is the tutorial's trlX config and fails fast offline
// naming the dataset; prompts are built and cut as the tutorial builds them (and counted); bad
// rows fail naming the post; the tiny preset, shortened, raises the held-out normalized reward
// at a bounded KL to the SFT policy.

import assert from "node:assert/strict";
import { join } from "node:path";
import { TLDR_SFT_SOURCE } from "../../data/mod.ts";
import { readMetrics } from "../../algorithms/common/mod.ts";
import { main, parseTldrPpoArgs, runTldrPpo, tldrPpoConfig } from "../../examples/tldr_ppo.ts";
import { tldrPrompts } from "../../examples/tldr/held_out.ts";
import {
  FULL_REWARD_OUTPUT,
  FULL_SFT_OUTPUT,
  TINY_TLDR_ASSETS,
} from "../../examples/tldr/presets.ts";
import { inTempDir, wordTokenizer } from "./tldr_test_helpers.ts";

Deno.test("tldr_ppo full preset is the tutorial's trlX config (trlx_gptj_text_summarization.py)", () => {
  const o = parseTldrPpoArgs(["--out", "runs/x"]);
  assert.equal(TLDR_SFT_SOURCE.id, "CarperAI/openai_summarize_tldr");
  assert.equal(o.preset.data, "hub");
  assert.equal(o.preset.ppo.rewardModel, FULL_REWARD_OUTPUT);
  assert.equal(o.preset.ppo.trainPrompts, null, "every training post, as the tutorial");
  assert.equal(o.preset.ppo.evalPrompts, 1000, "the first 1000 valid posts");
  const c = tldrPpoConfig(o);
  const { train, model, tokenizer, optimizer, scheduler, method } = c;
  assert.deepEqual(
    [train.seq_length, train.epochs, train.total_steps, train.batch_size],
    [550, 50, 100000, 4],
  );
  assert.deepEqual([train.checkpoint_interval, train.eval_interval], [10000, 200]);
  assert.equal(train.checkpoint_dir, "runs/x");
  assert.equal(model.model_path, FULL_SFT_OUTPUT);
  assert.equal(model.model_arch_type, "causal");
  assert.equal(model.num_layers_unfrozen, 8);
  assert.equal(tokenizer.tokenizer_path, "gpt2");
  assert.equal(tokenizer.truncation_side, "right");
  assert.equal(optimizer.name, "adamw");
  assert.deepEqual(optimizer.kwargs, {
    lr: 5e-6,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weight_decay: 0.01,
  });
  assert.equal(scheduler.name, "cosine_annealing");
  assert.deepEqual(scheduler.kwargs, { T_max: 100000, eta_min: 5e-6 });
  assert.deepEqual(
    {
      num_rollouts: method.num_rollouts,
      chunk_size: method.chunk_size,
      ppo_epochs: method.ppo_epochs,
      init_kl_coef: method.init_kl_coef,
      target: method.target,
      horizon: method.horizon,
      gamma: method.gamma,
      lam: method.lam,
      cliprange: method.cliprange,
      cliprange_value: method.cliprange_value,
      vf_coef: method.vf_coef,
      scale_reward: method.scale_reward,
      ref_mean: method.ref_mean,
      ref_std: method.ref_std,
      cliprange_reward: method.cliprange_reward,
    },
    {
      num_rollouts: 128,
      chunk_size: 16,
      ppo_epochs: 4,
      init_kl_coef: 0.1,
      target: 6,
      horizon: 10000,
      gamma: 1,
      lam: 0.95,
      cliprange: 0.2,
      cliprange_value: 0.2,
      vf_coef: 0.2,
      scale_reward: null,
      ref_mean: null,
      ref_std: null,
      cliprange_reward: 10,
    },
  );
  assert.equal(method.gen_kwargs.max_new_tokens, 50);
  // Flags reach the config fields they name; the learning rate stays flat (eta_min follows).
  const t = tldrPpoConfig(
    parseTldrPpoArgs([
      "--preset",
      "tiny",
      "--total-steps",
      "3",
      "--learning-rate",
      "1e-4",
      "--init-kl-coef",
      "0.2",
      "--num-rollouts",
      "32",
      "--model",
      "my/sft",
    ]),
  );
  assert.equal(t.train.total_steps, 3);
  assert.equal(t.optimizer.kwargs.lr, 1e-4);
  assert.equal(t.scheduler.kwargs.eta_min, 1e-4);
  assert.equal(t.method.init_kl_coef, 0.2);
  assert.equal(t.method.num_rollouts, 32);
  assert.equal(t.model.model_path, "my/sft");
  assert.equal(t.tokenizer.tokenizer_path, join(TINY_TLDR_ASSETS, "sft"));
  assert.throws(
    () => parseTldrPpoArgs(["--total-steps", "0"]),
    /^CliError: tldr_ppo: bad --total-steps \(0\): use an integer >= 1/,
  );
});

Deno.test("tldr_ppo full preset stops at once offline, naming the dataset", async () => {
  const saved = { home: Deno.env.get("HF_HOME"), offline: Deno.env.get("HF_HUB_OFFLINE") };
  await inTempDir("tldr_ppo_", async (dir) => {
    Deno.env.set("HF_HOME", dir);
    Deno.env.set("HF_HUB_OFFLINE", "1");
    const log = console.log, error = console.error;
    const errors: string[] = [];
    console.log = () => {};
    console.error = (line: string) => errors.push(line);
    const t0 = performance.now();
    try {
      assert.equal(await main(["--out", join(dir, "run"), "--backend", "cpu"]), 1);
    } finally {
      console.log = log;
      console.error = error;
      for (const [key, value] of [["HF_HOME", saved.home], ["HF_HUB_OFFLINE", saved.offline]]) {
        if (value === undefined) Deno.env.delete(key!);
        else Deno.env.set(key!, value);
      }
    }
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.ok(errors[0].includes("CarperAI/openai_summarize_tldr"), errors[0]);
    assert.ok(performance.now() - t0 < 10_000, "it must not hang");
  });
});

Deno.test("tldr_ppo prompts: posts cut to seq_length − max_new_tokens − 5 tokens as the tutorial cuts, counted; a post without TL;DR: is named", () => {
  const tok = wordTokenizer();
  const rows = [
    { prompt: "w1 w2 w3 w4 w5 w6 w7 w8 TL;DR:", label: " s1 s2" },
    { prompt: "short post TL;DR:", label: " s3 " },
  ];
  const p = tldrPrompts(rows, tok, 8);
  assert.deepEqual(p.texts, ["w1 w2 w3\nTL;DR:", "short post\nTL;DR:"]);
  assert.equal(p.truncated, 1);
  assert.deepEqual(p.references, ["s1 s2", "s3"]);
  assert.deepEqual(p.ids[0], tok.encode("w1 w2 w3\nTL;DR:"));
  assert.throws(
    () => tldrPrompts([...rows, { prompt: "no cue", label: " x" }], tok, 8),
    /post 2: policyPrompt: no 'TL;DR:' in the prompt/,
  );
});

// The tiny SFT policy imitates the careless 30% of its demonstrations (the problem left out,
// a distraction summarized) in its sampled summaries; the reward model ranks those down, and
// PPO learns to stop writing them: the sampled summaries' held-out reward rises at a small KL.
// Greedy summaries (the policy's mode) were careful already and barely move.
Deno.test("tldr_ppo tiny (16 steps): PPO raises the held-out sampled reward by >= 0.75 at a KL <= 1 nat, ROUGE-L >= 0.85 (measured -3.62 -> -2.05 at 0.22 nats, ROUGE-L 0.898 -> 0.898)", async () => {
  await inTempDir("tldr_ppo_", async (out) => {
    const lines: string[] = [];
    const r = await runTldrPpo({
      ...parseTldrPpoArgs([
        "--preset",
        "tiny",
        "--out",
        out,
        "--backend",
        "cpu",
        "--total-steps",
        "16",
        "--eval-examples",
        "32",
        "--table-posts",
        "2",
      ]),
      log: (line) => lines.push(line),
      progress: false,
    });
    const measured = `sampled reward ${r.sft.sampledReward} -> ${r.ppo.sampledReward}, ` +
      `KL ${r.kl}, rougeL ${r.sft.rouge.rougeL} -> ${r.ppo.rouge.rougeL}`;
    assert.equal(r.steps, 16, measured);
    assert.ok(r.ppo.sampledReward - r.sft.sampledReward >= 0.75, measured);
    assert.ok(r.kl <= 1, measured);
    assert.ok(r.ppo.rouge.rougeL >= 0.85, measured);
    assert.ok(r.ppo.sampledGist! >= r.sft.sampledGist!, `gist ${measured}`);
    assert.deepEqual(r.prompts, { train: 1024, eval: 32 });
    assert.deepEqual(r.truncated, { train: 0, eval: 0 });
    // The last line, as the stable entry point reads it.
    assert.match(
      lines[lines.length - 1],
      /^rougeL \d\.\d{4} -> \d\.\d{4}; reward -?\d+\.\d{4} -> -?\d+\.\d{4}$/,
    );
    assert.ok(
      lines[lines.length - 1].endsWith(
        `reward ${r.sft.sampledReward.toFixed(4)} -> ${r.ppo.sampledReward.toFixed(4)}`,
      ),
      "the closing reward is the sampled summaries' (what PPO maximizes)",
    );
    const metrics = await readMetrics(out);
    assert.equal(metrics.filter((l) => "eval/rougeL" in l).length, 2);
    assert.ok(metrics.some((l) => "eval/kl" in l));
    assert.ok(metrics.some((l) => "losses/total_loss" in l), "train()'s own statistics");
    assert.ok((await Deno.stat(join(r.modelDir, "model.safetensors"))).isFile);
    const table = await Deno.readTextFile(join(out, "side_by_side.md"));
    assert.ok(table.includes("| SFT |") && table.includes("| PPO |"), table);
  });
});
