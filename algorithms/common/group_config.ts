/**
 * The settings GRPO and RLOO share (TRL 1.9's `GRPOConfig` / `RLOOConfig` fields, camelCased,
 * with transformers' `TrainingArguments` defaults where TRL keeps them), validated so a bad
 * value is reported with its field name.
 *
 * @module
 */

import { z } from "zod";
import type { LrSchedulerType } from "./args.ts";

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
}

/** Fields a user may set; `scaleRewards` also takes TRL's booleans. */
export type GroupConfigInput =
  & Partial<Omit<GroupConfigValues, "stepsPerGeneration" | "epsilonHigh">>
  & {
    /** Micro-batches per generation round (default: `gradientAccumulationSteps`). */
    stepsPerGeneration?: number | null;
    /** Upper clip (default: `epsilon`). */
    epsilonHigh?: number | null;
  };

const positiveInt = z.number().int().positive();

/**
 * The shared schema; each trainer extends it with its own fields and defaults.
 *
 * @param defaults The trainer's defaults for `numGenerations` and `beta`.
 */
export function groupConfigSchema(defaults: { numGenerations: number; beta: number }) {
  return z.object({
    learningRate: z.number().min(0).default(1e-6),
    batchSize: positiveInt.default(8),
    gradientAccumulationSteps: positiveInt.default(1),
    stepsPerGeneration: positiveInt.nullable().default(null),
    numGenerations: z.number().int().min(2).default(defaults.numGenerations),
    maxCompletionLength: positiveInt.default(256),
    temperature: z.number().positive().default(1),
    topK: z.number().int().min(0).default(0),
    topP: z.number().gt(0).max(1).default(1),
    beta: z.number().min(0).default(defaults.beta),
    numIterations: positiveInt.default(1),
    epsilon: z.number().positive().lt(1).default(0.2),
    epsilonHigh: z.number().positive().nullable().default(null),
    rewardWeights: z.array(z.number()).nullable().default(null),
    maskTruncatedCompletions: z.boolean().default(false),
    maxGradNorm: z.number().positive().nullable().default(1),
    weightDecay: z.number().min(0).default(0),
    adamBetas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    adamEpsilon: z.number().min(0).default(1e-8),
    lrSchedulerType: z.enum(["linear", "constant", "constant_with_warmup", "cosine"]).default(
      "linear",
    ),
    warmupSteps: z.number().int().min(0).default(0),
    maxSteps: positiveInt.nullable().default(null),
    numTrainEpochs: z.number().positive().default(3),
    seed: z.number().int().default(42),
    saveSteps: positiveInt.default(500),
    outputDir: z.string().min(1).nullable().default(null),
  });
}

/**
 * Parse a config with a schema; errors name the field, the value and the rule.
 *
 * @param where `GRPOConfig` or `RLOOConfig`.
 * @param schema The trainer's schema.
 * @param input The user's fields.
 */
export function parseGroupConfig<T extends z.ZodType>(
  where: string,
  schema: T,
  input: Record<string, unknown>,
): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.join(".") || "(config)";
      const value = i.path.length ? JSON.stringify(input[String(i.path[0])]) : "";
      return `${field}${value ? ` = ${value}` : ""}: ${i.message}`;
    });
    throw new Error(`${where}: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/**
 * Fill the derived defaults and check how the sizes fit: a generation round holds
 * `batchSize × stepsPerGeneration` completions, whole groups of `numGenerations`, and a whole
 * number of optimizer steps.
 *
 * @param where `GRPOConfig` or `RLOOConfig`.
 * @param c Parsed fields.
 */
export function finishGroupConfig<
  C extends Omit<GroupConfigValues, "stepsPerGeneration" | "epsilonHigh"> & {
    stepsPerGeneration: number | null;
    epsilonHigh: number | null;
  },
>(where: string, c: C): Omit<C, "stepsPerGeneration" | "epsilonHigh"> & GroupConfigValues {
  const stepsPerGeneration = c.stepsPerGeneration ?? c.gradientAccumulationSteps;
  const epsilonHigh = c.epsilonHigh ?? c.epsilon;
  if (stepsPerGeneration % c.gradientAccumulationSteps !== 0) {
    throw new Error(
      `${where}: stepsPerGeneration = ${stepsPerGeneration} must be a multiple of ` +
        `gradientAccumulationSteps = ${c.gradientAccumulationSteps}, so each generation round ` +
        `is a whole number of optimizer steps`,
    );
  }
  const generationBatch = c.batchSize * stepsPerGeneration;
  if (generationBatch % c.numGenerations !== 0) {
    throw new Error(
      `${where}: numGenerations = ${c.numGenerations} does not divide the generation batch ` +
        `batchSize × stepsPerGeneration = ${c.batchSize} × ${stepsPerGeneration} = ` +
        `${generationBatch}; every prompt's ${c.numGenerations} completions must be in one ` +
        `batch: make batchSize × stepsPerGeneration a multiple of ${c.numGenerations}`,
    );
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
