/**
 * T5's attention (`T5Attention`): bias-free projections `q`, `k`, `v`, `o`, scores q·kᵀ with no
 * 1/√d_kv scaling (T5 folds it into the initialisation), plus an additive bias that carries the
 * relative positions and the masks. Block 0 of each stack owns the position-bias table
 * (`relative_attention_bias`); the stack computes the bias once and every block adds it.
 *
 * @module
 */

import {
  add,
  concat,
  dropout,
  embedding,
  matmul,
  permute,
  reshape,
  softmax,
  type Tensor,
  tensor,
} from "../../core/mod.ts";
import { Embedding, Linear, Module } from "../../core/nn/mod.ts";
import type { Generator } from "../../core/random.ts";
import type { CachedLayer } from "../generation.ts";
import type { T5Config } from "./config.ts";
import { relativePositionBuckets } from "./relative_position.ts";

/** Where a layer's weights live and where its dropout draws from. */
export interface T5LayerOptions {
  /** Backend of the weights. */
  backend?: string;
  /** Generator of the initial weights and the dropout masks. */
  generator?: Generator;
}

/** Options of `T5Attention`. */
export interface T5AttentionOptions extends T5LayerOptions {
  /** Own the relative position-bias table (block 0's self-attention). */
  hasRelativeAttentionBias?: boolean;
}

/** T5's multi-head attention, with transformers' parameter names. */
export class T5Attention extends Module {
  /** [H·d_kv, d_model]. */
  readonly q: Linear;
  /** [H·d_kv, d_model]. */
  readonly k: Linear;
  /** [H·d_kv, d_model]. */
  readonly v: Linear;
  /** [d_model, H·d_kv]. */
  readonly o: Linear;
  /** [num_buckets, H], in block 0's self-attention only. */
  readonly relative_attention_bias: Embedding | null;
  readonly #heads: number;
  readonly #dkv: number;
  readonly #dropout: number;
  readonly #buckets: number;
  readonly #maxDistance: number;
  readonly #generator?: Generator;

  /** Creates one attention layer of a model with `config`. */
  constructor(config: T5Config, opts: T5AttentionOptions = {}) {
    super();
    const inner = config.num_heads * config.d_kv;
    const lin = { bias: false, backend: opts.backend, generator: opts.generator };
    this.q = this.registerModule("q", new Linear(config.d_model, inner, lin));
    this.k = this.registerModule("k", new Linear(config.d_model, inner, lin));
    this.v = this.registerModule("v", new Linear(config.d_model, inner, lin));
    this.o = this.registerModule("o", new Linear(inner, config.d_model, lin));
    this.relative_attention_bias = opts.hasRelativeAttentionBias
      ? this.registerModule(
        "relative_attention_bias",
        new Embedding(config.relative_attention_num_buckets, config.num_heads, opts),
      )
      : null;
    this.#heads = config.num_heads;
    this.#dkv = config.d_kv;
    this.#dropout = config.dropout_rate;
    this.#buckets = config.relative_attention_num_buckets;
    this.#maxDistance = config.relative_attention_max_distance;
    this.#generator = opts.generator;
  }

  /**
   * The position bias [1, H, Tq, Tk] for queries at `queryStart …` against keys `0 … keys − 1`:
   * bidirectional buckets in the encoder, past-only in the decoder.
   */
  positionBias(queries: number, keys: number, queryStart: number, bidirectional: boolean): Tensor {
    const table = this.relative_attention_bias;
    if (!table) {
      throw new Error("T5Attention: only the first block's self-attention holds the position bias");
    }
    const buckets = relativePositionBuckets(
      queries,
      keys,
      queryStart,
      bidirectional,
      this.#buckets,
      this.#maxDistance,
    );
    const ids = tensor(buckets, [queries, keys], { backend: table.weight.backend.name });
    // [Tq, Tk, H] → [1, H, Tq, Tk]
    const bias = permute(embedding(table.weight, ids), [2, 0, 1]);
    return reshape(bias, [1, this.#heads, queries, keys]);
  }

  /** [B, T, D] → [B, H, T, d_kv]. */
  #split(x: Tensor): Tensor {
    const [b, t] = x.shape;
    return permute(reshape(x, [b, t, this.#heads, this.#dkv]), [0, 2, 1, 3]);
  }

  /** Keys and values of `source` [B, S, D] (the encoder states, for cross-attention). */
  keyValues(source: Tensor): CachedLayer {
    return { key: this.#split(this.k.forward(source)), value: this.#split(this.v.forward(source)) };
  }

  /**
   * x [B, T, D] → [B, T, D].
   * @param bias Added to the scores: position bias and masks (hidden keys at `MASKED_LOGIT`),
   *   broadcastable to [B, H, T, Tk].
   * @param opts `past`: cached self-attention keys/values the new ones are appended to;
   *   `keyValues`: fixed keys/values to attend to instead of x's own (cross-attention).
   * @returns the output and the keys/values attended to.
   */
  forward(
    x: Tensor,
    bias: Tensor,
    opts: { past?: CachedLayer; keyValues?: CachedLayer } = {},
  ): { out: Tensor; present: CachedLayer } {
    const [b, t] = x.shape;
    const q = this.#split(this.q.forward(x));
    let kv = opts.keyValues;
    if (!kv) {
      kv = this.keyValues(x);
      if (opts.past) {
        kv = {
          key: concat([opts.past.key, kv.key], 2),
          value: concat([opts.past.value, kv.value], 2),
        };
      }
    }
    const scores = matmul(q, kv.key, { transB: true });
    let probs = softmax(add(scores, bias), -1);
    if (this.training && this.#dropout > 0) {
      probs = dropout(probs, this.#dropout, { generator: this.#generator });
    }
    const merged = reshape(permute(matmul(probs, kv.value), [0, 2, 1, 3]), [
      b,
      t,
      this.#heads * this.#dkv,
    ]);
    return { out: this.o.forward(merged), present: kv };
  }
}
