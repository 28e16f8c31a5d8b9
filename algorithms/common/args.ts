/**
 * The settings every trainer shares (transformers' `TrainingArguments`, camelCased), validated
 * under the rule of `config_schema.ts`: each field also answers to its snake_case spelling and
 * to TRL's name (`per_device_train_batch_size` → `batchSize`, `adam_beta1` / `adam_beta2` →
 * `adamBetas`); unknown keys, a field given twice, wrong types and TRL settings Tether does not
 * have are errors that name the field, the value and the fix.
 *
 * @module
 */

import { z } from "zod";
import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";
import {
  ConfigError,
  type ConfigInput,
  type ConfigParser,
  strictConfig,
  type UnsupportedSetting,
} from "./config_schema.ts";

/** Learning-rate schedules, by transformers' `lr_scheduler_type` name. */
export type LrSchedulerType = "linear" | "constant" | "constant_with_warmup" | "cosine";

/** transformers' `optim` names the shared trainer loop builds. */
export const OPTIMIZER_NAMES = ["adamw_torch", "adamw_torch_fused", "rmsprop"] as const;

/**
 * An optimizer by transformers' `optim` name: `adamw_torch` (and `adamw_torch_fused`, the same
 * arithmetic) is AdamW with `adamBetas`, `adamEpsilon` and `weightDecay`; `rmsprop` is
 * torch.optim.RMSprop given only the learning rate and, per group, `weightDecay` (as transformers'
 * Trainer builds it: alpha 0.99, eps 1e-8, no momentum, not centered; the adam settings unused).
 */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/**
 * Shared trainer settings; every field has a default. Each is also accepted under its
 * snake_case spelling and TRL's name (see {@link TRAINING_ARGS_TRL_NAMES}).
 */
export interface TrainingArgs {
  /** Peak learning rate of the optimizer. */
  learningRate: number;
  /** The optimizer, by transformers' `optim` name (see {@link OptimizerName}). */
  optim: OptimizerName;
  /** Examples per micro-batch (per forward/backward). */
  batchSize: number;
  /** Examples per forward in `evaluate` (default: `batchSize`). */
  evalBatchSize: number;
  /** Micro-batches whose gradients are summed (each loss scaled by 1/n) per optimizer step. */
  gradientAccumulationSteps: number;
  /** Optimizer steps to take; when null, `numTrainEpochs` passes over the data decide. */
  maxSteps: number | null;
  /** Passes over the training data when `maxSteps` is null (fractions allowed). */
  numTrainEpochs: number;
  /** Global gradient-norm clip before each step (null: no clipping). */
  maxGradNorm: number | null;
  /**
   * Weight decay on every parameter but biases and normalisation weights: AdamW's decoupled
   * decay, or RMSprop's L2 term.
   */
  weightDecay: number;
  /** AdamW betas. */
  adamBetas: readonly [number, number];
  /** AdamW epsilon. */
  adamEpsilon: number;
  /** Linear warmup steps before the schedule. */
  warmupSteps: number;
  /** Learning-rate schedule after warmup. */
  lrSchedulerType: LrSchedulerType;
  /** Write averaged training metrics every this many steps. */
  loggingSteps: number;
  /** Also write the first step's training metrics on their own (`logging_first_step`). */
  loggingFirstStep: boolean;
  /** Evaluate on the eval set every this many steps (null: only when asked). */
  evalSteps: number | null;
  /** Save a checkpoint to `<outputDir>/checkpoint` every this many steps (null: never). */
  saveSteps: number | null;
  /** Folder for `metrics.jsonl` and the checkpoint (null: nothing is written). */
  outputDir: string | null;
  /** Seed of the data order (each epoch's shuffle is derived from it). */
  seed: number;
  /** Print a progress line (in place on a terminal, a plain line per log otherwise). */
  progress: boolean;
  /** Also write TensorBoard event files into `outputDir` (transformers' `report_to`). */
  reportTo: ReportTarget | readonly ReportTarget[] | "none";
  /**
   * Recompute each block's activations in the backward pass instead of keeping them
   * (transformers' `gradient_checkpointing`): the trainer calls the model's
   * `gradientCheckpointingEnable()`. Same gradients, less memory, about one more forward of time.
   */
  gradientCheckpointing: boolean;
}

