/**
 * GPT-2's self-attention block (`attn`): one `c_attn` projection to queries, keys and values,
 * causal attention over the cached and new keys with a key-padding mask, and `c_proj` back.
 */

import { attention, concat, permute, reshape, type Tensor, unbind } from "../../core/mod.ts";
import { Conv1D, Dropout, Module } from "../../core/nn/mod.ts";
import type { Generator } from "../../core/random.ts";
import { attentionWithDropout } from "../layers.ts";
import type { GPT2Config } from "./config.ts";

/** One block's cached keys and values, each [B, H, T_past, head_dim]. */
export interface LayerPast {
  /** Keys of every position seen so far. */
  key: Tensor;
  /** Values of every position seen so far. */
  value: Tensor;
}

/** Where a block's weights live and where its dropout draws from. */
export interface BlockOptions {
  /** Backend of the weights. */
  backend?: string;
  /** Generator for initial weights and dropout masks. */
  generator?: Generator;
  /** Draw initial weights (default true); false allocates zeros for a checkpoint to fill. */
  init?: boolean;
}

/** GPT-2 attention (`GPT2Attention`): names `c_attn`, `c_proj` as in Hugging Face checkpoints. */
export class GPT2Attention extends Module {
  /** [n_embd, 3·n_embd] projection to queries, keys and values (GPT-2's Conv1D layout). */
  readonly c_attn: Conv1D;
  /** [n_embd, n_embd] output projection. */
  readonly c_proj: Conv1D;
  /** Dropout after `c_proj` (`resid_pdrop`). */
  readonly resid_dropout: Dropout;
  readonly #nHead: number;
  readonly #scale: number;
  readonly #attnPdrop: number;
  readonly #generator?: Generator;

  /** Creates the block's attention for layer `layerIdx` of a model with `config`. */
  constructor(config: GPT2Config, layerIdx: number, opts: BlockOptions = {}) {
    super();
    const d = config.n_embd;
    this.c_attn = this.registerModule("c_attn", new Conv1D(d, 3 * d, opts));
    this.c_proj = this.registerModule("c_proj", new Conv1D(d, d, opts));
    this.resid_dropout = this.registerModule(
      "resid_dropout",
      new Dropout(config.resid_pdrop, opts.generator),
    );
    this.#nHead = config.n_head;
    const headDim = d / config.n_head;
    let scale = config.scale_attn_weights ? 1 / Math.sqrt(headDim) : 1;
    if (config.scale_attn_by_inverse_layer_idx) scale /= layerIdx + 1;
    this.#scale = scale;
    this.#attnPdrop = config.attn_pdrop;
    this.#generator = opts.generator;
  }

  /**
   * x [B, T, D] → [B, T, D], attending causally to `past` keys then the new ones.
   * @param mask [B, T_past + T] key-padding mask (1 keep, 0 pad).
   * @returns the output and this block's keys/values including the new positions.
   */
  forward(x: Tensor, mask: Tensor, past?: LayerPast): { out: Tensor; present: LayerPast } {
    const [b, t, d] = x.shape;
    const h = this.#nHead;
    // [B, T, 3D] → [3, B, H, T, hd]: one permute, then three views (one tape node).
    const qkv = permute(reshape(this.c_attn.forward(x), [b, t, 3, h, d / h]), [2, 0, 3, 1, 4]);
    const [q, k0, v0] = unbind(qkv, 0);
    let k = k0, v = v0;
    if (past) {
      k = concat([past.key, k], 2);
      v = concat([past.value, v], 2);
    }
    const attended = this.training && this.#attnPdrop > 0
      ? attentionWithDropout(q, k, v, mask, this.#scale, this.#attnPdrop, this.#generator)
      : attention(q, k, v, { causal: true, mask, scale: this.#scale });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, d]);
    return {
      out: this.resid_dropout.forward(this.c_proj.forward(merged)),
      present: { key: k, value: v },
    };
  }
}
