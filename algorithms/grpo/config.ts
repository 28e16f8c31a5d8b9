/**
 * GRPO's configuration with TRL 1.9's defaults (SPEC D.5), validated so a bad value is reported
 * with its field name and the values it may take.
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

/** Fields a user may set; `scaleRewards` also takes TRL's booleans (true = group, false = none). */
export type GRPOConfigInput =
  & GroupConfigInput
  & Partial<Omit<GRPOConfigValues, keyof GroupConfigValues | "scaleRewards">>
  & { scaleRewards?: ScaleRewards | boolean };

const schema = groupConfigSchema({ numGenerations: 8, beta: 0 }).extend({
  lossType: z.enum(GRPO_LOSS_TYPES).default("dapo"),
  scaleRewards: z.union([z.enum(SCALE_REWARDS as [ScaleRewards, ...ScaleRewards[]]), z.boolean()])
    .default("group"),
  multiObjectiveAggregation: z.enum(
    MULTI_OBJECTIVE_AGGREGATIONS as [MultiObjectiveAggregation, ...MultiObjectiveAggregation[]],
  ).default("sum_then_normalize"),
}).strict();

/**
 * Validate a GRPO config and fill TRL 1.9's defaults: lr 1e-6, 8 generations per prompt,
 * β = 0, ε = 0.2 (ε_high = ε), `dapo`, `group` scaling, one iteration, 256 new tokens.
 *
 * @param input Fields to set.
 */
export function makeGRPOConfig(input: GRPOConfigInput = {}): GRPOConfigValues {
  const where = "GRPOConfig";
  const lossType = (input as { lossType?: unknown }).lossType;
  if (lossType !== undefined && !(GRPO_LOSS_TYPES as readonly unknown[]).includes(lossType)) {
    throw new Error(
      `${where}: lossType must be one of ${GRPO_LOSS_TYPES.join(", ")}, got ${
        JSON.stringify(lossType)
      }`,
    );
  }
  const c = parseGroupConfig(where, schema, input as Record<string, unknown>);
  const scaleRewards: ScaleRewards = c.scaleRewards === true
    ? "group"
    : c.scaleRewards === false
    ? "none"
    : c.scaleRewards;
  return finishGroupConfig(where, { ...c, scaleRewards });
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
