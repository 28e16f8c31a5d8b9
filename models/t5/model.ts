/**
 * `T5ForConditionalGeneration` on the core: the shared embedding, an encoder and a decoder
 * stack, and the LM head (tied to `shared` with the `d_model ** -0.5` output scaling, or untied
 * as in T5 1.1 / flan-T5), with transformers' parameter names. It implements the `Seq2SeqLM`
 * contract: the encoder runs once per batch, the decoder keeps a self-attention KV cache and
 * computes the cross-attention keys/values once.
 *
 * @module
 */

import { currentBackend, mul, ones, randn, slice, type Tensor } from "../../core/mod.ts";
import { Embedding, Module } from "../../core/nn/mod.ts";
import { defaultGenerator } from "../../core/random.ts";
import { fmtShape } from "../../core/shape.ts";
import { asTensor } from "../bert/inputs.ts";
import type {
  Seq2SeqEncoderOutput,
  Seq2SeqLM,
  Seq2SeqLMInput,
  Seq2SeqLMOutput,
  TokenMatrix,
} from "../contract.ts";
import type { GenerateOptions, GenerateResult } from "../generation.ts";
import { LMHead } from "../gpt2/model.ts";
import { generateSeq2Seq } from "../seq2seq_generation.ts";
import type { T5LayerOptions } from "./attention.ts";
import { type T5Config, t5Config, t5ConfigJson } from "./config.ts";
import { initT5Weights } from "./init.ts";
import { T5Stack } from "./stack.ts";
import { saveT5 } from "./weights.ts";

/** Options of a fresh T5. */
export interface T5Options extends T5LayerOptions {
  /**
   * Draw transformers' initial weights (default true). False skips that pass when a checkpoint
   * will overwrite every weight anyway.
   */
  initWeights?: boolean;
}

/**
 * T5 with its language-model head (transformers' `T5ForConditionalGeneration`).
 *
 * @example
 * ```ts
 * import { T5ForConditionalGeneration } from "@tether/rlhf/models";
 * const model = new T5ForConditionalGeneration({
 *   vocab_size: 100, d_model: 32, d_kv: 8, d_ff: 64, num_layers: 2, num_heads: 4,
 *   decoder_start_token_id: 0,
 * }).eval();
 * const { logits } = model.forward({ inputIds: [[5, 6, 1]], decoderInputIds: [[0, 7]] });
 * const { tokens } = await model.generate([[5, 6, 1]], { maxNewTokens: 4 });
 * ```
 */
export class T5ForConditionalGeneration extends Module implements Seq2SeqLM {
  /** Token embedding shared by both stacks (and the head when tied). */
  readonly shared: Embedding;
  /** The encoder stack. */
  readonly encoder: T5Stack;
  /** The decoder stack. */
  readonly decoder: T5Stack;
  /** The output projection; its weight is `shared.weight` when tied. */
  readonly lm_head: LMHead;
  /** The checked config. */
  readonly config: T5Config;
  /** Backend of the weights. */
  readonly backend: string;
  /** transformers' `model_type`. */
  readonly modelType = "t5";

  /**
   * A T5 with fresh weights (load a checkpoint with `loadSeq2SeqLM`).
   * @param config `config.json` contents; see `t5Config` for what is required.
   */
  constructor(config: Partial<T5Config> | Record<string, unknown>, opts: T5Options = {}) {
    super();
    this.config = t5Config(config as Record<string, unknown>);
    this.backend = opts.backend ?? currentBackend();
    const c = this.config;
    const layer = { backend: this.backend, generator: opts.generator };
    this.shared = this.registerModule("shared", new Embedding(c.vocab_size, c.d_model, layer));
    this.encoder = this.registerModule("encoder", new T5Stack(c, this.shared, false, layer));
    this.decoder = this.registerModule("decoder", new T5Stack(c, this.shared, true, layer));
    const head = c.tie_word_embeddings
      ? this.shared.weight
      : randn([c.vocab_size, c.d_model], layer);
    this.lm_head = this.registerModule("lm_head", new LMHead(head));
    if (opts.initWeights ?? true) {
      initT5Weights(this, c, opts.generator ?? defaultGenerator());
    }
  }

  /** Width of the decoder's final hidden states. */
  get hiddenSize(): number {
    return this.config.d_model;
  }

  /** Rows of the vocabulary (the logits' last axis). */
  get vocabSize(): number {
    return this.config.vocab_size;
  }

  /** The id generation stops on (`eos_token_id`), or null. */
  get eosTokenId(): number | null {
    return this.config.eos_token_id;
  }

  /** The padding id (`pad_token_id`, 0 in T5 checkpoints). */
  get padTokenId(): number {
    return this.config.pad_token_id;
  }

  /** `decoder_start_token_id`: the first decoder token of every row. */
  get decoderStartTokenId(): number {
    return this.config.decoder_start_token_id;
  }

