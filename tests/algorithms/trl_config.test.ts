// One config rule for every trainer: Tether's names, their snake_case spellings and TRL's names
// are accepted; unknown keys, a field given twice, wrong types and TRL settings Tether does not
// have are refused with the field, the value and the fix.

import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import {
  ConfigError,
  readMetrics,
  resolveTrainingArgs,
  snakeCase,
  strictConfig,
  TRAINING_ARGS_CONFIG,
} from "../../algorithms/common/mod.ts";
import { bestOfN } from "../../algorithms/best_of_n/mod.ts";
import { DPOTrainer } from "../../algorithms/dpo/mod.ts";
import { type GRPOConfigInput, GRPOTrainer } from "../../algorithms/grpo/mod.ts";
import { PPOConfig, type PPOConfigInput, PPOTrainer } from "../../algorithms/ppo/mod.ts";
import { RLOOTrainer } from "../../algorithms/rloo/mod.ts";
import { SFTTrainer } from "../../algorithms/sft/mod.ts";
import { resolveReSTConfig, ReST } from "../../algorithms/rest/mod.ts";
import { RewardTrainer, TokenRewardTrainer } from "../../reward/mod.ts";
import { nn, reshape, slice, type Tensor } from "../../core/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";
import { BigramLM } from "./tiny_lms.ts";

const quiet = { isTerminal: () => false, write: () => {} };
const triples = [
  { prompt: [1, 5, 6], chosen: [7, 8], rejected: [9] },
  { prompt: [1, 4], chosen: [10], rejected: [11, 12] },
];

/** One score per row: the mean embedding of its tokens, projected. */
class MeanScore extends nn.Module {
  readonly emb = this.registerModule("emb", new nn.Embedding(64, 4));
  readonly head = this.registerModule("head", new nn.Linear(4, 1));
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor } {
    const h = this.emb.forward(inputs.inputIds);
    const [B, L] = inputs.inputIds.shape;
    return { logits: slice(reshape(this.head.forward(h), [B, L]), [0, 0], [B, 1]) };
  }
}

Deno.test("the issue's DPO config trains with ipo, lr 1e-2 and 3 steps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "run");
    const trainer = new DPOTrainer(
      { loss_type: "ipo", learning_rate: 1e-2, max_steps: 3, logging_steps: 1, output_dir: out },
      { model: new BigramLM(0), refModel: new BigramLM(0), trainDataset: triples },
    );
    assert.equal(trainer.dpoConfig.lossType, "ipo");
    assert.equal(trainer.args.learningRate, 1e-2);
    assert.equal(trainer.totalSteps, 3);
    const result = await trainer.train();
    assert.equal(result.globalStep, 3);
    const lines = await readMetrics(out);
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
    assert.equal(lines[0]["train/learning_rate"], 1e-2);
    // Policy = reference at step 1: IPO's loss is (0 − 1/(2β))² = 25 (sigmoid's would be log 2).
    assert.ok(
      Math.abs((lines[0]["train/loss"] as number) - 25) < 1e-4,
      `${lines[0]["train/loss"]}`,
    );
    assert.deepEqual(
      [
        lines[0]["data/train_rows"],
        lines[0]["data/train_truncated"],
        "data/train_rows" in lines[1],
      ],
      [2, 0, false],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DPOTrainer: unknown keys, aliases, doubles, types and unsupported TRL settings", () => {
  const parts = { model: new BigramLM(0), refModel: new BigramLM(0), trainDataset: triples };
  const make = (config: Record<string, unknown>) => new DPOTrainer(config, parts);
  assert.throws(
    () => make({ loss_typ: "ipo" }),
    /^ConfigError: DPOTrainer: unknown key "loss_typ"; the closest valid name is "loss_type" \(lossType\)$/,
  );
  assert.throws(
    () => make({ betta: 0.2 }),
    /unknown key "betta"; the closest valid name is "beta"/,
  );
  const t = make({
    precompute_ref_log_probs: true,
    per_device_train_batch_size: 2,
    label_smoothing: 0.1,
    max_prompt_length: 16,
    truncation_mode: "keep_start",
    adam_beta1: 0.8,
    loss_type: ["robust"],
  });
  assert.deepEqual(
    [t.dpoConfig.precomputeRefLogps, t.args.batchSize, t.dpoConfig.labelSmoothing],
    [true, 2, 0.1],
  );
  assert.deepEqual([t.dpoConfig.maxPromptLength, t.dpoConfig.truncationMode], [16, "keep_start"]);
  assert.deepEqual([t.args.adamBetas, t.dpoConfig.lossType], [[0.8, 0.999], "robust"]);
  assert.throws(
    () => make({ beta: 0.1, learningRate: 1e-6, learning_rate: 1e-5 }),
    /learningRate is given twice, as "learningRate" and "learning_rate"; keep one/,
  );
  assert.throws(
    () => make({ learning_rate: "5e-7" }),
    /learning_rate \(learningRate\) must be a finite number >= 0, got "5e-7" \(a string\); write the number itself: learning_rate: 5e-7/,
  );
  assert.throws(
    () => make({ loss_type: ["sigmoid", "sft"] }),
    /loss_type \(lossType\) must be one of sigmoid, .* \(one loss; combining several is not supported\)/,
  );
  assert.throws(
    () => make({ bf16: true }),
    /bf16 = true is a TRL setting Tether does not support: .*\(false is accepted\)/,
  );
  make({ gradient_checkpointing: false, bf16: false, rpo_alpha: null });
  assert.equal(make({ gradient_checkpointing: true }).args.gradientCheckpointing, true);
  // Every problem at once.
  try {
    make({ beta: -1, max_steps: 0, foo: 1 });
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems.length, 3, e.message);
  }
  // TRL's max_steps = -1: the epochs decide.
  assert.equal(make({ max_steps: -1, num_train_epochs: 2 }).totalSteps, 2);
});

