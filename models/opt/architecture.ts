/**
 * OPT's row of the causal architecture table.
 *
 * @module
 */

import type { ArchitectureRow } from "../architecture.ts";
import { optConfig } from "./config.ts";
import { OPTForCausalLM } from "./model.ts";

/**
 * The model parameter name of an OPT checkpoint tensor: names of a saved `OPTForCausalLM` as
 * they are, names of a bare `OPTModel` (`decoder.layers...`, as the original facebook/opt
 * checkpoints have them) under `model.`.
 *
 * @param name A checkpoint tensor name.
 */
export function optCheckpointKey(name: string): string | null {
  return name.startsWith("model.") || name.startsWith("lm_head.") ? name : `model.${name}`;
}

/** `model_type` "opt": `OPTForCausalLM`, LoRA on `q_proj` and `v_proj` as PEFT defaults. */
export const OPT_ARCHITECTURE: ArchitectureRow<OPTForCausalLM> = {
  modelType: "opt",
  className: "OPTForCausalLM",
  parseConfig: optConfig,
  create: (config, opts) => new OPTForCausalLM(config, opts),
  checkpointKey: optCheckpointKey,
  loraTargets: ["q_proj", "v_proj"],
};
