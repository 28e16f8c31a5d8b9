/**
 * The sub-layers of a T5 block, each pre-norm with a residual: self-attention
 * (`T5LayerSelfAttention`), cross-attention (`T5LayerCrossAttention`) and the feed-forward block
 * (`T5LayerFF`, plain `wi` or gated `wi_0`/`wi_1`), under transformers' names.
 *
 * @module
 */

import { add, gelu, geluTanh, mul, relu, sigmoid, type Tensor } from "../../core/mod.ts";
import { Dropout, Linear, Module, RMSNorm } from "../../core/nn/mod.ts";
import type { CachedLayer } from "../generation.ts";
import { T5Attention, type T5LayerOptions } from "./attention.ts";
import type { T5Activation, T5Config } from "./config.ts";

const ACTIVATION: Record<T5Activation, (x: Tensor) => Tensor> = {
  relu,
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  silu: (x) => mul(x, sigmoid(x)),
  swish: (x) => mul(x, sigmoid(x)),
};

/** T5 1.0's feed-forward (`T5DenseActDense`): `wo(dropout(act(wi(x))))`. */
export class T5DenseActDense extends Module {
  /** [d_ff, d_model]. */
  readonly wi: Linear;
  /** [d_model, d_ff]. */
  readonly wo: Linear;
  /** Dropout after the activation. */
  readonly dropout: Dropout;
  readonly #act: (x: Tensor) => Tensor;

  /** Creates the block. */
  constructor(config: T5Config, opts: T5LayerOptions = {}) {
    super();
    const lin = { bias: false, ...opts };
    this.wi = this.registerModule("wi", new Linear(config.d_model, config.d_ff, lin));
    this.wo = this.registerModule("wo", new Linear(config.d_ff, config.d_model, lin));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
    this.#act = ACTIVATION[config.dense_act_fn];
  }

  /** x [B, T, d_model] → [B, T, d_model]. */
  forward(x: Tensor): Tensor {
    return this.wo.forward(this.dropout.forward(this.#act(this.wi.forward(x))));
  }
}

/** T5 1.1's gated feed-forward (`T5DenseGatedActDense`): `wo(dropout(act(wi_0(x)) · wi_1(x)))`. */
export class T5DenseGatedActDense extends Module {
  /** [d_ff, d_model], the activated branch. */
  readonly wi_0: Linear;
  /** [d_ff, d_model], the linear branch. */
  readonly wi_1: Linear;
  /** [d_model, d_ff]. */
  readonly wo: Linear;
  /** Dropout after the gate. */
  readonly dropout: Dropout;
  readonly #act: (x: Tensor) => Tensor;

  /** Creates the block. */
  constructor(config: T5Config, opts: T5LayerOptions = {}) {
    super();
    const lin = { bias: false, ...opts };
    this.wi_0 = this.registerModule("wi_0", new Linear(config.d_model, config.d_ff, lin));
    this.wi_1 = this.registerModule("wi_1", new Linear(config.d_model, config.d_ff, lin));
    this.wo = this.registerModule("wo", new Linear(config.d_ff, config.d_model, lin));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
    this.#act = ACTIVATION[config.dense_act_fn];
  }

  /** x [B, T, d_model] → [B, T, d_model]. */
  forward(x: Tensor): Tensor {
    const gated = mul(this.#act(this.wi_0.forward(x)), this.wi_1.forward(x));
    return this.wo.forward(this.dropout.forward(gated));
  }
}

/** The feed-forward sub-layer (`T5LayerFF`): x + dropout(ff(norm(x))). */
export class T5LayerFF extends Module {
  /** The feed-forward block (transformers keeps this name for the gated variant too). */
  readonly DenseReluDense: T5DenseActDense | T5DenseGatedActDense;
  /** RMS norm before the block. */
  readonly layer_norm: RMSNorm;
  /** Dropout on the block's output. */
  readonly dropout: Dropout;

  /** Creates the sub-layer. */
  constructor(config: T5Config, opts: T5LayerOptions = {}) {
    super();
    this.DenseReluDense = this.registerModule(
      "DenseReluDense",
      config.is_gated_act
        ? new T5DenseGatedActDense(config, opts)
        : new T5DenseActDense(config, opts),
    );
    this.layer_norm = this.registerModule(
      "layer_norm",
      new RMSNorm(config.d_model, { eps: config.layer_norm_epsilon, backend: opts.backend }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
  }

  /** x [B, T, d_model] → [B, T, d_model]. */
  forward(x: Tensor): Tensor {
    return add(x, this.dropout.forward(this.DenseReluDense.forward(this.layer_norm.forward(x))));
  }
}

/** The self-attention sub-layer (`T5LayerSelfAttention`): x + dropout(attn(norm(x))). */
export class T5LayerSelfAttention extends Module {
  /** The attention. */
  readonly SelfAttention: T5Attention;
  /** RMS norm before the attention. */
  readonly layer_norm: RMSNorm;
  /** Dropout on the attention's output. */
  readonly dropout: Dropout;

  /** Creates the sub-layer; block 0's owns the position-bias table. */
  constructor(config: T5Config, hasRelativeAttentionBias: boolean, opts: T5LayerOptions = {}) {
    super();
    this.SelfAttention = this.registerModule(
      "SelfAttention",
      new T5Attention(config, { ...opts, hasRelativeAttentionBias }),
    );
    this.layer_norm = this.registerModule(
      "layer_norm",
      new RMSNorm(config.d_model, { eps: config.layer_norm_epsilon, backend: opts.backend }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
  }

  /** x [B, T, d_model] → [B, T, d_model] and the keys/values including x's (see `T5Attention`). */
  forward(x: Tensor, bias: Tensor, past?: CachedLayer): { out: Tensor; present: CachedLayer } {
    const a = this.SelfAttention.forward(this.layer_norm.forward(x), bias, { past });
    return { out: add(x, this.dropout.forward(a.out)), present: a.present };
  }
}

/** The cross-attention sub-layer (`T5LayerCrossAttention`): x + dropout(attn(norm(x), enc)). */
export class T5LayerCrossAttention extends Module {
  /** The attention over the encoder states. */
  readonly EncDecAttention: T5Attention;
  /** RMS norm before the attention. */
  readonly layer_norm: RMSNorm;
  /** Dropout on the attention's output. */
  readonly dropout: Dropout;

  /** Creates the sub-layer. */
  constructor(config: T5Config, opts: T5LayerOptions = {}) {
    super();
    this.EncDecAttention = this.registerModule("EncDecAttention", new T5Attention(config, opts));
    this.layer_norm = this.registerModule(
      "layer_norm",
      new RMSNorm(config.d_model, { eps: config.layer_norm_epsilon, backend: opts.backend }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout_rate, opts.generator));
  }

  /**
   * x [B, T, d_model] attending to the encoder's keys/values (`EncDecAttention.keyValues` of
   * the encoder states) under `bias` (the encoder mask, no positions).
   */
  forward(x: Tensor, bias: Tensor, keyValues: CachedLayer): Tensor {
    const a = this.EncDecAttention.forward(this.layer_norm.forward(x), bias, { keyValues });
    return add(x, this.dropout.forward(a.out));
  }
}
