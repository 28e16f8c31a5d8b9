/**
 * GRPO's configuration with TRL 1.9's defaults (SPEC D.5), under the one config rule of
 * `config_schema.ts`: TRL's snake_case names are accepted as aliases; an unknown key or a bad
 * value is refused naming the field, the value and the fix.
 *
 * @module
 */

import { z } from "zod";
import type { ConfigInput, ConfigParser } from "../common/config_schema.ts";
import {
  finishGroupConfig,
  GROUP_CONFIG,
  type GROUP_TRL_NAMES,
  type GroupConfigFields,
  type GroupConfigValues,
  ignoredAtDefault,
} from "../common/group_config.ts";
import {
  MULTI_OBJECTIVE_AGGREGATIONS,
  type MultiObjectiveAggregation,
  SCALE_REWARDS,
  type ScaleRewards,
} from "./advantages.ts";
import { GRPO_LOSS_TYPES, type GrpoLossType } from "./loss.ts";

/** GRPO's settings: the shared group-trainer fields plus GRPO's own. */
export interface GRPOConfigValues extends GroupConfigValues {
  /** Token aggregation of the loss (TRL default `dapo`). */
  lossType: GrpoLossType;
  /** How advantages are scaled (TRL default `group`). */
  scaleRewards: ScaleRewards;
  /** How several reward functions combine (TRL default `sum_then_normalize`). */
  multiObjectiveAggregation: MultiObjectiveAggregation;
}

/** GRPO's fields as the parser takes them; `scaleRewards` also takes TRL's booleans. */
export interface GRPOConfigFields extends GroupConfigFields {
  /** Token aggregation of the loss (TRL default `dapo`). */
  lossType?: GrpoLossType;
  /** How advantages are scaled (TRL default `group`; true = group, false = none). */
  scaleRewards?: ScaleRewards | boolean;
  /** How several reward functions combine (TRL default `sum_then_normalize`). */
  multiObjectiveAggregation?: MultiObjectiveAggregation;
}

/**
 * Fields a user may set, under Tether's names (`numGenerations`), their snake_case spellings
 * (TRL 1.9's `GRPOConfig` names: `num_generations`, `loss_type`, `scale_rewards`),
 * `per_device_train_batch_size`, `adam_beta1` / `adam_beta2` and `generation_batch_size`.
 */
export type GRPOConfigInput = ConfigInput<GRPOConfigFields, typeof GROUP_TRL_NAMES>;

const NO_LOSS = "only for loss types Tether does not have (grpo, bnpo, dr_grpo and dapo are here)";

/** Validates GRPO configs (the shared group fields plus GRPO's). */
export const GRPO_CONFIG: ConfigParser<GRPOConfigFields> = GROUP_CONFIG.extend<GRPOConfigFields>(
  "GRPOConfig",
  {
    lossType: z.enum(GRPO_LOSS_TYPES).describe(`one of ${GRPO_LOSS_TYPES.join(", ")}`)
      .optional(),
    scaleRewards: z.union([z.enum(SCALE_REWARDS as [ScaleRewards, ...ScaleRewards[]]), z.boolean()])
      .describe(`one of ${SCALE_REWARDS.join(", ")}, or true (group) / false (none)`).optional(),
    multiObjectiveAggregation: z.enum(
      MULTI_OBJECTIVE_AGGREGATIONS as [MultiObjectiveAggregation, ...MultiObjectiveAggregation[]],
    ).describe(`one of ${MULTI_OBJECTIVE_AGGREGATIONS.join(", ")}`).optional(),
  },
  {
    unsupported: {
      cast_lm_head_to_fp32: { reason: "training runs in f32", accepts: [false, true] },
      delta: { reason: "no two-sided GRPO clipping", accepts: [null] },
      importance_sampling_level: {
        reason: "ratios are per token (GSPO's sequence level is not implemented)",
        accepts: ["token"],
      },
      ...ignoredAtDefault(NO_LOSS, {
        sapo_temperature_neg: 1.05,
        sapo_temperature_pos: 1,
        vespo_k_pos: 2,
        vespo_lambda_pos: 3,
        vespo_k_neg: 3,
        vespo_lambda_neg: 2,
      }),
      ...ignoredAtDefault("no entropy regularisation or entropy masking", {
        top_entropy_quantile: 1,
        entropy_coef: 0,
        use_adaptive_entropy: false,
        entropy_coef_min: 0,
        entropy_coef_max: 1,
        entropy_coef_delta: 0.005,
        entropy_target: 0.2,
      }),
      max_tool_calling_iterations: { reason: "no tool calling", accepts: [null] },
      ...ignoredAtDefault("generation runs in-process on the policy (use_vllm is false)", {
        vllm_importance_sampling_correction: true,
        vllm_importance_sampling_mode: "sequence_mask",
        vllm_importance_sampling_clip_max: 3,
        vllm_importance_sampling_clip_min: null,
        vllm_importance_sampling_cap: null,
      }),
      off_policy_mask_threshold: { reason: "no off-policy masking", accepts: [null] },
      use_bias_correction_kl: { reason: "the KL term is k3, uncorrected", accepts: [false] },
      log_completions_hub_repo: {
        reason: "the Hugging Face Hub is read-only here",
        accepts: [null],
      },
    },
  },
);

/**
 * Validate a GRPO config and fill TRL 1.9's defaults: lr 1e-6, 8 generations per prompt,
 * β = 0, ε = 0.2 (ε_high = ε), `dapo`, `group` scaling, one iteration, 256 new tokens.
 * Fields are accepted under Tether's names and TRL's (see {@link GRPOConfigInput}); an unknown
 * key, a field given twice or a bad value is a `ConfigError` naming it.
 *
 * @example
 * ```ts
 * import { makeGRPOConfig } from "@tether/rlhf/grpo";
 *
 * const c = makeGRPOConfig({ num_generations: 4, per_device_train_batch_size: 8, beta: 0.04 });
 * console.log(c.numGenerations, c.batchSize, c.lossType, c.learningRate); // 4 8 dapo 0.000001
 * try {
 *   makeGRPOConfig({ num_generation: 4 } as never);
 * } catch (e) {
 *   // GRPOConfig: unknown key "num_generation"; the closest valid name is "num_generations" (numGenerations)
 *   console.log((e as Error).message);
 * }
 * ```
 *
 * @param input Fields to set.
 */
export function makeGRPOConfig(input: GRPOConfigInput = {}): GRPOConfigValues {
  const where = "GRPOConfig";
  const given = GRPO_CONFIG.parse(input, where);
  const scaleRewards = given.scaleRewards === true
    ? "group"
    : given.scaleRewards === false
    ? "none"
    : given.scaleRewards;
  return finishGroupConfig<GRPOConfigValues>(where, {
    ...given,
    scaleRewards: scaleRewards ?? "group",
  }, {
    numGenerations: 8,
    beta: 0,
    lossType: "dapo",
    scaleRewards: "group",
    multiObjectiveAggregation: "sum_then_normalize",
  });
}

/**
 * A validated GRPO configuration: `new GRPOConfig({ numGenerations: 4, beta: 0.04 })`. Unset
 * fields take TRL 1.9's defaults; a bad field throws an error naming it.
 */
export class GRPOConfig {
  /**
   * Validate `input` and fill the defaults.
   *
   * @param input Fields to set.
   */
  constructor(input: GRPOConfigInput = {}) {
    Object.assign(this, makeGRPOConfig(input));
  }
}

// The class carries the validated fields; merging gives them types without repeating the list.
/** The validated fields of a `GRPOConfig`. */
export interface GRPOConfig extends GRPOConfigValues {}
