/**
 * The contracts every architecture implements: `CausalLM` (decoder-only: GPT-2, Llama, Qwen2,
 * OPT) and `Seq2SeqLM` (encoder-decoder: T5). Algorithms, heads, LoRA and generation see a
 * model only through these, so a new architecture is a new folder plus one row in the
 * `model_type` table, never an edit in the algorithms.
 *
 * Conventions shared by all architectures:
 * - token ids are integers stored as f32 ([B, T] tensors or nested arrays);
 * - `attentionMask` is 1 for real tokens and 0 for padding, and covers cached positions too;
 * - positions follow the mask (`cumsum(mask) − 1`, padding clamped), so left-padded generation
 *   and right-padded scoring of the same tokens agree;
 * - `hiddenStates` are the final hidden states after the last norm, the input of the LM head
 *   (and of TRL's value head).
 *
 * @module
 */

import type { Module } from "../core/nn/mod.ts";
import type { Tensor } from "../core/mod.ts";
import type { TokenMatrix } from "./bert/inputs.ts";
import type { CachedLayer, GenerateOptions, GenerateResult } from "./generation.ts";

export type { TokenMatrix };

/** Inputs of a causal LM forward pass. */
export interface CausalLMInput {
  /** Token ids [B, T]. */
  inputIds: TokenMatrix;
  /** [B, T_past + T]: 1 for real tokens, 0 for padding (default all ones). */
  attentionMask?: TokenMatrix;
  /** Explicit position ids [B, T] (default: from the mask). */
  positionIds?: TokenMatrix;
  /** Cached keys and values of earlier positions, as returned by a previous forward. */
  pastKeyValues?: CachedLayer[];
  /** Return the updated cache (default: true when `pastKeyValues` is given). */
  useCache?: boolean;
  /** Compute logits only for the last this many positions (0 = all, the default). */
  logitsToKeep?: number;
  /** Also return the final hidden states. */
  outputHiddenStates?: boolean;
}

/** What a causal LM forward returns. */
export interface CausalLMOutput {
  /** [B, T, V] (or [B, logitsToKeep, V]) next-token scores. */
  logits: Tensor;
  /** [B, T] value-head estimates, when a value head is attached. */
  values?: Tensor;
  /** The cache including this call's positions, when `useCache`. */
  pastKeyValues?: CachedLayer[];
  /** [B, T, D] final hidden states, when asked for (or when a value head needs them). */
  hiddenStates?: Tensor;
}

/** The facts about a language model that generation, heads and trainers need. */
export interface LanguageModelInfo {
  /** transformers' `model_type` ("gpt2", "llama", "qwen2", "opt", "t5", ...). */
  readonly modelType: string;
  /** Backend of the weights; inputs are created there. */
  readonly backend: string;
  /** Width of the final hidden states (the value head's input). */
  readonly hiddenSize: number;
  /** Vocabulary size (the logits' last axis). */
  readonly vocabSize: number;
  /** Default stop token (null: never stop early). */
  readonly eosTokenId: number | null;
  /** Default padding token (null: use EOS, else 0). */
  readonly padTokenId: number | null;
  /** The parsed `config.json` values, as the architecture reads them. */
  readonly config: object;
}

/**
 * A decoder-only language model (transformers' `AutoModelForCausalLM`). Implemented by every
 * causal architecture; a `Module`, so `parameters()`, `namedParameters()`, `train()`, `eval()`
 * and state dicts come with it, with Hugging Face's parameter names.
 */
export interface CausalLM extends Module, LanguageModelInfo {
  /** Logits (and hidden states, cache) for a batch; positions from the mask. */
  forward(input: CausalLMInput): CausalLMOutput;
  /**
   * Batched generation from unpadded prompts of token ids (left-padded inside). Greedy unless
   * `doSample`; `numBeams > 1` switches to beam search.
   */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult>;
  /** Writes `config.json` + `model.safetensors` into `dir` as transformers saves the model. */
  save(dir: string): Promise<void>;
  /**
   * The [V, D] weight the LM head multiplies the hidden states by (logits = h·Wᵀ; transformers'
   * `get_output_embeddings().weight`), or null when the head computes more than that (a bias,
   * an adapter on it). Lets `nextTokenLogProbs` score tokens from `hiddenStates` without the
   * [B, T, V] logits; models without it are scored through their logits.
   */
  outputEmbeddings?(): Tensor | null;
}