Deno.test("SFTTrainer: unknown key named with the closest valid name; TRL names honoured", () => {
  const parts = { model: new BigramLM(0), trainDataset: [{ inputIds: [1, 2, 3, 4, 5] }] };
  assert.throws(
    () => new SFTTrainer({ max_seq_length: 512 } as never, parts),
    /SFTTrainer: unknown key "max_seq_length"; the closest valid name is "max_length" \(maxLength\)/,
  );
  const t = new SFTTrainer({
    max_length: 3,
    completion_only_loss: false,
    packing: false,
    gradient_accumulation_steps: 2,
    lr_scheduler_type: "cosine",
    warmup_steps: 1,
    seed: 7,
    report_to: "none",
  }, parts);
  assert.deepEqual(t.trainingRows[0].ids, [1, 2, 3]);
  assert.deepEqual(
    [t.args.gradientAccumulationSteps, t.args.lrSchedulerType, t.args.warmupSteps, t.args.seed],
    [2, "cosine", 1, 7],
  );
  assert.equal(t.sftConfig.completionOnlyLoss, false);
  assert.throws(
    () => new SFTTrainer({ packing: "yes" } as never, parts),
    /packing must be true or false, got "yes" \(a string\)/,
  );
  assert.throws(
    () => new SFTTrainer({ assistant_only_loss: true } as never, parts),
    /assistant_only_loss = true is a TRL setting Tether does not support/,
  );
});

Deno.test("RewardTrainer: unknown key named with the closest valid name; TRL names honoured", () => {
  const parts = {
    model: new MeanScore(),
    trainDataset: [{ chosen: [1, 2, 3], rejected: [4, 5] }],
    progressSink: quiet,
  };
  assert.throws(
    () => new RewardTrainer({ center_reward_coefficient: 0.01 } as never, parts),
    /RewardTrainer: unknown key "center_reward_coefficient"; the closest valid name is "center_rewards_coefficient" \(centerRewardsCoefficient\)/,
  );
  const t = new RewardTrainer({
    center_rewards_coefficient: 0.01,
    max_length: 2,
    per_device_eval_batch_size: 3,
    weight_decay: 0.1,
  }, { ...parts, trainDataset: [...parts.trainDataset, { chosen: [1, 2], rejected: [3] }] });
  assert.deepEqual(t.rewardConfig, { maxLength: 2, centerRewardsCoefficient: 0.01 });
  assert.deepEqual([t.args.evalBatchSize, t.args.weightDecay], [3, 0.1]);
  assert.equal(t.dataReports[0].dropped, 1);
  assert.throws(
    () => new RewardTrainer({ maxLength: 1, max_length: 2 }, parts),
    /maxLength is given twice, as "maxLength" and "max_length"; keep one/,
  );
  assert.throws(
    () => new RewardTrainer({ num_train_epochs: "3" } as never, parts),
    /num_train_epochs \(numTrainEpochs\) must be a finite number > 0, got "3" \(a string\); write the number itself: num_train_epochs: 3/,
  );
});

