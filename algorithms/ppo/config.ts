/**
 * PPO configuration with TRL 0.7.4's defaults (SPEC A.0), validated with zod so a bad value is
 * reported with its field name.
 *
 * Note: TRL 0.7.4's default learning rate is 1e-5. The classic gpt2-sentiment tutorial passes
 * 1.41e-5 explicitly (it became TRL's default only in 0.7.11); our IMDB example passes it too.
 */

import { z } from "zod";

/** The PPO hyper-parameters, camelCased TRL `PPOConfig` fields. */
export const PPOConfigSchema = z.object({
  /** Adam learning rate (TRL 0.7.4 default 1e-5). */
  learningRate: z.number().positive().default(1e-5),
  /** Use the adaptive KL controller (else a fixed β). */
  adapKlCtrl: z.boolean().default(true),
  /** Initial KL coefficient β₀. */
  initKlCoef: z.number().min(0).default(0.2),
  /** Per-token KL estimator. */
  klPenalty: z.enum(["kl", "abs", "mse", "full"]).default("kl"),
  /** Target KL per sequence (nats) of the adaptive controller. */
  target: z.number().positive().default(6),
  /** Horizon of the adaptive controller. */
  horizon: z.number().positive().default(10000),
  /** Discount γ. */
  gamma: z.number().min(0).max(1).default(1),
  /** GAE λ. */
  lam: z.number().min(0).max(1).default(0.95),
  /** Policy ratio clip. */
  cliprange: z.number().positive().default(0.2),
  /** Value clip. */
  cliprangeValue: z.number().positive().default(0.2),
  /** Value-loss weight. */
  vfCoef: z.number().min(0).default(0.1),
  /** Samples per `step()`. */
  batchSize: z.number().int().positive().default(256),
  /** Samples per forward/backward. */
  miniBatchSize: z.number().int().positive().default(1),
  /** Minibatches whose gradients add up before an optimizer step. */
  gradientAccumulationSteps: z.number().int().positive().default(1),
  /** Passes over the batch per step. */
  ppoEpochs: z.number().int().positive().default(4),
  /** Clip gradients to this global norm when set. */
  maxGradNorm: z.number().positive().nullable().default(null),
  /** Stop the epochs when the policy KL exceeds 1.5·targetKl. */
  earlyStopping: z.boolean().default(false),
  /** Early-stopping KL target. */
  targetKl: z.number().default(1),
  /** Zero the loss of a minibatch whose mean ratio exceeds this. */
  ratioThreshold: z.number().positive().default(10),
  /** Scale scores by their running std. */
  useScoreScaling: z.boolean().default(false),
  /** With score scaling, also subtract the running mean. */
  useScoreNorm: z.boolean().default(false),
  /** Clip (scaled) scores to ±scoreClip. */
  scoreClip: z.number().positive().nullable().default(null),
  /** Whiten rewards before GAE. */
  whitenRewards: z.boolean().default(false),
  /** Seed of minibatch shuffling. */
  seed: z.number().int().default(0),
}).strict();

/** A validated PPO configuration. */
export type PPOConfig = z.output<typeof PPOConfigSchema>;

/** Fields a user may set; the rest take TRL 0.7.4's defaults. */
export type PPOConfigInput = z.input<typeof PPOConfigSchema>;

/**
 * Validates a config and fills the defaults. Errors name the field, the value and the rule, and
 * the batch size must be a multiple of miniBatchSize × gradientAccumulationSteps, as in TRL.
 */
export function makePPOConfig(input: PPOConfigInput = {}): PPOConfig {
  const parsed = PPOConfigSchema.safeParse(input);
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
  const cfg = parsed.data;
  const backwardBatch = cfg.miniBatchSize * cfg.gradientAccumulationSteps;
  if (cfg.batchSize % backwardBatch !== 0) {
    throw new Error(
      `PPOConfig: batchSize = ${cfg.batchSize} must be a multiple of miniBatchSize × ` +
        `gradientAccumulationSteps = ${cfg.miniBatchSize} × ${cfg.gradientAccumulationSteps}`,
    );
  }
  return cfg;
}