/** Inputs of a seq2seq forward pass (teacher forcing). */
export interface Seq2SeqLMInput {
  /** Encoder token ids [B, S]. */
  inputIds?: TokenMatrix;
  /** Encoder mask [B, S] (default all ones). */
  attentionMask?: TokenMatrix;
  /** Decoder token ids [B, T], starting with `decoder_start_token_id`. */
  decoderInputIds: TokenMatrix;
  /** Decoder mask [B, T_past + T] (default all ones). */
  decoderAttentionMask?: TokenMatrix;
  /** The encoder's output, when already computed (then `inputIds` may be omitted). */
  encoderOutputs?: Seq2SeqEncoderOutput;
  /** Cached decoder self-attention K/V and cross-attention K/V from a previous call. */
  pastKeyValues?: Seq2SeqCache;
  /** Return the updated cache (default: true when `pastKeyValues` is given). */
  useCache?: boolean;
  /** Compute logits only for the last this many decoder positions (0 = all). */
  logitsToKeep?: number;
  /** Also return the decoder's final hidden states. */
  outputHiddenStates?: boolean;
}

/** The encoder's result, computed once per batch. */
export interface Seq2SeqEncoderOutput {
  /** [B, S, D] after the encoder's final norm. */
  lastHiddenState: Tensor;
  /** [B, S] encoder mask the decoder's cross-attention uses. */
  attentionMask: Tensor;
}

/**
 * A seq2seq decoder cache: self-attention K/V grow per step, cross-attention K/V are fixed.
 * Either list may be empty: no decoded positions yet, or cross K/V still to be computed from
 * the encoder output (the forward then returns them).
 */
export interface Seq2SeqCache {
  /** Per decoder block: self-attention keys/values of the decoded positions. */
  self: CachedLayer[];
  /** Per decoder block: keys/values of the encoder states, computed once. */
  cross: CachedLayer[];
}

/** What a seq2seq forward returns. */
export interface Seq2SeqLMOutput {
  /** [B, T, V] decoder logits. */
  logits: Tensor;
  /** [B, S, D] the encoder's last hidden state. */
  encoderLastHiddenState: Tensor;
  /** [B, T] value-head estimates over decoder positions, when a value head is attached. */
  values?: Tensor;
  /** The updated cache, when `useCache`. */
  pastKeyValues?: Seq2SeqCache;
  /** [B, T, D] the decoder's final hidden states, when asked for. */
  decoderHiddenStates?: Tensor;
}

/**
 * An encoder-decoder language model (transformers' `AutoModelForSeq2SeqLM`): the encoder runs
 * once per batch; the decoder keeps a self-attention KV cache and computes cross-attention K/V
 * once.
 */
export interface Seq2SeqLM extends Module, LanguageModelInfo {
  /** `decoder_start_token_id`: the first decoder token of every row. */
  readonly decoderStartTokenId: number;
  /** Runs the encoder. */
  encode(inputIds: TokenMatrix, attentionMask?: TokenMatrix): Seq2SeqEncoderOutput;
  /** Teacher-forced (or cached, step-by-step) decoder logits. */
  forward(input: Seq2SeqLMInput): Seq2SeqLMOutput;
  /**
   * Generation from unpadded encoder prompts of token ids; returns the decoder tokens after the
   * start token. Greedy unless `doSample`; `numBeams > 1` switches to beam search.
   */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult>;
  /** Writes `config.json` + `model.safetensors` into `dir` as transformers saves the model. */
  save(dir: string): Promise<void>;
  /** The `config.json` contents `save` writes (wrappers save the model's config with theirs). */
  configJson(): Record<string, unknown>;
}
