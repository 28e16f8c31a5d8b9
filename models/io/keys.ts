/**
 * Checkpoint key conventions. GPT-2 checkpoints come with bare names (`h.0.attn.c_attn.weight`,
 * as in `openai-community/gpt2`) or with the `transformer.` prefix (saved from
 * `GPT2LMHeadModel`); both normalise to the bare names plus `lm_head.weight`. The causal-mask
 * buffers `attn.bias` / `attn.masked_bias` are constants, not weights, and are dropped.
 *
 * @module
 */

import type { HostArray, HostTensor, StateDict } from "./host.ts";

const GPT2_MASK_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;

/**
 * Whether a (bare) GPT-2 key is a causal-mask buffer rather than a weight.
 *
 * @param key A key without the `transformer.` prefix.
 */
export function isGpt2MaskBuffer(key: string): boolean {
  return GPT2_MASK_BUFFER.test(key);
}

/**
 * Rename keys: drop a prefix where present; other keys are kept as they are.
 *
 * @param state Tensors by name.
 * @param prefix E.g. `transformer.` or `distilbert.`.
 */
export function stripPrefix<T>(state: Map<string, T>, prefix: string): Map<string, T> {
  const out = new Map<string, T>();
  const origin = new Map<string, string>();
  for (const [key, value] of state) {
    const bare = key.startsWith(prefix) ? key.slice(prefix.length) : key;
    const previous = origin.get(bare);
    if (previous !== undefined) {
      throw new Error(
        `checkpoint has both "${previous}" and "${key}": ambiguous after removing "${prefix}"`,
      );
    }
    origin.set(bare, key);
    out.set(bare, value);
  }
  return out;
}

/**
 * Tie the output head to the input embedding when the checkpoint omits the head (GPT-2 ties
 * them, and tied weights are saved once).
 *
 * @param state Tensors by name (modified in place and returned).
 * @param head Head key (default `lm_head.weight`).
 * @param embedding Embedding key (default `wte.weight`).
 */
export function tieLmHead<T>(
  state: Map<string, T>,
  head = "lm_head.weight",
  embedding = "wte.weight",
): Map<string, T> {
  if (!state.has(head)) {
    const weight = state.get(embedding);
    if (weight === undefined) {
      throw new Error(`cannot tie "${head}" to "${embedding}": the checkpoint has neither`);
    }
    state.set(head, weight);
  }
  return state;
}

/**
 * GPT-2 weights under bare names (`wte.weight`, `h.0.ln_1.weight`, ..., `ln_f.bias`,
 * `lm_head.weight`), whichever naming the checkpoint used, without mask buffers, with the head
 * tied to `wte.weight` when absent.
 *
 * @param state Tensors as read from a GPT-2 checkpoint.
 */
export function normalizeGpt2Keys(state: StateDict): StateDict {
  const bare = stripPrefix(state, "transformer.");
  for (const key of [...bare.keys()]) if (isGpt2MaskBuffer(key)) bare.delete(key);
  return tieLmHead(bare);
}

/**
 * The weight names a GPT-2 of `nLayer` blocks needs (bare naming, head included).
 *
 * @param nLayer Number of transformer blocks.
 */
export function gpt2WeightNames(nLayer: number): string[] {
  const names = ["wte.weight", "wpe.weight"];
  for (let i = 0; i < nLayer; i++) {
    for (
      const part of [
        "ln_1",
        "attn.c_attn",
        "attn.c_proj",
        "ln_2",
        "mlp.c_fc",
        "mlp.c_proj",
      ]
    ) {
      names.push(`h.${i}.${part}.weight`, `h.${i}.${part}.bias`);
    }
  }
  names.push("ln_f.weight", "ln_f.bias", "lm_head.weight");
  return names;
}

/**
 * Compare a checkpoint's keys with the names a model needs.
 *
 * @param state Tensors by name.
 * @param expected Names the model needs.
 */
export function diffKeys(
  state: Map<string, unknown>,
  expected: readonly string[],
): { missing: string[]; unexpected: string[] } {
  const wanted = new Set(expected);
  return {
    missing: expected.filter((k) => !state.has(k)),
    unexpected: [...state.keys()].filter((k) => !wanted.has(k)),
  };
}

/**
 * GPT-2 weights named the way Python's `GPT2LMHeadModel.save_pretrained` names them:
 * `transformer.`-prefixed, with `lm_head.weight` left out when the head is tied (transformers
 * re-ties it on load).
 *
 * @param state Bare-named weights (as {@link normalizeGpt2Keys} returns).
 * @param tieWordEmbeddings Whether the head shares the embedding (GPT-2's default).
 */
export function gpt2KeysForSave<T extends HostArray | HostTensor>(
  state: Map<string, T>,
  tieWordEmbeddings = true,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, value] of state) {
    if (key === "lm_head.weight") {
      if (!tieWordEmbeddings) out.set(key, value);
      continue;
    }
    out.set(key.startsWith("transformer.") ? key : `transformer.${key}`, value);
  }
  return out;
}
