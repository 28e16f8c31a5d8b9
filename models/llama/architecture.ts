/**
 * The Llama family's rows of the causal architecture table: `llama`, `qwen2` and `mistral`
 * share one class and one checkpoint layout.
 *
 * @module
 */

import type { ArchitectureRow } from "../architecture.ts";
import { llamaConfig } from "./config.ts";
import { LLAMA_CLASS_NAMES, LlamaForCausalLM } from "./model.ts";

/**
 * The model parameter name of a Llama-family checkpoint tensor: names of a saved
 * `*ForCausalLM` as they are, names of a bare `*Model` under `model.`; the rotary `inv_freq`
 * buffers older checkpoints carry map to null.
 *
 * @param name A checkpoint tensor name.
 */
export function llamaCheckpointKey(name: string): string | null {
  if (name.endsWith(".rotary_emb.inv_freq")) return null;
  return name.startsWith("model.") || name.startsWith("lm_head.") ? name : `model.${name}`;
}

function row(modelType: "llama" | "qwen2" | "mistral"): ArchitectureRow<LlamaForCausalLM> {
  return {
    modelType,
    className: LLAMA_CLASS_NAMES[modelType],
    parseConfig: llamaConfig,
    create: (config, opts) => new LlamaForCausalLM(config, opts),
    checkpointKey: llamaCheckpointKey,
    loraTargets: ["q_proj", "v_proj"],
  };
}

/** `model_type` "llama" (Llama 2/3, SmolLM2, TinyLlama). */
export const LLAMA_ARCHITECTURE: ArchitectureRow<LlamaForCausalLM> = row("llama");
/** `model_type` "qwen2" (Qwen2, Qwen2.5): q/k/v biases. */
export const QWEN2_ARCHITECTURE: ArchitectureRow<LlamaForCausalLM> = row("qwen2");
/** `model_type` "mistral": sequences must fit the sliding window. */
export const MISTRAL_ARCHITECTURE: ArchitectureRow<LlamaForCausalLM> = row("mistral");
