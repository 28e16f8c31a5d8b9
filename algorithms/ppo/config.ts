/**
 * PPO configuration with TRL 0.7.4's defaults, under the one config rule of
 * `algorithms/common/config_schema.ts`: TRL's snake_case names are accepted beside Tether's, and
 * an unknown key or a bad value is refused naming the field, the value and the fix.
 *
 * Note: TRL 0.7.4's default learning rate is 1e-5. The classic gpt2-sentiment tutorial passes
 * 1.41e-5 explicitly (it became TRL's default only in 0.7.11); our IMDB example passes it too.
 */

import { z } from "zod";
import {
  ConfigError,
  type ConfigInput,
  type ConfigParser,
  strictConfig,
  type UnsupportedSetting,
} from "../common/config_schema.ts";

/** The PPO hyper-parameters: TRL's `PPOConfig` fields, camelCased. */
export interface PPOConfigValues {
  /** Adam learning rate (TRL 0.7.4 default 1e-5). */
  learningRate: number;
  /** Use the adaptive KL controller (else a fixed β). */
  adapKlCtrl: boolean;
  /** Initial KL coefficient β₀. */
  initKlCoef: number;
  /** Per-token KL estimator. */
  klPenalty: "kl" | "abs" | "mse" | "full";
  /** Target KL per sequence (nats) of the adaptive controller. */
  target: number;
  /** Horizon of the adaptive controller. */
  horizon: number;
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  lam: number;
  /** Policy ratio clip. */
  cliprange: number;
  /** Value clip. */
  cliprangeValue: number;
  /** Value-loss weight. */
  vfCoef: number;
  /** Samples per `step()`. */
  batchSize: number;
  /** Samples per forward/backward. */
  miniBatchSize: number;
  /** Minibatches whose gradients add up before an optimizer step. */
  gradientAccumulationSteps: number;
  /** Passes over the batch per step. */
  ppoEpochs: number;
  /** Clip gradients to this global norm when set. */
  maxGradNorm: number | null;
  /** Stop the epochs when the policy KL exceeds 1.5·targetKl. */
  earlyStopping: boolean;
  /** Early-stopping KL target. */
  targetKl: number;
  /** Zero the loss of a minibatch whose mean ratio exceeds this. */
  ratioThreshold: number;
  /** Scale scores by their running std. */
  useScoreScaling: boolean;
  /** With score scaling, also subtract the running mean. */
  useScoreNorm: boolean;
  /** Clip (scaled) scores to ±scoreClip. */
  scoreClip: number | null;
  /** Whiten rewards before GAE. */
  whitenRewards: boolean;
  /** Seed of minibatch shuffling. */
  seed: number;
}

/** TRL 0.7.4's names of PPO settings that are not a field's snake_case spelling. */
export const PPO_TRL_NAMES = {
  // Deprecated in TRL 0.7.4 ("does the same thing" as mini_batch_size); still accepted there.
  forward_batch_size: "miniBatchSize",
} as const;

/**
 * Fields a user may set, under Tether's names (`learningRate`), their snake_case spellings
 * (`learning_rate`, as TRL's `PPOConfig` names them) or TRL's `forward_batch_size`; the rest
 * take TRL 0.7.4's defaults.
 */
export type PPOConfigInput = ConfigInput<Partial<PPOConfigValues>, typeof PPO_TRL_NAMES>;

/** TRL 0.7.4's defaults (SPEC A.0). */
export const PPO_DEFAULTS: Readonly<PPOConfigValues> = Object.freeze({
  learningRate: 1e-5,
  adapKlCtrl: true,
  initKlCoef: 0.2,
  klPenalty: "kl" as const,
  target: 6,
  horizon: 10000,
  gamma: 1,
  lam: 0.95,
  cliprange: 0.2,
  cliprangeValue: 0.2,
  vfCoef: 0.1,
  batchSize: 256,
  miniBatchSize: 1,
  gradientAccumulationSteps: 1,
  ppoEpochs: 4,
  maxGradNorm: null,
  earlyStopping: false,
  targetKl: 1,
  ratioThreshold: 10,
  useScoreScaling: false,
  useScoreNorm: false,
  scoreClip: null,
  whitenRewards: false,
  seed: 0,
});

const KL_PENALTIES = ["kl", "abs", "mse", "full"] as const;
const positive = z.number().gt(0).describe("a finite number > 0").optional();
const positiveInt = z.number().int().min(1).describe("an integer >= 1").optional();
const unit = z.number().min(0).max(1).describe("a number in [0, 1]").optional();
const flag = z.boolean().describe("true or false").optional();
const tracker = "Tether writes metrics.jsonl, and TensorBoard files with trainPPO's reportTo";

/**
 * TRL 0.7.4 `PPOConfig` settings Tether's config does not hold; the values listed are what
 * Tether does anyway, so they are accepted.
 */
