/**
 * OPT: config, model, and its row of the causal architecture table.
 * @module
 */

export { type OptActivation, type OPTConfig, optConfig, optConfigJson } from "./config.ts";
export {
  OPT_POSITION_OFFSET,
  OPTAttention,
  OPTDecoder,
  OPTDecoderLayer,
  OPTForCausalLM,
  OPTModel,
} from "./model.ts";
export { OPT_ARCHITECTURE, optCheckpointKey } from "./architecture.ts";