Deno.test("ReST: snake_case and trlX names, nested generation and sft settings, unknown keys", () => {
  const c = resolveReSTConfig({
    n_generations_per_prompt: 4,
    thresholds: { start_percentile: 0.5, end_percentile: 0.9 },
    n_improve_steps: 2,
    gen_kwargs: { max_new_tokens: 12, top_k: 5, do_sample: true },
    sft: { learning_rate: 1e-3, per_device_train_batch_size: 4, completion_only_loss: false },
    output_dir: null,
  });
  assert.equal(c.samplesPerPrompt, 4);
  assert.equal(c.improveSteps, 2);
  assert.deepEqual(c.thresholds, { startPercentile: 0.5, endPercentile: 0.9 });
  assert.deepEqual(c.generation, { maxNewTokens: 12, topK: 5, doSample: true });
  assert.deepEqual(c.sft, { learningRate: 1e-3, batchSize: 4, completionOnlyLoss: false });
  assert.throws(
    () => resolveReSTConfig({ samples_per_promt: 4 } as never),
    /ReST: unknown key "samples_per_promt"; the closest valid name is "samples_per_prompt" \(samplesPerPrompt\)/,
  );
  assert.throws(
    () => resolveReSTConfig({ generation: { max_tokens: 4 } } as never),
    /unknown key "generation.max_tokens"; the closest valid name is "max_new_tokens" \(maxNewTokens\)/,
  );
  assert.throws(
    () => resolveReSTConfig({ sft: { output_dir: "x" } } as never),
    /sft.output_dir is set by ReST \(one SFT run per Improve step\); set config.outputDir/,
  );
  assert.throws(
    () => resolveReSTConfig({ sft: { learning_rate: -1 } }),
    /ReST: sft.learning_rate \(learningRate\) must be a finite number >= 0, got -1/,
  );
  assert.throws(
    () =>
      resolveReSTConfig(
        { thresholds: { startPercentile: 0.5, end_percentile: 0.9, step: 1 } } as never,
      ),
    /unknown key "thresholds.step"/,
  );
  // The class takes the same spellings.
  const tokenizer = new SyntheticWordTokenizer();
  const rest = new ReST({ samples_per_prompt: 2, thresholds: [0.5] }, {
    model: new BigramLM(0),
    tokenizer,
    reward: (texts) => texts.map(() => 1),
    prompts: ["the plot was"],
    generate: () => Promise.resolve([]),
  });
  assert.equal(rest.config.samplesPerPrompt, 2);
});

Deno.test("the shared args: every field answers to its snake_case spelling", () => {
  const fields = Object.keys(TRAINING_ARGS_CONFIG.schema.shape);
  for (const field of fields) {
    assert.throws(
      () => resolveTrainingArgs("T", { [snakeCase(field)]: { not: "a value" } } as never),
      new RegExp(`${snakeCase(field)}.* must be `),
      field,
    );
  }
  assert.equal(snakeCase("precomputeRefLogps"), "precompute_ref_logps");
  assert.equal(snakeCase("adamBeta1"), "adam_beta1");
  assert.throws(
    () => resolveTrainingArgs("T", { adamBetas: [0.9, 0.99], adam_beta2: 0.9 }),
    /adamBetas and adam_beta1 \/ adam_beta2 are the same setting; give one of them/,
  );
});

Deno.test("strictConfig: the helper another trainer adopts in one call", () => {
  const parser = strictConfig<{ numGenerations?: number; learningRate?: number }>(
    "GRPOConfig",
    z.object({
      numGenerations: z.number().int().min(2).describe("an integer >= 2").optional(),
      learningRate: z.number().gt(0).describe("a number > 0").optional(),
    }),
    { trlNames: { num_gens: "numGenerations" } },
  );
  assert.deepEqual(parser.parse({ num_generations: 8, learning_rate: 1e-6 }), {
    numGenerations: 8,
    learningRate: 1e-6,
  });
  assert.deepEqual(parser.parse({ num_gens: 4 }), { numGenerations: 4 });
  assert.throws(
    () => parser.parse({ num_generations: 1 }),
    /num_generations \(numGenerations\) must be an integer >= 2, got 1/,
  );
  assert.throws(() => parser.parse([]), /GRPOConfig: the config must be an object of settings/);
  const extended = TRAINING_ARGS_CONFIG.extend("RLOOConfig", {
    rlooK: z.number().int().min(2).describe("an integer >= 2").optional(),
  }, { trlNames: { num_generations: "rlooK" } });
  assert.deepEqual(extended.parse({ num_generations: 4, max_steps: 10 }), {
    rlooK: 4,
    maxSteps: 10,
  });
});

