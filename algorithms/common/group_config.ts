/**
 * The settings GRPO and RLOO share (TRL 1.9's `GRPOConfig` / `RLOOConfig` fields, camelCased,
 * with transformers' `TrainingArguments` defaults where TRL keeps them), under the one config
 * rule of `config_schema.ts`: TRL's snake_case names are accepted as aliases, and an unknown key
 * or a bad value is refused naming the field, the value and the fix.
 *
 * @module
 */

import { z } from "zod";
import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";
import { type LrSchedulerType, UNSUPPORTED_TRAINING_ARGS } from "./args.ts";
import {
  ConfigError,
  type ConfigInput,
  type ConfigParser,
  strictConfig,
  type UnsupportedSetting,
} from "./config_schema.ts";

/** Settings shared by the group-sampling trainers (GRPO, RLOO). */
export interface GroupConfigValues {
  /** AdamW learning rate (TRL: 1e-6). */
  learningRate: number;
  /** Completions per forward/backward (transformers' `per_device_train_batch_size`, 8). */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  gradientAccumulationSteps: number;
  /**
   * Micro-batches per generation round (default `gradientAccumulationSteps`): one round
   * samples `batchSize × stepsPerGeneration` completions; a multiple of the accumulation steps.
   */
  stepsPerGeneration: number;
  /** Completions per prompt (G). */
  numGenerations: number;
  /** Most new tokens per completion. */
  maxCompletionLength: number;
  /** Sampling temperature (log-probs are taken at the same temperature). */
  temperature: number;
  /** Sample among the k most likely tokens (0: off). */
  topK: number;
  /** Nucleus sampling mass (1: off). */
  topP: number;
  /** KL coefficient β (0: no reference model is loaded). */
  beta: number;
  /** Passes over each generation round's completions (μ; ratios differ from 1 after the first). */
  numIterations: number;
  /** Lower clip ε. */
  epsilon: number;
  /** Upper clip (default ε; DAPO recommends 0.28). */
  epsilonHigh: number;
  /** One weight per reward function (default all 1). */
  rewardWeights: number[] | null;
  /** Leave completions that hit `maxCompletionLength` without EOS out of the loss. */
  maskTruncatedCompletions: boolean;
  /** Global gradient-norm clip (null: none). */
  maxGradNorm: number | null;
  /** AdamW decoupled weight decay. */
  weightDecay: number;
  /** AdamW betas. */
  adamBetas: [number, number];
  /** AdamW epsilon. */
  adamEpsilon: number;
  /** Learning-rate schedule over the run's optimizer steps. */
  lrSchedulerType: LrSchedulerType;
  /** Linear warmup optimizer steps. */
  warmupSteps: number;
  /** Generation rounds to run (null: `numTrainEpochs` passes over the prompts). */
  maxSteps: number | null;
  /** Passes over the prompts when `maxSteps` is null. */
  numTrainEpochs: number;
  /** Seed of the prompt order, sampling and the micro-batch shuffle. */
  seed: number;
  /** Rounds between checkpoints in `outputDir/checkpoint` (and one at the end). */
  saveSteps: number;
  /** Folder of `metrics.jsonl` and the checkpoint (null: nothing is written). */
  outputDir: string | null;
  /** Also write TensorBoard event files into `outputDir` (transformers' `report_to`). */
  reportTo: ReportTarget | readonly ReportTarget[] | "none";
  /** Recompute the policy's block activations in the backward pass (`gradientCheckpointingEnable()`). */
  gradientCheckpointing: boolean;
}

/** TRL's names of shared group settings that are not a field's snake_case spelling. */
export const GROUP_TRL_NAMES = { per_device_train_batch_size: "batchSize" } as const;

/**
 * Fields a user may set, under Tether's names, their snake_case spellings (TRL 1.9's
 * `GRPOConfig` / `RLOOConfig` names), `per_device_train_batch_size`, `adam_beta1` /
 * `adam_beta2` and `generation_batch_size` (TRL's other way to give `stepsPerGeneration`).
 */
export type GroupConfigInput = ConfigInput<GroupConfigFields, typeof GROUP_TRL_NAMES>;

/** The shared fields as the parser takes them (each optional; nulls where TRL allows them). */
export interface GroupConfigFields
  extends Partial<Omit<GroupConfigValues, "stepsPerGeneration" | "epsilonHigh" | "maxSteps">> {
  /** Micro-batches per generation round (default: `gradientAccumulationSteps`). */
  stepsPerGeneration?: number | null;
  /**
   * Completions per generation round (TRL's `generation_batch_size`): a multiple of
   * `batchSize`, giving `stepsPerGeneration = generationBatchSize / batchSize`; give this or
   * `stepsPerGeneration`, not both.
   */
  generationBatchSize?: number | null;
  /** Upper clip (default: `epsilon`). */
  epsilonHigh?: number | null;
  /** Generation rounds (null, or TRL's -1: `numTrainEpochs` passes over the prompts). */
  maxSteps?: number | null;
  /** β₁ of AdamW (TRL's `adam_beta1`); the other half of `adamBetas` keeps its value. */
  adamBeta1?: number;
  /** β₂ of AdamW (TRL's `adam_beta2`). */
  adamBeta2?: number;
}