/** Defaults shared by all trainers (transformers' where they exist, except logging cadence). */
export const DEFAULT_TRAINING_ARGS: Readonly<TrainingArgs> = Object.freeze({
  learningRate: 5e-5,
  optim: "adamw_torch" as const,
  batchSize: 8,
  evalBatchSize: 8,
  gradientAccumulationSteps: 1,
  maxSteps: null,
  numTrainEpochs: 1,
  maxGradNorm: 1,
  weightDecay: 0,
  adamBetas: [0.9, 0.999] as const,
  adamEpsilon: 1e-8,
  warmupSteps: 0,
  lrSchedulerType: "linear" as const,
  loggingSteps: 10,
  loggingFirstStep: false,
  evalSteps: null,
  saveSteps: null,
  outputDir: null,
  seed: 42,
  progress: false,
  reportTo: "none",
  gradientCheckpointing: false,
});

const SCHEDULES = ["linear", "constant", "constant_with_warmup", "cosine"] as const;

const int = (min: number) => z.number().int().min(min);
const beta = z.number().min(0).lt(1);

/** TRL's names of shared settings that are not a field's snake_case spelling. */
export const TRAINING_ARGS_TRL_NAMES = {
  per_device_train_batch_size: "batchSize",
  per_device_eval_batch_size: "evalBatchSize",
} as const;

/**
 * `TrainingArguments` settings Tether does not have; the values listed are what Tether does
 * anyway, so they are accepted.
 */
export const UNSUPPORTED_TRAINING_ARGS: Readonly<Record<string, UnsupportedSetting>> = {
  bf16: { reason: "training runs in f32 on every backend", accepts: [false] },
  fp16: { reason: "training runs in f32 on every backend", accepts: [false] },
  tf32: { reason: "training runs in f32 on every backend", accepts: [false] },
  warmup_ratio: { reason: "give warmupSteps (warmup_steps) instead", accepts: [0] },
  lr_scheduler_kwargs: { reason: "pass parts.scheduler for a custom schedule", accepts: [{}] },
  eval_strategy: {
    reason: "evaluation runs every evalSteps (eval_steps) steps when it is set",
    accepts: ["steps", "no"],
  },
  evaluation_strategy: {
    reason: "evaluation runs every evalSteps (eval_steps) steps when it is set",
    accepts: ["steps", "no"],
  },
  save_strategy: {
    reason: "checkpoints are saved every saveSteps (save_steps) steps when it is set",
    accepts: ["steps", "no"],
  },
  logging_strategy: { reason: "metrics are logged every loggingSteps steps", accepts: ["steps"] },
  save_total_limit: {
    reason: "one checkpoint is kept, replaced atomically at each save",
    accepts: [1],
  },
  push_to_hub: { reason: "the Hugging Face Hub is read-only here", accepts: [false] },
  hub_model_id: { reason: "the Hugging Face Hub is read-only here" },
  run_name: { reason: "a run is named by its folder, outputDir (output_dir)" },
  logging_dir: { reason: "logs and TensorBoard files go into outputDir (output_dir)" },
  disable_tqdm: { reason: "use progress (true draws the progress line)" },
  dataloader_num_workers: { reason: "data is tokenized once, up front", accepts: [0] },
  dataset_num_proc: { reason: "data is tokenized once, up front, in one process", accepts: [null] },
  use_liger_kernel: { reason: "the fused kernels are built in", accepts: [false] },
  padding_free: { reason: "batches are right-padded and masked", accepts: [false] },
  model_init_kwargs: { reason: "load the model yourself and pass it as parts.model" },
  remove_unused_columns: {
    reason: "rows are read by their documented fields; other fields are ignored by design",
    accepts: [true, false],
  },
};

/** The shared settings' validator; trainers extend it with their own fields. */
export const TRAINING_ARGS_CONFIG: ConfigParser<TrainingArgsInput> = strictConfig<
  TrainingArgsInput