Deno.test("TokenRewardTrainer: the same rule (snake_case fields, unknown keys named)", () => {
  const parts = {
    model: new BigramLM(0) as never, // only its parameters are touched here
    trainDataset: [{ chosen: [1, 2, 3], rejected: [1, 2, 4] }],
  };
  assert.throws(
    () => new TokenRewardTrainer({ score_at: "span_start" } as never, parts),
    /TokenRewardTrainer: score_at \(scoreAt\) must be "span_end" or "last_token", got "span_start"/,
  );
  assert.throws(
    () => new TokenRewardTrainer({ max_lenght: 8 } as never, parts),
    /TokenRewardTrainer: unknown key "max_lenght"; the closest valid name is "max_length" \(maxLength\)/,
  );
  const t = new TokenRewardTrainer(
    { max_length: 8, drop_identical_pairs: false, max_steps: 1 },
    parts,
  );
  assert.deepEqual([t.rewardConfig.maxLength, t.args.maxSteps], [8, 1]);
});

Deno.test("PPOConfig / PPOTrainer: TRL 0.7.4's names honoured, unknown keys named", () => {
  const parts = { model: new BigramLM(0), padTokenId: 0 };
  const t = new PPOTrainer({
    learning_rate: 1.41e-5,
    batch_size: 16,
    forward_batch_size: 4, // TRL 0.7.4's deprecated name of mini_batch_size
    gradient_accumulation_steps: 2,
    init_kl_coef: 0.05,
    adap_kl_ctrl: false,
    kl_penalty: "abs",
    cliprange_value: 0.3,
    vf_coef: 0.5,
    use_score_scaling: true,
    score_clip: 3,
    log_with: null, // TRL settings Tether lacks pass at the value that changes nothing (untyped)
  } as PPOConfigInput, parts);
  assert.deepEqual(
    [t.config.learningRate, t.config.batchSize, t.config.miniBatchSize, t.config.klPenalty],
    [1.41e-5, 16, 4, "abs"],
  );
  assert.deepEqual(
    [t.config.cliprangeValue, t.config.vfCoef, t.config.useScoreScaling, t.config.scoreClip],
    [0.3, 0.5, true, 3],
  );
  assert.equal(t.klCtl.value, 0.05); // a fixed controller at init_kl_coef
  assert.equal(t.config.ppoEpochs, 4); // TRL 0.7.4's defaults fill the rest
  t.dispose();
  assert.throws(
    () => new PPOTrainer({ init_kl_coeff: 0.05 } as never, parts),
    /^ConfigError: PPOConfig: unknown key "init_kl_coeff"; the closest valid name is "init_kl_coef" \(initKlCoef\)$/,
  );
  assert.throws(
    () => new PPOConfig({ mini_batch_size: 4, forward_batch_size: 4 }),
    /miniBatchSize is given twice, as "mini_batch_size" and "forward_batch_size"; keep one/,
  );
  assert.throws(
    () => new PPOConfig({ ppo_epochs: "4" } as never),
    /ppo_epochs \(ppoEpochs\) must be an integer >= 1, got "4" \(a string\); write the number itself: ppo_epochs: 4/,
  );
  assert.throws(
    () => new PPOConfig({ log_with: "wandb", model_name: "lvwerra/gpt2-imdb" } as never),
    /log_with = "wandb" \(a string\) is a TRL setting Tether does not support: .*reportTo: "tensorboard" to trainPPO.*; model_name = .*loadCausalLM/,
  );
});

/** A group trainer's parts on the bigram model: fixed completions, reward = completion length. */
function groupParts() {
  return {
    model: new BigramLM(0),
    tokenizer: { decode: (ids: number[]) => ids.join(" "), eosTokenId: 1, padTokenId: 0 },
    rewardFuncs: [function length(texts: readonly string[]) {
      return texts.map((t) => t.length);
    }],
    trainDataset: [[5, 6], [7, 8, 9], [10], [11, 12]],
    generate: (prompts: number[][]) => Promise.resolve(prompts.map((_, i) => [13, 14 + i, 1])),
    progressSink: quiet,
  };
}