/** The shared defaults (TRL 1.9's, and transformers' `TrainingArguments` where TRL keeps them). */
const GROUP_DEFAULTS = {
  learningRate: 1e-6,
  batchSize: 8,
  gradientAccumulationSteps: 1,
  maxCompletionLength: 256,
  temperature: 1,
  topK: 0,
  topP: 1,
  numIterations: 1,
  epsilon: 0.2,
  rewardWeights: null,
  maskTruncatedCompletions: false,
  maxGradNorm: 1,
  weightDecay: 0,
  adamBetas: [0.9, 0.999] as [number, number],
  adamEpsilon: 1e-8,
  lrSchedulerType: "linear" as LrSchedulerType,
  warmupSteps: 0,
  maxSteps: null,
  numTrainEpochs: 3,
  seed: 42,
  saveSteps: 500,
  outputDir: null,
  reportTo: "none" as const,
  gradientCheckpointing: false,
};

const int = (min: number) => z.number().int().min(min);
const adamBeta = z.number().min(0).lt(1);
const SCHEDULES = ["linear", "constant", "constant_with_warmup", "cosine"] as const;

/**
 * TRL settings whose value changes nothing here: each accepted only at TRL's default.
 *
 * @param reason Why Tether does not have them.
 * @param defaults TRL's name → TRL's default.
 */
export function ignoredAtDefault(
  reason: string,
  defaults: Readonly<Record<string, unknown>>,
): Record<string, UnsupportedSetting> {
  return Object.fromEntries(
    Object.entries(defaults).map(([k, v]) => [k, { reason, accepts: [v] }]),
  );
}

const NO_VLLM = "generation runs in-process on the policy (use_vllm is false)";
const NO_EVAL = "the group trainers do not evaluate during training";

/**
 * TRL 1.9 settings that both `GRPOConfig` and `RLOOConfig` have and Tether does not; the
 * values listed are what Tether does anyway, so they are accepted.
 */
export const UNSUPPORTED_GROUP_SETTINGS: Readonly<Record<string, UnsupportedSetting>> = {
  ...UNSUPPORTED_TRAINING_ARGS,
  optim: {
    reason: "the group trainers build AdamW; pass parts.optimizer for another",
    accepts: ["adamw_torch", "adamw_torch_fused"],
  },
  eval_strategy: { reason: NO_EVAL, accepts: ["no"] },
  evaluation_strategy: { reason: NO_EVAL, accepts: ["no"] },
  eval_steps: { reason: NO_EVAL, accepts: [null] },
  per_device_eval_batch_size: { reason: NO_EVAL, accepts: [8] },
  num_generations_eval: { reason: NO_EVAL, accepts: [null] },
  max_prompt_length: {
    reason: "is no longer a TRL setting (removed in TRL 0.28): prompts are used whole; shorten " +
      "them before training",
    omitted: true,
  },
  save_strategy: {
    reason: "checkpoints are saved every saveSteps (save_steps) rounds when outputDir is set",
    accepts: ["steps"],
  },
  logging_first_step: {
    reason: "every round's metrics are logged, the first included",
    accepts: [false, true],
  },
  logging_steps: {
    reason: "every round's metrics are logged (metrics.jsonl and the stats line)",
    accepts: [1],
  },
  trust_remote_code: { reason: "models load from the architecture table only", accepts: [false] },
  router_aux_loss_coef: { reason: "there are no mixture-of-experts models", accepts: [0.001] },
  disable_dropout: {
    reason: "dropout follows the model's train()/eval() mode; load the model with dropout 0 " +
      "to train without it",
    accepts: [false],
  },
  shuffle_dataset: {
    reason: "prompts are drawn in a seeded shuffled order (seed)",
    accepts: [true],
  },
  pad_to_multiple_of: { reason: "batches pad to their longest row", accepts: [null] },
  min_p: { reason: "sampling takes temperature, top_k and top_p", accepts: [null] },
  repetition_penalty: { reason: "sampling takes temperature, top_k and top_p", accepts: [1] },
  generation_kwargs: {
    reason: "sampling takes temperature, top_k and top_p; pass parts.generate for another sampler",
    accepts: [null, {}],
  },
  chat_template_kwargs: {
    reason: "prompts are token ids or text, encoded as they are",
    accepts: [null],
  },
  cache_implementation: { reason: "generation uses the model's own KV cache", accepts: [null] },
  ds3_gather_for_generation: { reason: "there is no DeepSpeed", accepts: [true] },
  use_vllm: {
    reason: "generation runs in-process on the policy; pass parts.generate for another sampler",
    accepts: [false],
  },
  ...ignoredAtDefault(NO_VLLM, {
    vllm_mode: "colocate",
    vllm_model_impl: "vllm",
    vllm_enable_sleep_mode: false,
    vllm_structured_outputs_regex: null,
    vllm_server_base_url: null,
    vllm_server_host: "0.0.0.0",
    vllm_server_port: 8000,
    vllm_server_timeout: 240,
    vllm_group_port: 51216,
    vllm_gpu_memory_utilization: 0.3,
    vllm_max_model_length: null,
    vllm_tensor_parallel_size: 1,
  }),
  sync_ref_model: { reason: "the reference stays fixed (no periodic sync)", accepts: [false] },
  ref_model_mixup_alpha: { reason: "the reference stays fixed", accepts: [0.6] },
  ref_model_sync_steps: { reason: "the reference stays fixed", accepts: [512] },
  log_completions: {
    reason: "sample tables are logged every logSamplesEvery rounds (train({ logSamplesEvery }); " +
      "0 turns them off)",
    accepts: [true],
  },
  num_completions_to_print: {
    reason: "train({ logSamplesCount }) sets the rows per sample table",
    accepts: [null],
  },
  log_multimodal: { reason: "completions are text", accepts: [true] },
  log_unique_prompts: { reason: "sample tables show a round's first rows", accepts: [false] },
  ...ignoredAtDefault("generation runs in-process on the policy", {
    use_transformers_continuous_batching: false,
    transformers_continuous_batching_config: null,
    use_transformers_paged: false,
  }),
};

