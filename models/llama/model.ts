/**
 * The Llama family on the core (`LlamaForCausalLM`, also Qwen2 and Mistral, which differ only
 * in config): pre-norm decoder layers of RMSNorm, grouped-query self-attention with rotary
 * positions and a KV cache, and a SwiGLU MLP; a final RMSNorm and an LM head tied to the
 * embeddings or not. Parameter names are transformers' (`model.layers.0.self_attn.q_proj...`).
 *
 * @module
 */

import {
  add,
  attention,
  concat,
  currentBackend,
  expand,
  mul,
  noGrad,
  permute,
  reshape,
  sigmoid,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";
import { assign, Embedding, Linear, Module, RMSNorm, runBlock } from "../../core/nn/mod.ts";
import { defaultGenerator, type Generator } from "../../core/random.ts";
import type { BuildOptions } from "../architecture.ts";
import { CausalLMBase } from "../causal_base.ts";
import type { CausalLMInput, CausalLMOutput } from "../contract.ts";
import type { CachedLayer } from "../generation.ts";
import { causalInputs, keepLast } from "../inputs.ts";
import { attentionWithDropout, LMHead, ModuleList } from "../layers.ts";
import { firstTokenId, type LlamaConfig, llamaConfig, llamaConfigJson } from "./config.ts";
import { applyRotary, ropeInverseFrequencies, RotaryTables } from "./rope.ts";

/** Where a layer's weights live and where its dropout draws from. */
interface LayerOptions {
  backend: string;
  generator?: Generator;
  init: boolean;
}

/** SwiGLU: `down_proj(silu(gate_proj(x)) · up_proj(x))`. */
export class LlamaMLP extends Module {
  /** [intermediate, hidden]. */
  readonly gate_proj: Linear;
  /** [intermediate, hidden]. */
  readonly up_proj: Linear;
  /** [hidden, intermediate]. */
  readonly down_proj: Linear;

  /** Creates the MLP of one layer. */
  constructor(config: LlamaConfig, opts: LayerOptions) {
    super();
    const d = config.hidden_size, f = config.intermediate_size;
    const o = { ...opts, bias: config.mlp_bias_in_effect };
    this.gate_proj = this.registerModule("gate_proj", new Linear(d, f, o));
    this.up_proj = this.registerModule("up_proj", new Linear(d, f, o));
    this.down_proj = this.registerModule("down_proj", new Linear(f, d, o));
  }

  /** x [B, T, hidden] → [B, T, hidden]. */
  forward(x: Tensor): Tensor {
    const gate = this.gate_proj.forward(x);
    return this.down_proj.forward(mul(mul(gate, sigmoid(gate)), this.up_proj.forward(x)));
  }
}

/** [B, Hkv, T, D] keys or values repeated to [B, Hkv·groups, T, D] (query head h reads h / groups). */
function repeatKv(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [b, hkv, t, d] = x.shape;
  return reshape(expand(reshape(x, [b, hkv, 1, t, d]), [b, hkv, groups, t, d]), [
    b,
    hkv * groups,
    t,
    d,
  ]);
}

/** Grouped-query self-attention with rotary positions (`self_attn`). */
export class LlamaAttention extends Module {
  /** [heads·head_dim, hidden]. */
  readonly q_proj: Linear;
  /** [kv_heads·head_dim, hidden]. */
  readonly k_proj: Linear;
  /** [kv_heads·head_dim, hidden]. */
  readonly v_proj: Linear;
  /** [hidden, heads·head_dim]. */
  readonly o_proj: Linear;
  readonly #heads: number;
  readonly #kvHeads: number;
  readonly #headDim: number;
  readonly #dropout: number;
  readonly #generator?: Generator;

  /** Creates the attention of one layer. */
  constructor(config: LlamaConfig, opts: LayerOptions) {
    super();
    const d = config.hidden_size, hd = config.head_dim;
    this.#heads = config.num_attention_heads;
    this.#kvHeads = config.num_key_value_heads;
    this.#headDim = hd;
    this.#dropout = config.attention_dropout;
    this.#generator = opts.generator;
    const qkv = { ...opts, bias: config.qkv_bias };
    this.q_proj = this.registerModule("q_proj", new Linear(d, this.#heads * hd, qkv));
    this.k_proj = this.registerModule("k_proj", new Linear(d, this.#kvHeads * hd, qkv));
    this.v_proj = this.registerModule("v_proj", new Linear(d, this.#kvHeads * hd, qkv));
    this.o_proj = this.registerModule(
      "o_proj",
      new Linear(this.#heads * hd, d, { ...opts, bias: config.o_bias }),
    );
  }

  /**
   * x [B, T, hidden] → [B, T, hidden], attending causally to the cached keys then the new ones.
   * @param mask [B, T_past + T] key mask.
   * @param rotary cos and sin [B, 1, T, head_dim] at the new positions.
   * @returns the output and this layer's keys/values (after RoPE, before repetition).
   */
  forward(
    x: Tensor,
    mask: Tensor,
    rotary: { cos: Tensor; sin: Tensor },
    past?: CachedLayer,
  ): { out: Tensor; present: CachedLayer } {
    const [b, t] = x.shape;
    const hd = this.#headDim;
    const heads = (proj: Linear, n: number) =>
      permute(reshape(proj.forward(x), [b, t, n, hd]), [0, 2, 1, 3]);
    const q = applyRotary(heads(this.q_proj, this.#heads), rotary.cos, rotary.sin);
    let k = applyRotary(heads(this.k_proj, this.#kvHeads), rotary.cos, rotary.sin);
    let v = heads(this.v_proj, this.#kvHeads);
    if (past) {
      k = concat([past.key, k], 2);
      v = concat([past.value, v], 2);
    }
    const groups = this.#heads / this.#kvHeads;
    const kr = repeatKv(k, groups), vr = repeatKv(v, groups);
    const scale = 1 / Math.sqrt(hd);
    const attended = this.training && this.#dropout > 0
      ? attentionWithDropout(q, kr, vr, mask, scale, this.#dropout, this.#generator)
      : attention(q, kr, vr, { causal: true, mask, scale });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, this.#heads * hd]);
    return { out: this.o_proj.forward(merged), present: { key: k, value: v } };
  }
}

/** One pre-norm decoder layer (`model.layers.{i}`). */
export class LlamaDecoderLayer extends Module {
  /** RMSNorm before attention. */
  readonly input_layernorm: RMSNorm;
  /** Self-attention. */
  readonly self_attn: LlamaAttention;
  /** RMSNorm before the MLP. */
  readonly post_attention_layernorm: RMSNorm;
  /** SwiGLU MLP. */
  readonly mlp: LlamaMLP;

  /** Creates one layer. */
  constructor(config: LlamaConfig, opts: LayerOptions) {
    super();
    const norm = { eps: config.rms_norm_eps, backend: opts.backend };
    this.input_layernorm = this.registerModule(
      "input_layernorm",
      new RMSNorm(config.hidden_size, norm),
    );
    this.self_attn = this.registerModule("self_attn", new LlamaAttention(config, opts));
    this.post_attention_layernorm = this.registerModule(
      "post_attention_layernorm",
      new RMSNorm(config.hidden_size, norm),
    );
    this.mlp = this.registerModule("mlp", new LlamaMLP(config, opts));
  }

  /** x [B, T, hidden] → [B, T, hidden] and this layer's cache. */
  forward(
    x: Tensor,
    mask: Tensor,
    rotary: { cos: Tensor; sin: Tensor },
    past?: CachedLayer,
  ): { out: Tensor; present: CachedLayer } {
    const a = this.self_attn.forward(this.input_layernorm.forward(x), mask, rotary, past);
    const h = add(x, a.out);
    return {
      out: add(h, this.mlp.forward(this.post_attention_layernorm.forward(h))),
      present: a.present,
    };
  }
}

/** The trunk (`model`): token embeddings, decoder layers, final RMSNorm. */
export class LlamaModel extends Module {
  /** [vocab, hidden]. */
  readonly embed_tokens: Embedding;
  /** The decoder layers. */
  readonly layers: readonly LlamaDecoderLayer[];
  /** Final RMSNorm. */
  readonly norm: RMSNorm;
  /** RoPE cos/sin tables (host, grown on demand). */
  readonly rotary: RotaryTables;
  readonly #config: LlamaConfig;

  /** Creates the trunk. */
  constructor(config: LlamaConfig, opts: LayerOptions) {
    super();
    this.#config = config;
    this.embed_tokens = this.registerModule(
      "embed_tokens",
      new Embedding(config.vocab_size, config.hidden_size, opts),
    );
    const layers = Array.from(
      { length: config.num_hidden_layers },
      () => new LlamaDecoderLayer(config, opts),
    );
    this.registerModule("layers", new ModuleList(layers));
    this.layers = layers;
    this.norm = this.registerModule(
      "norm",
      new RMSNorm(config.hidden_size, { eps: config.rms_norm_eps, backend: opts.backend }),
    );
    this.rotary = new RotaryTables(
      ropeInverseFrequencies(config.head_dim, config.rope_theta, config.rope_scaling),
    );
  }

  /** Final hidden states [B, T, hidden] (after `norm`) and every layer's cache. */
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
    const window = this.#config.sliding_window_span;
    if (window !== null && tk > window) {
      throw new Error(
        `${who}: ${tk} positions exceed the sliding window (${window}); sliding-window ` +
          `attention is not supported, so sequences must fit inside the window`,
      );
    }
    const rows = input.positionIds
      ? Math.max(tk, maxPosition(positions, this.#config.max_position_embeddings) + 1)
      : tk;
    const rotary = this.rotary.lookup(positions, rows);
    let x = this.embed_tokens.forward(ids);
    const presents: CachedLayer[] = [];
    // Without a cache to return, a layer's keys and values are not kept.
    const keepCache = input.useCache ?? past !== undefined;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const r = runBlock(
        layer,
        (h) => {
          const o = layer.forward(h, mask, rotary, past?.[i]);
          return keepCache ? o : { out: o.out };
        },
        x,
        { consumeInput: true },
      );
      x = r.out;
      if ("present" in r) presents.push(r.present);
    }
    return { hidden: this.norm.forward(x), presents };
  }
}

/**
 * The largest explicit position: read back where the host sees the backend's memory, else the
 * trained context (`bound`), so the cos/sin table covers it without a readback.
 */
function maxPosition(positions: Tensor, bound: number): number {
  if (!positions.backend.readSync) return bound - 1;
  return positions.toArraySync().reduce((m, p) => Math.max(m, p), 0);
}

/**
 * transformers' Llama init: linear and embedding weights N(0, initializer_range²), biases
 * zero, norms one.
 */
function initLlamaWeights(model: Module, std: number, g: Generator): void {
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (!name.endsWith(".weight") || name.includes("norm")) continue;
      const drawn = tensor(g.normal(p.size, 0, std), p.shape, { backend: p.backend.name });
      assign(p, drawn, name);
      drawn.dispose();
    }
  });
}

/** transformers' class of each family member. */
export const LLAMA_CLASS_NAMES: Readonly<Record<LlamaConfig["model_type"], string>> = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  mistral: "MistralForCausalLM",
};

/**
 * A Llama-family causal LM (transformers' `LlamaForCausalLM`, `Qwen2ForCausalLM`,
 * `MistralForCausalLM`).
 *
 * @example
 * ```ts
 * const model = new LlamaForCausalLM({
 *   model_type: "llama", vocab_size: 96, hidden_size: 32, intermediate_size: 64,
 *   num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
 * });
 * const { logits } = model.forward({ inputIds: [[1, 5, 9]] });
 * ```
 */
export class LlamaForCausalLM extends CausalLMBase {
  /** The trunk. */
  readonly model: LlamaModel;
  /** The output projection (the embedding's weight when tied). */
  readonly lm_head: LMHead;
  /** The checked config. */
  readonly config: LlamaConfig;
  /** Backend of the weights. */
  readonly backend: string;
  readonly #className: string;

  /**
   * A Llama-family model for `config` (a `LlamaConfig` or `config.json` contents), with
   * transformers' initial weights drawn from `opts.generator`, or zeros when
   * `initWeights: false` (a checkpoint fills them).
   */
  constructor(config: Record<string, unknown>, opts: Partial<BuildOptions> = {}) {
    super();
    this.config = llamaConfig(config);
    this.backend = opts.backend ?? currentBackend();
    const init = opts.initWeights ?? true;
    const layerOpts = { backend: this.backend, generator: opts.generator, init: false };
    this.model = this.registerModule("model", new LlamaModel(this.config, layerOpts));
    const c = this.config;
    const head = c.tie_word_embeddings
      ? this.model.embed_tokens.weight
      : zeros([c.vocab_size, c.hidden_size], { backend: this.backend });
    this.lm_head = this.registerModule("lm_head", new LMHead(head));
    if (init) initLlamaWeights(this, c.initializer_range, opts.generator ?? defaultGenerator());
    this.#className = LLAMA_CLASS_NAMES[c.model_type];
  }

  /** `llama`, `qwen2` or `mistral`. */
  get modelType(): string {
    return this.config.model_type;
  }
  /** `hidden_size`. */
  get hiddenSize(): number {
    return this.config.hidden_size;
  }
  /** `vocab_size`. */
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  /** The config's (first) `eos_token_id`, or null. */
  get eosTokenId(): number | null {
    return firstTokenId(this.config.eos_token_id);
  }
  /** The config's `pad_token_id`, or null (generation then pads with EOS). */
  get padTokenId(): number | null {
    return this.config.pad_token_id;
  }

  /** Logits (and hidden states, cache) for a batch; positions from the mask. */
  forward(input: CausalLMInput): CausalLMOutput {
    const { hidden, presents } = this.model.forward(input, this.#className);
    const out: CausalLMOutput = {
      logits: this.lm_head.forward(keepLast(hidden, input.logitsToKeep, this.#className)),
    };
    if (input.useCache ?? input.pastKeyValues !== undefined) out.pastKeyValues = presents;
    if (input.outputHiddenStates) out.hiddenStates = hidden;
    return out;
  }

  /** `lm_head.weight` [V, D]: the logits are hidden·Wᵀ (see `nextTokenLogProbs`). */
  outputEmbeddings(): Tensor {
    return this.lm_head.weight;
  }

  /** `config.json` contents transformers loads as this class. */
  configJson(): Record<string, unknown> {
    return llamaConfigJson(this.config, this.#className);
  }
}