const UNSUPPORTED_PPO_SETTINGS: Readonly<Record<string, UnsupportedSetting>> = {
  steps: { reason: "pass the number of PPO steps to trainPPO as steps" },
  model_name: {
    reason: "the config loads no model: load it with loadCausalLM(name, { valueHead: true }) " +
      "and pass it as parts.model",
    accepts: [null],
  },
  query_dataset: { reason: "pass the queries to trainPPO", accepts: [null] },
  reward_model: { reason: "pass the reward function to trainPPO as reward", accepts: [null] },
  exp_name: { reason: "a run is named by its folder, trainPPO's outputDir" },
  task_name: { reason: "a run is named by its folder, trainPPO's outputDir", accepts: [null] },
  log_with: {
    reason: `${tracker}: pass reportTo: "tensorboard" to trainPPO`,
    accepts: [null],
  },
  tracker_project_name: { reason: tracker, accepts: ["trl"] },
  tracker_kwargs: { reason: tracker, accepts: [{}] },
  accelerator_kwargs: { reason: "there is no Accelerate; pick a backend instead", accepts: [{}] },
  project_kwargs: { reason: "there is no Accelerate project", accepts: [{}] },
  push_to_hub_if_best_kwargs: { reason: "the Hugging Face Hub is read-only here", accepts: [{}] },
  compare_steps: { reason: "no push-to-Hub-if-best", accepts: [1] },
  optimize_cuda_cache: {
    reason: "memory is freed explicitly after every step (tidy scopes) on every backend",
    accepts: [false, true],
  },
  optimize_device_cache: {
    reason: "memory is freed explicitly after every step (tidy scopes) on every backend",
    accepts: [false, true],
  },
  remove_unused_columns: {
    reason: "queries are read by their documented fields; other fields are ignored by design",
    accepts: [true, false],
  },
};

/** Validates {@link PPOConfigInput}s (TRL 0.7.4's `PPOConfig` fields, camelCased). */
export const PPO_CONFIG: ConfigParser<Partial<PPOConfigValues>> = strictConfig<
  Partial<PPOConfigValues>
>(
  "PPOConfig",
  z.object({
    learningRate: positive,
    adapKlCtrl: flag,
    initKlCoef: z.number().min(0).describe("a number >= 0").optional(),
    klPenalty: z.enum(KL_PENALTIES).describe(`one of ${KL_PENALTIES.join(", ")}`).optional(),
    target: positive,
    horizon: positive,
    gamma: unit,
    lam: unit,
    cliprange: positive,
    cliprangeValue: positive,
    vfCoef: z.number().min(0).describe("a number >= 0").optional(),
    batchSize: positiveInt,
    miniBatchSize: positiveInt,
    gradientAccumulationSteps: positiveInt,
    ppoEpochs: positiveInt,
    maxGradNorm: z.number().gt(0).nullable().describe("a number > 0, or null for no clipping")
      .optional(),
    earlyStopping: flag,
    targetKl: z.number().describe("a finite number").optional(),
    ratioThreshold: positive,
    useScoreScaling: flag,
    useScoreNorm: flag,
    scoreClip: z.number().gt(0).nullable().describe("a number > 0, or null for no clipping")
      .optional(),
    whitenRewards: flag,
    seed: z.number().int().describe("an integer").optional(),
  }),
  { trlNames: PPO_TRL_NAMES, unsupported: UNSUPPORTED_PPO_SETTINGS },
);

/**
 * Validates a config and fills TRL 0.7.4's defaults. Fields are accepted under Tether's names,
 * their snake_case spellings (TRL's names) and `forward_batch_size`; an unknown key, a field
 * given twice or a bad value is a `ConfigError` naming the field, the value and the fix, and the
 * batch size must be a multiple of miniBatchSize × gradientAccumulationSteps, as in TRL.
 *
 * @example
 * ```ts
 * import { makePPOConfig } from "@tether/rlhf/ppo";
 *
 * // The gpt2-sentiment tutorial's settings, as TRL spells them.
 * const config = makePPOConfig({ learning_rate: 1.41e-5, batch_size: 64, mini_batch_size: 16 });
 * console.log(config.learningRate, config.miniBatchSize, config.initKlCoef); // 0.0000141 16 0.2
 * try {
 *   makePPOConfig({ init_kl_coeff: 0.1 } as never);
 * } catch (e) {
 *   // PPOConfig: unknown key "init_kl_coeff"; the closest valid name is "init_kl_coef" (initKlCoef)
 *   console.log((e as Error).message);
 * }
 * ```
 *
 * @param input Fields to set (any accepted spelling).
 */
export function makePPOConfig(input: PPOConfigInput = {}): PPOConfigValues {
  const cfg: PPOConfigValues = { ...PPO_DEFAULTS, ...PPO_CONFIG.parse(input) };
  const backwardBatch = cfg.miniBatchSize * cfg.gradientAccumulationSteps;
  if (cfg.batchSize % backwardBatch !== 0) {
    throw new ConfigError("PPOConfig", [
      `batchSize = ${cfg.batchSize} must be a multiple of miniBatchSize × ` +
      `gradientAccumulationSteps = ${cfg.miniBatchSize} × ${cfg.gradientAccumulationSteps}`,
    ]);
  }
  return cfg;
}

/**
 * A validated PPO configuration: `new PPOConfig({ learningRate: 1.41e-5, batchSize: 64 })`, or
 * as TRL spells it, `new PPOConfig({ learning_rate: 1.41e-5, batch_size: 64 })`. Unset fields
 * take TRL 0.7.4's defaults; an unknown key or a bad value throws a `ConfigError` naming it.
 */
export class PPOConfig {
  /** Validates `input` and fills TRL 0.7.4's defaults. */
  constructor(input: PPOConfigInput = {}) {
    Object.assign(this, makePPOConfig(input));
  }
}

// The class carries the validated fields; merging gives them types without repeating the list.
/** The validated fields of a `PPOConfig`. */
export interface PPOConfig extends PPOConfigValues {}
