/**
 * RLOO's configuration with TRL 1.9's defaults (SPEC D.4), validated so a bad value is reported
 * with its field name.
 *
 * @module
 */

import { z } from "zod";
import {
  finishGroupConfig,
  type GroupConfigInput,
  groupConfigSchema,
  type GroupConfigValues,
  parseGroupConfig,
} from "../common/group_config.ts";

/** RLOO's settings: the shared group-trainer fields plus RLOO's own. */
export interface RLOOConfigValues extends GroupConfigValues {
  /** Whiten the advantages over the generation round (TRL default false). */
  normalizeAdvantages: boolean;
  /** Clip the summed reward to [min, max] before the KL penalty (null: no clipping). */
  rewardClipRange: [number, number] | null;
}

/** Fields a user may set. */
export type RLOOConfigInput =
  & GroupConfigInput
  & Partial<Omit<RLOOConfigValues, keyof GroupConfigValues>>;

const schema = groupConfigSchema({ numGenerations: 2, beta: 0.05 }).extend({
  normalizeAdvantages: z.boolean().default(false),
  rewardClipRange: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, {
    message: "must be [min, max] with min < max",
  }).nullable().default(null),
}).strict();

/**
 * Validate an RLOO config and fill TRL 1.9's defaults: lr 1e-6, 2 generations per prompt,
 * β = 0.05, ε = 0.2 (ε_high = ε), no advantage normalisation, one iteration, 256 new tokens.
 *
 * @param input Fields to set.
 */
export function makeRLOOConfig(input: RLOOConfigInput = {}): RLOOConfigValues {
  const c = parseGroupConfig("RLOOConfig", schema, input as Record<string, unknown>);
  return finishGroupConfig("RLOOConfig", c);
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
