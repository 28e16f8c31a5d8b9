/**
 * Copying a checkpoint already read as host arrays (`loadStateDict`) into a model's parameters,
 * and reading them back for saving: the in-memory side of `loadWeights` (same checks, same
 * options), for checkpoints built or edited in code. Loaders stream from the file instead
 * (`loadWeights` with `openCheckpoint`).
 *
 * @module
 */

import type { Module } from "../core/nn/mod.ts";
import type { HostTensor } from "./io/host.ts";
import { type LoadWeightsOptions, type LoadWeightsResult, planWeights } from "./load_weights.ts";

export { HEAD_PREFIXES } from "./load_weights.ts";
export { hostWeights } from "./causal_base.ts";

/** Options of `loadStateDictWeights` (those of `loadWeights`). */
export type StateDictWeightsOptions = LoadWeightsOptions;

/** What loading did beside filling every parameter. */
export type StateDictWeightsResult = LoadWeightsResult;

/**
 * Fills `model`'s parameters from `state` (checkpoint names → host arrays), deleting each entry
 * once copied. Throws, naming every missing, unknown and misshapen tensor, when the checkpoint
 * does not fit; nothing is written then. LoRA adapter weights are never read from it.
 */
export function loadStateDictWeights(
  model: Module,
  state: Map<string, HostTensor>,
  opts: StateDictWeightsOptions = {},
): StateDictWeightsResult {
  const plan = planWeights(model, state, {
    ...opts,
    describe: opts.describe ?? "loadStateDictWeights",
  });
  for (const [param, source] of plan.copies) {
    param.backend.write(param.storage.handle, state.get(source)!.data, param.offset);
    state.delete(source);
  }
  return { initialized: plan.initialized, unused: plan.unused };
}
