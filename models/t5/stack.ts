/**
 * A T5 stack (`T5Stack`): the shared token embedding, blocks, a final RMS norm and dropout. The
 * encoder stack attends in both directions; the decoder stack attends causally to itself (with a
 * KV cache) and to the encoder's states. Position bias and masks are built once per call from
 * block 0's table and added in every block, as transformers does.
 *
 * @module
 */

import { MASKED_LOGIT, mul, reshape, type Tensor, tensor, where } from "../../core/mod.ts";
import { Dropout, type Embedding, Module, RMSNorm, runBlock } from "../../core/nn/mod.ts";
import type { CachedLayer } from "../generation.ts";
import type { T5LayerOptions } from "./attention.ts";
import type { T5Config } from "./config.ts";
import { T5LayerCrossAttention, T5LayerFF, T5LayerSelfAttention } from "./layers.ts";

/** Children registered as "0", "1", ... (transformers' `nn.ModuleList`). */
class ModuleList<M extends Module> extends Module {
  constructor(readonly items: readonly M[]) {
    super();
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
}

/** One T5 block: `layer.0` self-attention, (decoder) `layer.1` cross-attention, then `FF`. */
export class T5Block extends Module {
  /** Self-attention sub-layer (`layer.0`). */
  readonly selfAttention: T5LayerSelfAttention;
  /** Cross-attention sub-layer (`layer.1`), decoder blocks only. */
  readonly crossAttention: T5LayerCrossAttention | null;
  /** Feed-forward sub-layer (`layer.1` in the encoder, `layer.2` in the decoder). */
  readonly ff: T5LayerFF;

  /** Creates block `index` of the encoder or decoder stack. */
  constructor(config: T5Config, index: number, isDecoder: boolean, opts: T5LayerOptions = {}) {
    super();
    this.selfAttention = new T5LayerSelfAttention(config, index === 0, opts);
    this.crossAttention = isDecoder ? new T5LayerCrossAttention(config, opts) : null;
    this.ff = new T5LayerFF(config, opts);
    const layers: Module[] = [this.selfAttention];
    if (this.crossAttention) layers.push(this.crossAttention);
    layers.push(this.ff);
    this.registerModule("layer", new ModuleList(layers));
  }

  /**
   * x [B, T, D] → [B, T, D] and this block's self-attention keys/values.
   * @param selfBias Position bias with the self-attention masks folded in.
   * @param past Cached self-attention keys/values (decoder).
   * @param cross Encoder keys/values and their mask bias (decoder).
   */
  forward(
    x: Tensor,
    selfBias: Tensor,
    past?: CachedLayer,
    cross?: { keyValues: CachedLayer; bias: Tensor },
  ): { out: Tensor; present: CachedLayer } {
    const s = this.selfAttention.forward(x, selfBias, past);
    let h = s.out;
    if (this.crossAttention) {
      if (!cross) throw new Error("T5Block: a decoder block needs the encoder's keys and values");
      h = this.crossAttention.forward(h, cross.bias, cross.keyValues);
    }
    return { out: this.ff.forward(h), present: s.present };
  }
}

/** What the decoder stack returns. */
export interface T5DecoderOutput {
  /** [B, T, D] after the final norm (and dropout). */
  hidden: Tensor;
  /** Per block: self-attention keys/values of every decoded position, this call's included. */
  presents: CachedLayer[];
  /** Per block: the encoder's keys/values used (given, or computed by this call). */
  cross: CachedLayer[];
}

/** `encoder` or `decoder` of `T5ForConditionalGeneration`. */
export class T5Stack extends Module {
  /** The blocks (`block.{i}`). */
  readonly block: T5Block[];
  /** RMS norm after the last block. */
  readonly final_layer_norm: RMSNorm;
  /** Dropout after the embedding and after the final norm. */
  readonly dropout: Dropout;
  /** Whether this is the decoder. */
  readonly isDecoder: boolean;
  /** The shared token embedding (`shared`; registered on the model, not here). */
  readonly embedTokens: Embedding;

