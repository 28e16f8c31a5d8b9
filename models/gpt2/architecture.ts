/**
 * GPT-2's row of the causal architecture table.
 *
 * @module
 */

import type { ArchitectureRow } from "../architecture.ts";
import { gpt2Config } from "./config.ts";
import { GPT2LMHeadModel } from "./model.ts";
import { gpt2CheckpointKey } from "./weights.ts";

/** `model_type` "gpt2": `GPT2LMHeadModel`, LoRA on `c_attn` as PEFT defaults. */
export const GPT2_ARCHITECTURE: ArchitectureRow<GPT2LMHeadModel> = {
  modelType: "gpt2",
  className: "GPT2LMHeadModel",
  parseConfig: gpt2Config,
  create: (config, opts) => new GPT2LMHeadModel(config, opts),
  checkpointKey: gpt2CheckpointKey,
  loraTargets: ["c_attn"],
};