>(
  "TrainingArgs",
  z.object({
    learningRate: z.number().min(0).describe("a finite number >= 0").optional(),
    optim: z.enum(OPTIMIZER_NAMES).describe(
      `one of ${OPTIMIZER_NAMES.join(", ")} (pass parts.optimizer for another)`,
    ).optional(),
    batchSize: int(1).describe("an integer >= 1").optional(),
    evalBatchSize: int(1).describe("an integer >= 1").optional(),
    gradientAccumulationSteps: int(1).describe("an integer >= 1").optional(),
    // TRL's `max_steps=-1` means "not set": the epochs decide.
    maxSteps: z.union([int(1), z.null(), z.literal(-1).transform(() => null)])
      .describe("an integer >= 1, or null (or -1, as in TRL) to train numTrainEpochs epochs")
      .optional(),
    numTrainEpochs: z.number().gt(0).describe("a finite number > 0").optional(),
    maxGradNorm: z.number().gt(0).nullable().describe("a number > 0, or null for no clipping")
      .optional(),
    weightDecay: z.number().min(0).describe("a number >= 0").optional(),
    adamBetas: z.tuple([beta, beta]).describe("[beta1, beta2], each in [0, 1)").optional(),
    adamBeta1: beta.describe("a number in [0, 1)").optional(),
    adamBeta2: beta.describe("a number in [0, 1)").optional(),
    adamEpsilon: z.number().min(0).describe("a number >= 0").optional(),
    warmupSteps: int(0).describe("an integer >= 0").optional(),
    lrSchedulerType: z.enum(SCHEDULES).describe(`one of ${SCHEDULES.join(", ")}`).optional(),
    loggingSteps: int(1).describe("an integer >= 1").optional(),
    loggingFirstStep: z.boolean().describe("true or false").optional(),
    evalSteps: int(1).nullable().describe("an integer >= 1, or null").optional(),
    saveSteps: int(1).nullable().describe("an integer >= 1, or null").optional(),
    outputDir: z.string().min(1).nullable().describe("a folder path, or null").optional(),
    seed: z.number().int().describe("an integer").optional(),
    progress: z.boolean().describe("true or false").optional(),
    reportTo: z.custom<TrainingArgs["reportTo"]>((v) => {
      try {
        resolveReportTo("", v);
        return true;
      } catch {
        return false;
      }
    }).describe(`"tensorboard", "none", or a list of them`).optional(),
    gradientCheckpointing: z.boolean().describe("true or false").optional(),
  }),
  { trlNames: TRAINING_ARGS_TRL_NAMES, unsupported: UNSUPPORTED_TRAINING_ARGS },
);

/** AdamW's betas one at a time, as TRL's `adam_beta1` / `adam_beta2` set them. */
export interface AdamBetaHalves {
  /** β₁ of AdamW; the other half of `adamBetas` keeps its value. */
  adamBeta1?: number;
  /** β₂ of AdamW; the other half of `adamBetas` keeps its value. */
  adamBeta2?: number;
}

/**
 * A trainer's config as it is accepted: the fields of `C` (the shared settings plus the
 * trainer's) under Tether's names, their snake_case spellings or TRL's names (`A` plus the
 * shared ones), and `adam_beta1` / `adam_beta2`.
 */
export type TrainerConfigInput<
  C extends Partial<TrainingArgs>,
  A extends Readonly<Record<string, keyof C & string>> = Record<never, never>,
> = ConfigInput<C & AdamBetaHalves, typeof TRAINING_ARGS_TRL_NAMES & A>;

/** The shared settings as a trainer takes them (any subset, any accepted spelling). */
export type TrainingArgsInput = TrainerConfigInput<Partial<TrainingArgs>>;

/**
 * Fill in defaults and validate; errors name the trainer, the field and the value.
 *
 * @param where Trainer name for messages.
 * @param input Fields to override (Tether's names, snake_case or TRL's).
 * @param defaults Trainer-specific defaults (e.g. a different learning rate).
 */
export function resolveTrainingArgs(
  where: string,
  input: TrainingArgsInput,
  defaults: Partial<TrainingArgs> = {},
): TrainingArgs {
  const given = TRAINING_ARGS_CONFIG.parse(input, where) as
    & Partial<TrainingArgs>
    & AdamBetaHalves;
  const { adamBeta1, adamBeta2, ...rest } = given;
  const merged = { ...DEFAULT_TRAINING_ARGS, ...defaults, ...rest } as TrainingArgs;
  if (rest.evalBatchSize === undefined && defaults.evalBatchSize === undefined) {
    merged.evalBatchSize = merged.batchSize;
  }
  if (adamBeta1 !== undefined || adamBeta2 !== undefined) {
    if (rest.adamBetas !== undefined) {
      throw new ConfigError(where, [
        "adamBetas and adam_beta1 / adam_beta2 are the same setting; give one of them",
      ]);
    }
    merged.adamBetas = [adamBeta1 ?? merged.adamBetas[0], adamBeta2 ?? merged.adamBetas[1]];
  }
  if (merged.saveSteps !== null && merged.outputDir === null) {
    throw new ConfigError(where, [
      `outputDir must be a folder when saveSteps is set (checkpoints go there), got null`,
    ]);
  }
  return merged;
}