Deno.test("GRPOTrainer: TRL 1.9's names honoured (and train), unknown keys named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = new GRPOTrainer({
      learning_rate: 1e-2,
      per_device_train_batch_size: 2,
      generation_batch_size: 4, // → steps_per_generation 2
      gradient_accumulation_steps: 2,
      num_generations: 2,
      max_completion_length: 3,
      loss_type: "dr_grpo",
      scale_rewards: false,
      beta: 0,
      max_steps: 2,
      adam_beta2: 0.99,
      output_dir: join(dir, "run"),
      save_steps: 1,
      report_to: "none",
      use_vllm: false,
      gradient_checkpointing: false,
    } as GRPOConfigInput, groupParts());
    const c = t.config;
    assert.deepEqual(
      [c.learningRate, c.batchSize, c.stepsPerGeneration, c.numGenerations, c.lossType],
      [1e-2, 2, 2, 2, "dr_grpo"],
    );
    assert.deepEqual([c.scaleRewards, c.adamBetas, c.epsilonHigh, c.topK], [
      "none",
      [0.9, 0.99],
      0.2,
      0,
    ]);
    assert.deepEqual([t.sizes.promptsPerStep, t.totalSteps], [2, 2]);
    const { steps } = await t.train({ log: false });
    assert.equal(steps, 2);
    assert.deepEqual((await readMetrics(join(dir, "run"))).map((l) => l.step), [1, 2]);
    t.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(
    () => new GRPOTrainer({ num_generation: 4 } as never, groupParts()),
    /^ConfigError: GRPOConfig: unknown key "num_generation"; the closest valid name is "num_generations" \(numGenerations\)$/,
  );
  assert.throws(
    () => new GRPOTrainer({ steps_per_generation: 2, generation_batch_size: 16 }, groupParts()),
    /two ways to give the round's size; give one of them/,
  );
  assert.throws(
    () =>
      new GRPOTrainer(
        { use_vllm: true, importance_sampling_level: "sequence" } as never,
        groupParts(),
      ),
    /use_vllm = true is a TRL setting Tether does not support: .*\(false is accepted\); importance_sampling_level = "sequence"/,
  );
});

Deno.test("RLOOTrainer: TRL 1.9's names honoured, unknown keys named", () => {
  const t = new RLOOTrainer({
    num_generations: 4,
    per_device_train_batch_size: 4,
    normalize_advantages: true,
    reward_clip_range: [-1, 1],
    mask_truncated_completions: true,
    epsilon_high: 0.28,
    max_steps: -1, // TRL's "not set": num_train_epochs decides
    num_train_epochs: 2,
  }, groupParts());
  const c = t.config;
  assert.deepEqual(
    [c.numGenerations, c.batchSize, c.normalizeAdvantages, c.rewardClipRange, c.epsilonHigh],
    [4, 4, true, [-1, 1], 0.28],
  );
  assert.deepEqual([c.maskTruncatedCompletions, c.maxSteps, c.beta, c.learningRate], [
    true,
    null,
    0.05,
    1e-6,
  ]);
  assert.equal(t.totalSteps, 8); // 4 prompts, 1 per round (4 completions), × 2 epochs
  t.dispose();
  assert.throws(
    () => new RLOOTrainer({ rloo_k: 4 } as never, groupParts()),
    /^ConfigError: RLOOConfig: rloo_k is TRL's old name of num_generations \(numGenerations\)$/,
  );
  assert.throws(
    () => new RLOOTrainer({ normalize_advantage: true } as never, groupParts()),
    /unknown key "normalize_advantage"; the closest valid name is "normalize_advantages" \(normalizeAdvantages\)/,
  );
  assert.throws(
    () => new RLOOTrainer({ max_prompt_length: 64 } as never, groupParts()),
    /RLOOConfig: max_prompt_length is no longer a TRL setting \(removed in TRL 0.28\)/,
  );
  assert.throws(
    () => new RLOOTrainer({ reward_clip_range: [1, -1] }, groupParts()),
    /reward_clip_range \(rewardClipRange\) must be \[min, max\] with min < max, or null, got \[1,-1\]/,
  );
});

