/**
 * OPT on the core (`OPTForCausalLM`): learned positions read at position + 2 (OPT's offset),
 * decoder layers with pre- or post-LN (`do_layer_norm_before`), queries scaled by
 * head_dim^−0.5 before attention, a ReLU MLP, dropout after attention and MLP, `project_in` /
 * `project_out` when the embeddings are narrower than the decoder, and an LM head tied to the
 * embeddings. Parameter names are transformers' (`model.decoder.layers.0.self_attn.q_proj...`).
 *
 * @module
 */

import {
  add,
  attention,
  concat,
  currentBackend,
  gelu,
  geluTanh,
  mul,
  noGrad,
  permute,
  relu,
  reshape,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";
import {
  assign,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  runBlock,
} from "../../core/nn/mod.ts";
import { defaultGenerator, type Generator } from "../../core/random.ts";
import type { BuildOptions } from "../architecture.ts";
import { CausalLMBase } from "../causal_base.ts";
import type { CausalLMInput, CausalLMOutput } from "../contract.ts";
import type { CachedLayer } from "../generation.ts";
import { causalInputs, keepLast } from "../inputs.ts";
import { attentionWithDropout, LMHead, ModuleList } from "../layers.ts";
import { type OptActivation, type OPTConfig, optConfig, optConfigJson } from "./config.ts";

/** OPT's learned position table is read at position + 2. */
export const OPT_POSITION_OFFSET = 2;

const ACTIVATION: Record<OptActivation, (x: Tensor) => Tensor> = {
  relu,
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
};

interface LayerOptions {
  backend: string;
  generator?: Generator;
  init: boolean;
}

/** OPT's self-attention (`self_attn`): q, k, v and out projections with biases. */
export class OPTAttention extends Module {
  /** [hidden, hidden]. */
  readonly q_proj: Linear;
  /** [hidden, hidden]. */
  readonly k_proj: Linear;
  /** [hidden, hidden]. */
  readonly v_proj: Linear;
  /** [hidden, hidden]. */
  readonly out_proj: Linear;
  readonly #heads: number;
  readonly #scaling: number;
  readonly #dropout: number;
  readonly #generator?: Generator;

  /** Creates the attention of one layer. */
  constructor(config: OPTConfig, opts: LayerOptions) {
    super();
    const d = config.hidden_size;
    const o = { ...opts, bias: config.enable_bias };
    this.k_proj = this.registerModule("k_proj", new Linear(d, d, o));
    this.v_proj = this.registerModule("v_proj", new Linear(d, d, o));
    this.q_proj = this.registerModule("q_proj", new Linear(d, d, o));
    this.out_proj = this.registerModule("out_proj", new Linear(d, d, o));
    this.#heads = config.num_attention_heads;
    this.#scaling = (d / this.#heads) ** -0.5;
    this.#dropout = config.attention_dropout;
    this.#generator = opts.generator;
  }

  /** x [B, T, hidden] → [B, T, hidden] and this layer's keys/values. */
  forward(x: Tensor, mask: Tensor, past?: CachedLayer): { out: Tensor; present: CachedLayer } {
    const [b, t, d] = x.shape;
    const h = this.#heads;
    const heads = (y: Tensor) => permute(reshape(y, [b, t, h, d / h]), [0, 2, 1, 3]);
    // transformers scales the queries before the product (and passes scale 1 to attention).
    const q = heads(mul(this.q_proj.forward(x), this.#scaling));
    let k = heads(this.k_proj.forward(x)), v = heads(this.v_proj.forward(x));
    if (past) {
      k = concat([past.key, k], 2);
      v = concat([past.value, v], 2);
    }
    const attended = this.training && this.#dropout > 0
      ? attentionWithDropout(q, k, v, mask, 1, this.#dropout, this.#generator)
      : attention(q, k, v, { causal: true, mask, scale: 1 });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, d]);
    return { out: this.out_proj.forward(merged), present: { key: k, value: v } };
  }
}

/** One decoder layer (`model.decoder.layers.{i}`), pre- or post-LN. */
export class OPTDecoderLayer extends Module {
  /** Self-attention. */
  readonly self_attn: OPTAttention;
  /** Norm around attention (before it in pre-LN, after the residual in post-LN). */
  readonly self_attn_layer_norm: LayerNorm;
  /** [ffn, hidden]. */
  readonly fc1: Linear;
  /** [hidden, ffn]. */
  readonly fc2: Linear;
  /** Norm around the MLP. */
  readonly final_layer_norm: LayerNorm;
  /** Dropout after attention and after the MLP (`dropout`). */
  readonly dropout: Dropout;
  readonly #preNorm: boolean;
  readonly #act: (x: Tensor) => Tensor;

  /** Creates one layer. */
  constructor(config: OPTConfig, opts: LayerOptions) {
    super();
    const d = config.hidden_size;
    const ln = { eps: 1e-5, backend: opts.backend };
    this.self_attn = this.registerModule("self_attn", new OPTAttention(config, opts));
    this.self_attn_layer_norm = this.registerModule("self_attn_layer_norm", new LayerNorm(d, ln));
    const o = { ...opts, bias: config.enable_bias };
    this.fc1 = this.registerModule("fc1", new Linear(d, config.ffn_dim, o));
    this.fc2 = this.registerModule("fc2", new Linear(config.ffn_dim, d, o));
    this.final_layer_norm = this.registerModule("final_layer_norm", new LayerNorm(d, ln));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout, opts.generator));
    this.#preNorm = config.do_layer_norm_before;
    this.#act = ACTIVATION[config.activation_function];
  }

  /** x [B, T, hidden] → [B, T, hidden] and this layer's cache. */
  forward(x: Tensor, mask: Tensor, past?: CachedLayer): { out: Tensor; present: CachedLayer } {
    const pre = this.#preNorm;
    const a = this.self_attn.forward(pre ? this.self_attn_layer_norm.forward(x) : x, mask, past);
    let h = add(x, this.dropout.forward(a.out));
    if (!pre) h = this.self_attn_layer_norm.forward(h);
    const m = this.fc2.forward(
      this.#act(this.fc1.forward(pre ? this.final_layer_norm.forward(h) : h)),
    );
    let out = add(h, this.dropout.forward(m));
    if (!pre) out = this.final_layer_norm.forward(out);
    return { out, present: a.present };
  }
}

