/**
 * The settings every trainer shares (transformers' `TrainingArguments`, camelCased), with
 * validation that names the field and the bad value.
 *
 * @module
 */

import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";

/** Learning-rate schedules, by transformers' `lr_scheduler_type` name. */
export type LrSchedulerType = "linear" | "constant" | "constant_with_warmup" | "cosine";

/** Shared trainer settings; every field has a default. */
export interface TrainingArgs {
  /** Peak learning rate of AdamW. */
  learningRate: number;
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
  /** AdamW decoupled weight decay. */
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
}

/** Defaults shared by all trainers (transformers' where they exist, except logging cadence). */
export const DEFAULT_TRAINING_ARGS: Readonly<TrainingArgs> = Object.freeze({
  learningRate: 5e-5,
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
  evalSteps: null,
  saveSteps: null,
  outputDir: null,
  seed: 42,
  progress: false,
  reportTo: "none",
});

const SCHEDULES: readonly LrSchedulerType[] = [
  "linear",
  "constant",
  "constant_with_warmup",
  "cosine",
];

/**
 * Fill in defaults and validate; errors name the trainer, the field and the value.
 *
 * @param where Trainer name for messages.
 * @param input Fields to override.
 * @param defaults Trainer-specific defaults (e.g. a different learning rate).
 */
export function resolveTrainingArgs(
  where: string,
  input: Partial<TrainingArgs>,
  defaults: Partial<TrainingArgs> = {},
): TrainingArgs {
  const merged = { ...DEFAULT_TRAINING_ARGS, ...defaults, ...dropUndefined(input) };
  if (input.evalBatchSize === undefined && defaults.evalBatchSize === undefined) {
    merged.evalBatchSize = merged.batchSize;
  }
  const a = merged as TrainingArgs;
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new Error(`${where}: ${field} must be ${rule}, got ${JSON.stringify(value) ?? value}`);
  };
  const positiveInt = (field: keyof TrainingArgs) => {
    const v = a[field] as number;
    if (!(Number.isInteger(v) && v >= 1)) fail(field, v, "an integer >= 1");
  };
  const optionalPositiveInt = (field: keyof TrainingArgs) => {
    if (a[field] !== null) positiveInt(field);
  };
  if (!(a.learningRate >= 0 && Number.isFinite(a.learningRate))) {
    fail("learningRate", a.learningRate, "a finite number >= 0");
  }
  positiveInt("batchSize");
  positiveInt("evalBatchSize");
  positiveInt("gradientAccumulationSteps");
  positiveInt("loggingSteps");
  optionalPositiveInt("maxSteps");
  optionalPositiveInt("evalSteps");
  optionalPositiveInt("saveSteps");
  if (!(a.numTrainEpochs > 0 && Number.isFinite(a.numTrainEpochs))) {
    fail("numTrainEpochs", a.numTrainEpochs, "a finite number > 0");
  }
  if (a.maxGradNorm !== null && !(a.maxGradNorm > 0)) {
    fail("maxGradNorm", a.maxGradNorm, "> 0 or null");
  }
  if (!(a.weightDecay >= 0)) fail("weightDecay", a.weightDecay, ">= 0");
  if (!(a.adamEpsilon >= 0)) fail("adamEpsilon", a.adamEpsilon, ">= 0");
  if (!(Number.isInteger(a.warmupSteps) && a.warmupSteps >= 0)) {
    fail("warmupSteps", a.warmupSteps, "an integer >= 0");
  }
  if (!SCHEDULES.includes(a.lrSchedulerType)) {
    fail("lrSchedulerType", a.lrSchedulerType, `one of ${SCHEDULES.join(", ")}`);
  }
  if (!Number.isInteger(a.seed)) fail("seed", a.seed, "an integer");
  resolveReportTo(where, a.reportTo);
  if (a.saveSteps !== null && a.outputDir === null) {
    fail("outputDir", a.outputDir, "a folder when saveSteps is set (checkpoints go there)");
  }
  return a;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