Deno.test("bestOfN: TRL's BestOfNSampler names honoured, unknown keys named", async () => {
  const queries = [[1, 2], [3]];
  const generate = (rows: number[][]) => rows.map((r, i) => [...r, 10 + i]);
  const decode = (ids: number[]) => ids.join(" ");
  const reward = (texts: readonly string[]) => texts.map((t) => Number(t.split(" ").at(-1)));
  const results = await bestOfN(queries, {
    generate,
    decode,
    reward,
    sample_size: 3,
    n_candidates: 2,
    max_new_tokens: 1,
  });
  assert.deepEqual(results.map((r) => r.best), [["1 2 12", "1 2 11"], ["3 12", "3 11"]]);
  const trlStyle = {
    generate,
    decode,
    queries_to_scores: reward,
    sample_size: 2,
    max_new_tokens: 1,
  };
  assert.deepEqual((await bestOfN(queries, trlStyle as never))[0].ranked.length, 2);
  await assert.rejects(
    () => bestOfN(queries, { generate, decode, reward, sample_sise: 3 } as never),
    /^ConfigError: bestOfN: unknown key "sample_sise"; the closest valid name is "sample_size" \(sampleSize\)$/,
  );
  await assert.rejects(
    () => bestOfN(queries, { generate, decode, reward, n_candidates: 0, maxNewTokens: 1 }),
    /n_candidates \(nCandidates\) must be an integer >= 1, got 0/,
  );
  await assert.rejects(
    () => bestOfN(queries, { generate, decode, reward, seed: 0 } as never),
    /seed = 0 is a TRL setting Tether does not support: sampling is the generate callback's/,
  );
});

Deno.test("optim: the shared trainers build AdamW or RMSprop by TRL's name; the group trainers AdamW only", () => {
  assert.equal(resolveTrainingArgs("T", {}).optim, "adamw_torch");
  const sft = (optim: string, weightDecay = 0) =>
    new SFTTrainer(
      { optim, weight_decay: weightDecay, learning_rate: 1e-3, max_steps: 1 } as never,
      {
        model: new BigramLM(0),
        trainDataset: [{ prompt: [1, 2], completion: [3] }],
      },
    );
  assert.equal(sft("adamw_torch").optimizer.name, "AdamW");
  assert.equal(sft("adamw_torch_fused").optimizer.name, "AdamW");
  const rms = sft("rmsprop", 0.01).optimizer;
  assert.equal(rms.name, "RMSprop");
  // transformers passes RMSprop the lr and each group's decay only (biases undecayed).
  assert.deepEqual(
    rms.paramGroups.map((g) => [g.lr, g.alpha, g.eps, g.momentum, g.centered, g.weightDecay]),
    [[1e-3, 0.99, 1e-8, 0, false, 0.01], [1e-3, 0.99, 1e-8, 0, false, 0]],
  );
  assert.throws(
    () => resolveTrainingArgs("T", { optim: "adafactor" } as never),
    /T: optim must be one of adamw_torch, adamw_torch_fused, rmsprop \(pass parts.optimizer for another\), got "adafactor"/,
  );
  assert.throws(
    () =>
      new GRPOTrainer({ optim: "rmsprop" } as never, {
        model: new BigramLM(0) as never,
        tokenizer: new SyntheticWordTokenizer(),
        rewardFuncs: [() => [0]],
        trainDataset: [{ prompt: "the plot was" }],
      } as never),
    /GRPOConfig: optim = "rmsprop" \(a string\) is a TRL setting Tether does not support: the group trainers build AdamW/,
  );
});

Deno.test("logging_first_step also writes the first step's training metrics", async () => {
  const trainLines = async (extra: Record<string, unknown>) => {
    const dir = await Deno.makeTempDir();
    try {
      await new SFTTrainer({ max_steps: 4, logging_steps: 2, output_dir: dir, ...extra } as never, {
        model: new BigramLM(0),
        trainDataset: [{ prompt: [1, 2], completion: [3] }],
      }).train();
      return (await readMetrics(dir)).filter((l) => "train/loss" in l).map((l) => l.step);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  assert.deepEqual(await trainLines({}), [2, 4]);
  assert.deepEqual(await trainLines({ logging_first_step: true }), [1, 2, 4]);
});