/**
 * The shared fields' validator; GRPO and RLOO extend it with their own fields (defaults are
 * filled by {@link finishGroupConfig}).
 */
export const GROUP_CONFIG: ConfigParser<GroupConfigFields> = strictConfig<GroupConfigFields>(
  "GroupConfig",
  z.object({
    learningRate: z.number().min(0).describe("a finite number >= 0").optional(),
    batchSize: int(1).describe("an integer >= 1").optional(),
    gradientAccumulationSteps: int(1).describe("an integer >= 1").optional(),
    stepsPerGeneration: int(1).nullable().describe("an integer >= 1, or null").optional(),
    generationBatchSize: int(1).nullable().describe("an integer >= 1, or null").optional(),
    numGenerations: int(2).describe("an integer >= 2 (advantages compare completions)")
      .optional(),
    maxCompletionLength: int(1).describe("an integer >= 1").optional(),
    temperature: z.number().gt(0).describe("a number > 0").optional(),
    topK: int(0).describe("an integer >= 0 (0: off)").optional(),
    topP: z.number().gt(0).max(1).describe("a number in (0, 1]").optional(),
    beta: z.number().min(0).describe("a number >= 0").optional(),
    numIterations: int(1).describe("an integer >= 1").optional(),
    epsilon: z.number().gt(0).lt(1).describe("a number in (0, 1)").optional(),
    epsilonHigh: z.number().gt(0).nullable().describe("a number > 0, or null for epsilon")
      .optional(),
    rewardWeights: z.array(z.number()).nullable()
      .describe("a list of numbers (one per reward function), or null").optional(),
    maskTruncatedCompletions: z.boolean().describe("true or false").optional(),
    maxGradNorm: z.number().gt(0).nullable().describe("a number > 0, or null for no clipping")
      .optional(),
    weightDecay: z.number().min(0).describe("a number >= 0").optional(),
    adamBetas: z.tuple([adamBeta, adamBeta]).describe("[beta1, beta2], each in [0, 1)")
      .optional(),
    adamBeta1: adamBeta.describe("a number in [0, 1)").optional(),
    adamBeta2: adamBeta.describe("a number in [0, 1)").optional(),
    adamEpsilon: z.number().min(0).describe("a number >= 0").optional(),
    lrSchedulerType: z.enum(SCHEDULES).describe(`one of ${SCHEDULES.join(", ")}`).optional(),
    warmupSteps: int(0).describe("an integer >= 0").optional(),
    // TRL's `max_steps=-1` means "not set": the epochs decide.
    maxSteps: z.union([int(1), z.null(), z.literal(-1).transform(() => null)])
      .describe("an integer >= 1, or null (or -1, as in TRL) to train numTrainEpochs epochs")
      .optional(),
    numTrainEpochs: z.number().gt(0).describe("a finite number > 0").optional(),
    seed: z.number().int().describe("an integer").optional(),
    saveSteps: int(1).describe("an integer >= 1").optional(),
    outputDir: z.string().min(1).nullable().describe("a folder path, or null").optional(),
    reportTo: z.custom<GroupConfigValues["reportTo"]>((v) => {
      try {
        resolveReportTo("", v);
        return true;
      } catch {
        return false;
      }
    }).describe(`"tensorboard", "none", or a list of them`).optional(),
    gradientCheckpointing: z.boolean().describe("true or false").optional(),
  }),
  { trlNames: GROUP_TRL_NAMES, unsupported: UNSUPPORTED_GROUP_SETTINGS },
);