/** OPT's decoder (`model.decoder`). */
export class OPTDecoder extends Module {
  /** [vocab, word_embed_proj_dim]. */
  readonly embed_tokens: Embedding;
  /** [max_position_embeddings + 2, hidden]. */
  readonly embed_positions: Embedding;
  /** Final norm (pre-LN models, unless removed), else null. */
  readonly final_layer_norm: LayerNorm | null;
  /** word_embed_proj_dim → hidden, when they differ. */
  readonly project_in: Linear | null;
  /** hidden → word_embed_proj_dim, when they differ. */
  readonly project_out: Linear | null;
  /** The decoder layers. */
  readonly layers: readonly OPTDecoderLayer[];
  readonly #config: OPTConfig;

  /** Creates the decoder. */
  constructor(config: OPTConfig, opts: LayerOptions) {
    super();
    this.#config = config;
    const d = config.hidden_size, e = config.word_embed_proj_dim;
    this.embed_tokens = this.registerModule(
      "embed_tokens",
      new Embedding(config.vocab_size, e, opts),
    );
    this.embed_positions = this.registerModule(
      "embed_positions",
      new Embedding(config.max_position_embeddings + OPT_POSITION_OFFSET, d, opts),
    );
    const projected = e !== d;
    this.project_out = projected
      ? this.registerModule("project_out", new Linear(d, e, { ...opts, bias: false }))
      : null;
    this.project_in = projected
      ? this.registerModule("project_in", new Linear(e, d, { ...opts, bias: false }))
      : null;
    this.final_layer_norm = config.do_layer_norm_before && !config._remove_final_layer_norm
      ? this.registerModule("final_layer_norm", new LayerNorm(d, { backend: opts.backend }))
      : null;
    const layers = Array.from(
      { length: config.num_hidden_layers },
      () => new OPTDecoderLayer(config, opts),
    );
    this.registerModule("layers", new ModuleList(layers));
    this.layers = layers;
  }

  /** Final hidden states [B, T, word_embed_proj_dim] and every layer's cache. */
  forward(input: CausalLMInput, who: string): { hidden: Tensor; presents: CachedLayer[] } {
    const backend = this.embed_tokens.weight.backend.name;
    const past = input.pastKeyValues;
    if (past && past.length !== this.layers.length) {
      throw new Error(
        `${who}: pastKeyValues has ${past.length} layers, the model ${this.layers.length}`,
      );
    }
    const tPast = past?.[0]?.key.shape[2] ?? 0;
    const { ids, mask, positions } = causalInputs(input, backend, tPast, who);
    const tk = tPast + ids.shape[1];
    if (tk > this.#config.max_position_embeddings) {
      throw new Error(
        `${who}: ${tk} positions (${tPast} cached + ${ids.shape[1]} new) exceed ` +
          `max_position_embeddings ${this.#config.max_position_embeddings}; shorten the input`,
      );
    }
    let x = this.embed_tokens.forward(ids);
    if (this.project_in) x = this.project_in.forward(x);
    x = add(x, this.embed_positions.forward(add(positions, OPT_POSITION_OFFSET)));
    const presents: CachedLayer[] = [];
    // Without a cache to return, a layer's keys and values are not kept.
    const keepCache = input.useCache ?? past !== undefined;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const r = runBlock(
        layer,
        (h) => {
          const o = layer.forward(h, mask, past?.[i]);
          return keepCache ? o : { out: o.out };
        },
        x,
        { consumeInput: true },
      );
      x = r.out;
      if ("present" in r) presents.push(r.present);
    }
    if (this.final_layer_norm) x = this.final_layer_norm.forward(x);
    if (this.project_out) x = this.project_out.forward(x);
    return { hidden: x, presents };
  }
}

