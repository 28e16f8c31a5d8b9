/**
 * RLOO's configuration with TRL 1.9's defaults (SPEC D.4), under the one config rule of
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
} from "../common/group_config.ts";

/** RLOO's settings: the shared group-trainer fields plus RLOO's own. */
export interface RLOOConfigValues extends GroupConfigValues {
  /** Whiten the advantages over the generation round (TRL default false). */
  normalizeAdvantages: boolean;
  /** Clip the summed reward to [min, max] before the KL penalty (null: no clipping). */
  rewardClipRange: [number, number] | null;
}

/** RLOO's fields as the parser takes them. */
export interface RLOOConfigFields extends GroupConfigFields {
  /** Whiten the advantages over the generation round (TRL default false). */
  normalizeAdvantages?: boolean;
  /** Clip the summed reward to [min, max] before the KL penalty (null: no clipping). */
  rewardClipRange?: [number, number] | null;
}

/**
 * Fields a user may set, under Tether's names (`numGenerations`), their snake_case spellings
 * (TRL 1.9's `RLOOConfig` names: `num_generations`, `normalize_advantages`),
 * `per_device_train_batch_size`, `adam_beta1` / `adam_beta2` and `generation_batch_size`.
 */
export type RLOOConfigInput = ConfigInput<RLOOConfigFields, typeof GROUP_TRL_NAMES>;

/** Validates RLOO configs (the shared group fields plus RLOO's). */
export const RLOO_CONFIG: ConfigParser<RLOOConfigFields> = GROUP_CONFIG.extend<RLOOConfigFields>(
  "RLOOConfig",
  {
    normalizeAdvantages: z.boolean().describe("true or false").optional(),
    rewardClipRange: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi)
      .nullable().describe("[min, max] with min < max, or null").optional(),
  },
  {
    unsupported: {
      // Old TRL RLOOConfig names (before the trainer was rewritten on GRPO's shape).
      rloo_k: { reason: "is TRL's old name of num_generations (numGenerations)", omitted: true },
      num_ppo_epochs: {
        reason: "is TRL's old name of num_iterations (numIterations)",
        omitted: true,
      },
      kl_coef: { reason: "is TRL's old name of beta", omitted: true },
      cliprange: { reason: "is TRL's old name of epsilon", omitted: true },
    },
  },
);

/**
 * Validate an RLOO config and fill TRL 1.9's defaults: lr 1e-6, 2 generations per prompt,
 * β = 0.05, ε = 0.2 (ε_high = ε), no advantage normalisation, one iteration, 256 new tokens.
 * Fields are accepted under Tether's names and TRL's (see {@link RLOOConfigInput}); an unknown
 * key, a field given twice or a bad value is a `ConfigError` naming it.
 *
 * @example
 * ```ts
 * import { makeRLOOConfig } from "@tether/rlhf/rloo";
 *
 * const c = makeRLOOConfig({ num_generations: 4, normalize_advantages: true });
 * console.log(c.numGenerations, c.normalizeAdvantages, c.beta); // 4 true 0.05
 * try {
 *   makeRLOOConfig({ rloo_k: 4 } as never); // TRL's old name
 * } catch (e) {
 *   // RLOOConfig: rloo_k is TRL's old name of num_generations (numGenerations)
 *   console.log((e as Error).message);
 * }
 * ```
 *
 * @param input Fields to set.
 */
export function makeRLOOConfig(input: RLOOConfigInput = {}): RLOOConfigValues {
  return finishGroupConfig<RLOOConfigValues>("RLOOConfig", RLOO_CONFIG.parse(input), {
    numGenerations: 2,
    beta: 0.05,
    normalizeAdvantages: false,
    rewardClipRange: null,
  });
}

/**
 * A validated RLOO configuration: `new RLOOConfig({ numGenerations: 4 })`. Unset fields take
 * TRL 1.9's defaults; a bad field throws an error naming it.
 */
export class RLOOConfig {
  /**
   * Validate `input` and fill the defaults.
   *
   * @param input Fields to set.
   */
  constructor(input: RLOOConfigInput = {}) {
    Object.assign(this, makeRLOOConfig(input));
  }
}

// The class carries the validated fields; merging gives them types without repeating the list.
/** The validated fields of an `RLOOConfig`. */
export interface RLOOConfig extends RLOOConfigValues {}