/**
 * Fill the defaults (the shared ones, then the trainer's) and check how the sizes fit: a
 * generation round holds `batchSize × stepsPerGeneration` completions, whole groups of
 * `numGenerations`, and a whole number of optimizer steps.
 *
 * @param where `GRPOConfig` or `RLOOConfig`.
 * @param given The parsed fields.
 * @param defaults The trainer's own defaults (its `numGenerations`, `beta` and fields).
 */
export function finishGroupConfig<C extends GroupConfigValues>(
  where: string,
  given: GroupConfigFields & Partial<Omit<C, keyof GroupConfigFields>>,
  defaults: Omit<C, keyof typeof GROUP_DEFAULTS | "stepsPerGeneration" | "epsilonHigh">,
): C {
  const {
    adamBeta1,
    adamBeta2,
    generationBatchSize,
    stepsPerGeneration: steps,
    epsilonHigh: high,
    ...rest
  } = given;
  const c = { ...GROUP_DEFAULTS, ...defaults, ...rest } as unknown as C;
  c.adamBetas = [c.adamBetas[0], c.adamBetas[1]]; // each config owns its array
  if (adamBeta1 !== undefined || adamBeta2 !== undefined) {
    if (rest.adamBetas !== undefined) {
      throw new ConfigError(where, [
        "adamBetas and adam_beta1 / adam_beta2 are the same setting; give one of them",
      ]);
    }
    c.adamBetas = [adamBeta1 ?? c.adamBetas[0], adamBeta2 ?? c.adamBetas[1]];
  }
  let stepsPerGeneration = steps ?? c.gradientAccumulationSteps;
  if (generationBatchSize !== undefined && generationBatchSize !== null) {
    if (steps !== undefined && steps !== null) {
      throw new ConfigError(where, [
        `generationBatchSize (${generationBatchSize}) and stepsPerGeneration (${steps}) are two ` +
        `ways to give the round's size; give one of them`,
      ]);
    }
    if (generationBatchSize % c.batchSize !== 0) {
      throw new ConfigError(where, [
        `generationBatchSize = ${generationBatchSize} must be a multiple of batchSize = ` +
        `${c.batchSize} (a round is a whole number of micro-batches)`,
      ]);
    }
    stepsPerGeneration = generationBatchSize / c.batchSize;
  }
  const epsilonHigh = high ?? c.epsilon;
  if (stepsPerGeneration % c.gradientAccumulationSteps !== 0) {
    throw new ConfigError(where, [
      `stepsPerGeneration = ${stepsPerGeneration} must be a multiple of ` +
      `gradientAccumulationSteps = ${c.gradientAccumulationSteps}, so each generation round ` +
      `is a whole number of optimizer steps`,
    ]);
  }
  const generationBatch = c.batchSize * stepsPerGeneration;
  if (generationBatch % c.numGenerations !== 0) {
    throw new ConfigError(where, [
      `numGenerations = ${c.numGenerations} does not divide the generation batch ` +
      `batchSize × stepsPerGeneration = ${c.batchSize} × ${stepsPerGeneration} = ` +
      `${generationBatch}; every prompt's ${c.numGenerations} completions must be in one ` +
      `batch: make batchSize × stepsPerGeneration a multiple of ${c.numGenerations}`,
    ]);
  }
  return { ...c, stepsPerGeneration, epsilonHigh };
}

/** Sizes derived from a config. */
export interface GroupSizes {
  /** Completions per generation round. */
  generationBatchSize: number;
  /** Prompts per generation round. */
  promptsPerStep: number;
  /** Optimizer steps per generation round. */
  updatesPerStep: number;
}

/**
 * The sizes of a round.
 *
 * @param c A finished config.
 */
export function groupSizes(c: GroupConfigValues): GroupSizes {
  const generationBatchSize = c.batchSize * c.stepsPerGeneration;
  return {
    generationBatchSize,
    promptsPerStep: generationBatchSize / c.numGenerations,
    updatesPerStep: (c.numIterations * c.stepsPerGeneration) / c.gradientAccumulationSteps,
  };
}