/** OPT's trunk (`model`), holding the decoder. */
export class OPTModel extends Module {
  /** The decoder. */
  readonly decoder: OPTDecoder;
  /** Creates the trunk. */
  constructor(config: OPTConfig, opts: LayerOptions) {
    super();
    this.decoder = this.registerModule("decoder", new OPTDecoder(config, opts));
  }
}

/** transformers' OPT init: weights N(0, init_std²), biases zero, norms (1, 0), pad row zero. */
function initOptWeights(model: OPTForCausalLM, g: Generator): void {
  const { init_std: std, pad_token_id: pad, word_embed_proj_dim: e } = model.config;
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (!name.endsWith(".weight") || name.includes("layer_norm")) continue;
      const values = g.normal(p.size, 0, std);
      if (name.endsWith("embed_tokens.weight") && pad !== null) {
        values.fill(0, pad * e, (pad + 1) * e);
      }
      const drawn = tensor(values, p.shape, { backend: p.backend.name });
      assign(p, drawn, name);
      drawn.dispose();
    }
  });
}

/**
 * OPT with its language-model head (transformers' `OPTForCausalLM`).
 *
 * @example
 * ```ts
 * const model = new OPTForCausalLM({
 *   vocab_size: 98, hidden_size: 32, num_hidden_layers: 2, ffn_dim: 64, num_attention_heads: 4,
 * });
 * const { logits } = model.forward({ inputIds: [[2, 17, 13]] });
 * ```
 */
export class OPTForCausalLM extends CausalLMBase {
  /** Always `opt`. */
  readonly modelType = "opt";
  /** The trunk. */
  readonly model: OPTModel;
  /** The output projection, tied to `model.decoder.embed_tokens` (unless the config unties it). */
  readonly lm_head: LMHead;
  /** The checked config. */
  readonly config: OPTConfig;
  /** Backend of the weights. */
  readonly backend: string;

  /**
   * An OPT for `config` (an `OPTConfig` or `config.json` contents), with transformers' initial
   * weights drawn from `opts.generator`, or zeros when `initWeights: false`.
   */
  constructor(config: Record<string, unknown>, opts: Partial<BuildOptions> = {}) {
    super();
    this.config = optConfig(config);
    this.backend = opts.backend ?? currentBackend();
    const layerOpts = { backend: this.backend, generator: opts.generator, init: false };
    this.model = this.registerModule("model", new OPTModel(this.config, layerOpts));
    const c = this.config;
    const head = !c.tie_word_embeddings
      ? zeros([c.vocab_size, c.word_embed_proj_dim], { backend: this.backend })
      : this.model.decoder.embed_tokens.weight;
    this.lm_head = this.registerModule("lm_head", new LMHead(head));
    if (opts.initWeights ?? true) initOptWeights(this, opts.generator ?? defaultGenerator());
  }

  /** `word_embed_proj_dim`: the width of the final hidden states (the LM head's input). */
  get hiddenSize(): number {
    return this.config.word_embed_proj_dim;
  }
  /** `vocab_size`. */
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  /** `eos_token_id`, or null. */
  get eosTokenId(): number | null {
    return this.config.eos_token_id;
  }
  /** `pad_token_id` (OPT's tokenizer pads with 1), else EOS. */
  get padTokenId(): number | null {
    return this.config.pad_token_id ?? this.config.eos_token_id;
  }

  /** Logits (and hidden states, cache) for a batch; positions from the mask. */
  forward(input: CausalLMInput): CausalLMOutput {
    const { hidden, presents } = this.model.decoder.forward(input, "OPTForCausalLM");
    const out: CausalLMOutput = {
      logits: this.lm_head.forward(keepLast(hidden, input.logitsToKeep, "OPTForCausalLM")),
    };
    if (input.useCache ?? input.pastKeyValues !== undefined) out.pastKeyValues = presents;
    if (input.outputHiddenStates) out.hiddenStates = hidden;
    return out;
  }

  /** `lm_head.weight` [V, D]: the logits are hidden·Wᵀ (see `nextTokenLogProbs`). */
  outputEmbeddings(): Tensor {
    return this.lm_head.weight;
  }

  /** `config.json` contents transformers loads as `OPTForCausalLM`. */
  configJson(): Record<string, unknown> {
    return optConfigJson(this.config);
  }
}
