/**
 * The Llama family (Llama, Qwen2, Mistral): config, rotary embeddings, model, and their rows of
 * the causal architecture table.
 * @module
 */

export {
  firstTokenId,
  type LlamaConfig,
  llamaConfig,
  llamaConfigJson,
  type LlamaFamily,
  type RopeScaling,
} from "./config.ts";
export { applyRotary, ropeInverseFrequencies, RotaryTables, rotateHalf } from "./rope.ts";
export {
  LLAMA_CLASS_NAMES,
  LlamaAttention,
  LlamaDecoderLayer,
  LlamaForCausalLM,
  LlamaMLP,
  LlamaModel,
} from "./model.ts";
export {
  LLAMA_ARCHITECTURE,
  llamaCheckpointKey,
  MISTRAL_ARCHITECTURE,
  QWEN2_ARCHITECTURE,
} from "./architecture.ts";