  /**
   * Runs the encoder on ids [B, S] with mask [B, S] (default all ones). Positions are relative,
   * so left and right padding give the same states at the real tokens.
   */
  encode(inputIds: TokenMatrix, attentionMask?: TokenMatrix): Seq2SeqEncoderOutput {
    const ids = asTensor(inputIds, "T5 inputIds", this.backend, undefined);
    const mask = attentionMask === undefined
      ? ones(ids.shape, { backend: this.backend })
      : asTensor(attentionMask, "T5 attentionMask", this.backend, ids.shape, true);
    return { lastHiddenState: this.encoder.encode(ids, mask), attentionMask: mask };
  }

  /**
   * Teacher-forced (or cached, step-by-step) decoder logits; see `Seq2SeqLMInput`. Runs the
   * encoder unless `encoderOutputs` are given; with `pastKeyValues` only the new decoder
   * positions are computed and the encoder's keys/values are reused.
   */
  forward(input: Seq2SeqLMInput): Seq2SeqLMOutput {
    const encoded = input.encoderOutputs ?? this.#encodeInput(input);
    const dec = asTensor(input.decoderInputIds, "T5 decoderInputIds", this.backend, undefined);
    const [b, t] = dec.shape;
    const encHidden = encoded.lastHiddenState;
    if (encHidden.shape[0] !== b || encoded.attentionMask.shape[0] !== b) {
      throw new Error(
        `T5: decoderInputIds has ${b} rows but the encoder output has ${encHidden.shape[0]}; ` +
          `give one decoder row per encoder row`,
      );
    }
    const past = input.pastKeyValues;
    const nBlocks = this.decoder.block.length;
    for (const [what, list] of [["self", past?.self], ["cross", past?.cross]] as const) {
      if (list && list.length !== 0 && list.length !== nBlocks) {
        throw new Error(
          `T5: pastKeyValues.${what} has ${list.length} layers, the decoder ${nBlocks}`,
        );
      }
    }
    const selfPast = past?.self?.length ? past.self : undefined;
    const cross = past?.cross?.length ? past.cross : undefined;
    const tPast = selfPast?.[0].key.shape[2] ?? 0;
    let mask: Tensor | null = null;
    if (input.decoderAttentionMask !== undefined) {
      mask = asTensor(
        input.decoderAttentionMask,
        "T5 decoderAttentionMask",
        this.backend,
        undefined,
        true,
      );
      if (mask.shape[0] !== b || mask.shape[1] !== tPast + t) {
        throw new Error(
          `T5: decoderAttentionMask must be [B, T_past + T] = [${b}, ${tPast + t}], got ` +
            `${fmtShape(mask.shape)}` + (tPast ? " (it covers the cached positions too)" : ""),
        );
      }
    }
    const r = this.decoder.decode(
      dec,
      mask,
      selfPast,
      { hidden: encHidden, mask: encoded.attentionMask },
      cross,
    );
    const keepN = input.logitsToKeep ?? 0;
    if (!Number.isInteger(keepN) || keepN < 0) {
      throw new Error(`T5: logitsToKeep must be an integer >= 0, got ${keepN}`);
    }
    const d = this.config.d_model;
    let last = keepN > 0 && keepN < t
      ? slice(r.hidden, [0, t - keepN, 0], [b, keepN, d])
      : r.hidden;
    // A head tied to the embedding sees the states scaled by d_model^-0.5 (Mesh TensorFlow's rule).
    if (this.config.tie_word_embeddings) last = mul(last, d ** -0.5);
    const out: Seq2SeqLMOutput = {
      logits: this.lm_head.forward(last),
      encoderLastHiddenState: encHidden,
    };
    if (input.useCache ?? past !== undefined) {
      out.pastKeyValues = { self: r.presents, cross: r.cross };
    }
    if (input.outputHiddenStates) out.decoderHiddenStates = r.hidden;
    return out;
  }

  #encodeInput(input: Seq2SeqLMInput): Seq2SeqEncoderOutput {
    if (input.inputIds === undefined) {
      throw new Error("T5: give inputIds (encoder token ids) or encoderOutputs");
    }
    return this.encode(input.inputIds, input.attentionMask);
  }

  /**
   * Generation from unpadded encoder prompts (token-id rows, each usually ending with EOS):
   * the encoder runs once, the decoder starts from `decoder_start_token_id`, and the tokens
   * after it are returned. Options and sampling rules are `generate`'s (`GenerateOptions`).
   */
  generate(prompts: number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
    return generateSeq2Seq(this, prompts, opts);
  }

  /** `config.json` contents transformers loads (`model_type`, `architectures`, every field). */
  configJson(): Record<string, unknown> {
    return t5ConfigJson(this.config);
  }

  /**
   * Writes `config.json` + `model.safetensors` into `dir` (atomically) so that transformers'
   * `T5ForConditionalGeneration.from_pretrained(dir)` loads it. LoRA adapters are not included:
   * `merge()` them first, or save them with `saveLora`.
   */
  save(dir: string): Promise<void> {
    return saveT5(this, dir);
  }
}