  /** Creates the stack over the model's shared embedding. */
  constructor(
    config: T5Config,
    embedTokens: Embedding,
    isDecoder: boolean,
    opts: T5LayerOptions = {},
  ) {
    super();
    this.isDecoder = isDecoder;
    this.embedTokens = embedTokens;
    const n = isDecoder ? config.num_decoder_layers : config.num_layers;
    this.block = Array.from({ length: n }, (_, i) => new T5Block(config, i, isDecoder, opts));
    this.registerModule("block", new ModuleList(this.block));
    this.final_layer_norm = this.registerModule(
      "final_layer_norm",
      new RMSNorm(config.d_model, { eps: config.layer_norm_epsilon, backend: opts.backend }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
  }

  #positionBias(queries: number, keys: number, start: number): Tensor {
    const own = this.block[0].selfAttention.SelfAttention;
    return own.positionBias(queries, keys, start, !this.isDecoder);
  }

  /**
   * Encoder: ids [B, S] and mask [B, S] → hidden states [B, S, D]. Padded keys are hidden from
   * every query; padded queries produce values nothing downstream should read.
   */
  encode(ids: Tensor, mask: Tensor): Tensor {
    if (this.isDecoder) throw new Error("T5Stack.encode: this is the decoder stack");
    const [b, s] = ids.shape;
    const keep = reshape(mask, [b, 1, 1, s]);
    const bias = where(keep, this.#positionBias(s, s, 0), MASKED_LOGIT);
    let x = this.dropout.forward(this.embedTokens.forward(ids));
    for (const block of this.block) {
      x = runBlock(block, (h) => block.forward(h, bias).out, x, { consumeInput: true });
    }
    return this.dropout.forward(this.final_layer_norm.forward(x));
  }

  /**
   * Decoder: ids [B, T] after `past` (T_past cached positions) → hidden states [B, T, D].
   * @param mask [B, T_past + T] decoder padding mask, or null for all ones.
   * @param encoder The encoder's states [B, S, D] (needed unless `cross` is given) and mask.
   * @param cross Keys/values of the encoder states per block, from an earlier call.
   * @param keepCache Return each block's self-attention keys/values (default true); without,
   *   they are freed with the block's other intermediates.
   */
  decode(
    ids: Tensor,
    mask: Tensor | null,
    past: CachedLayer[] | undefined,
    encoder: { hidden?: Tensor; mask: Tensor },
    cross?: CachedLayer[],
    keepCache = true,
  ): T5DecoderOutput {
    if (!this.isDecoder) throw new Error("T5Stack.decode: this is the encoder stack");
    const [b, t] = ids.shape;
    const tPast = past?.[0]?.key.shape[2] ?? 0;
    const tk = tPast + t;
    const backend = ids.backend.name;
    const causal = new Float32Array(t * tk);
    for (let i = 0; i < t; i++) for (let j = 0; j <= tPast + i; j++) causal[i * tk + j] = 1;
    let keep = tensor(causal, [t, tk], { backend });
    if (mask) keep = mul(keep, reshape(mask, [b, 1, 1, tk]));
    const selfBias = where(keep, this.#positionBias(t, tk, tPast), MASKED_LOGIT);
    const s = encoder.mask.shape[1];
    const crossBias = where(reshape(encoder.mask, [b, 1, 1, s]), 0, MASKED_LOGIT);
    const keyValues = cross ?? this.block.map((block) => {
      if (!encoder.hidden) {
        throw new Error("T5Stack.decode: give the encoder's hidden states or their keys/values");
      }
      return block.crossAttention!.EncDecAttention.keyValues(encoder.hidden);
    });
    let x = this.dropout.forward(this.embedTokens.forward(ids));
    const presents: CachedLayer[] = [];
    this.block.forEach((block, i) => {
      const r = runBlock(
        block,
        (h) => {
          const o = block.forward(h, selfBias, past?.[i], {
            keyValues: keyValues[i],
            bias: crossBias,
          });
          return keepCache ? o : { out: o.out };
        },
        x,
        { consumeInput: true },
      );
      x = r.out;
      if ("present" in r) presents.push(r.present);
    });
    const hidden = this.dropout.forward(this.final_layer_norm.forward(x));
    return { hidden, presents, cross: keyValues };
  }
}
