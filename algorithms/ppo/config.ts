/**
 * PPO configuration with TRL 0.7.4's defaults (SPEC A.0), validated with zod so a bad value is
 * reported with its field name.
 *
 * Note: TRL 0.7.4's default learning rate is 1e-5. The classic gpt2-sentiment tutorial passes
 * 1.41e-5 explicitly (it became TRL's default only in 0.7.11); our IMDB example passes it too.
 */

import { z } from "zod";

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

/** Fields a user may set; the rest take TRL 0.7.4's defaults. */
export type PPOConfigInput = Partial<PPOConfigValues>;

const schema = z.object({
  learningRate: z.number().positive().default(1e-5),
  adapKlCtrl: z.boolean().default(true),
  initKlCoef: z.number().min(0).default(0.2),
  klPenalty: z.enum(["kl", "abs", "mse", "full"]).default("kl"),
  target: z.number().positive().default(6),
  horizon: z.number().positive().default(10000),
  gamma: z.number().min(0).max(1).default(1),
  lam: z.number().min(0).max(1).default(0.95),
  cliprange: z.number().positive().default(0.2),
  cliprangeValue: z.number().positive().default(0.2),
  vfCoef: z.number().min(0).default(0.1),
  batchSize: z.number().int().positive().default(256),
  miniBatchSize: z.number().int().positive().default(1),
  gradientAccumulationSteps: z.number().int().positive().default(1),
  ppoEpochs: z.number().int().positive().default(4),
  maxGradNorm: z.number().positive().nullable().default(null),
  earlyStopping: z.boolean().default(false),
  targetKl: z.number().default(1),
  ratioThreshold: z.number().positive().default(10),
  useScoreScaling: z.boolean().default(false),
  useScoreNorm: z.boolean().default(false),
  scoreClip: z.number().positive().nullable().default(null),
  whitenRewards: z.boolean().default(false),
  seed: z.number().int().default(0),
}).strict();

/**
 * Validates a config and fills the defaults. Errors name the field, the value and the rule, and
 * the batch size must be a multiple of miniBatchSize × gradientAccumulationSteps, as in TRL.
 */
export function makePPOConfig(input: PPOConfigInput = {}): PPOConfigValues {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.join(".") || "(config)";
      const value = i.path.length
        ? JSON.stringify((input as Record<string, unknown>)[String(i.path[0])])
        : "";
      return `${field}${value ? ` = ${value}` : ""}: ${i.message}`;
    });
    throw new Error(`PPOConfig: ${issues.join("; ")}`);
  }
  const cfg: PPOConfigValues = parsed.data;
  const backwardBatch = cfg.miniBatchSize * cfg.gradientAccumulationSteps;
  if (cfg.batchSize % backwardBatch !== 0) {
    throw new Error(
      `PPOConfig: batchSize = ${cfg.batchSize} must be a multiple of miniBatchSize × ` +
        `gradientAccumulationSteps = ${cfg.miniBatchSize} × ${cfg.gradientAccumulationSteps}`,
    );
  }
  return cfg;
}

/**
 * A validated PPO configuration: `new PPOConfig({ learningRate: 1.41e-5, batchSize: 64 })`.
 * Unset fields take TRL 0.7.4's defaults; a bad field throws an error naming it.
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
