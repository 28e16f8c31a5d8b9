/**
 * GPT-2 on the core: `GPT2Model` (the `transformer` trunk) and `GPT2LMHeadModel` with Hugging
 * Face's parameter names, positions that follow the attention mask and a KV cache; a
 * `CausalLM` (TRL's value head and the score head wrap it: `CausalLMWithValueHead`,
 * `CausalLMForSequenceClassification`).
 *
 * @module
 */

import {
  add,
  currentBackend,
  gelu,
  geluTanh,
  noGrad,
  randn,
  relu,
  tanh,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";
import { assign, Conv1D, Dropout, Embedding, LayerNorm, Module } from "../../core/nn/mod.ts";
import { defaultGenerator, type Generator } from "../../core/random.ts";
import { CausalLMBase } from "../causal_base.ts";
import type { CausalLMOutput } from "../contract.ts";
import { causalInputs, keepLast } from "../inputs.ts";
import { LMHead, ModuleList } from "../layers.ts";
import { type BlockOptions, GPT2Attention, type LayerPast } from "./attention.ts";
import { type GPT2Config, gpt2Config, gpt2ConfigJson, innerSize } from "./config.ts";
import type { TokenMatrix } from "../bert/inputs.ts";

export type { LayerPast } from "./attention.ts";
export type { CausalLMOutput } from "../contract.ts";
export { onBackend } from "../inputs.ts";
export { LMHead } from "../layers.ts";

/** The cache of every block, in block order (Hugging Face's `past_key_values`). */
export type PastKeyValues = LayerPast[];

export type { TokenMatrix };

/** Inputs of a GPT-2 forward pass. */
export interface GPT2Input {
  /** Token ids [B, T] (integers stored as f32). */
  inputIds: TokenMatrix;
  /**
   * [B, T_past + T]: 1 for real tokens, 0 for padding (default all ones). Padded keys are
   * hidden from every query, and positions count real tokens only, so a left-padded row
   * gets the same positions as the unpadded sequence.
   */
  attentionMask?: TokenMatrix;
  /** Cached keys and values of earlier positions, as returned by a previous forward. */
  pastKeyValues?: PastKeyValues;
  /** Explicit position ids [B, T] (default: `cumsum(mask) − 1`, clamped at 0 for padding). */
  positionIds?: TokenMatrix;
  /** Return the updated cache (default: true when `pastKeyValues` is given). */
  useCache?: boolean;
  /** Compute logits only for the last this many positions (0 = all, the default). */
  logitsToKeep?: number;
  /** Also return the final hidden states (after `ln_f`). */
  outputHiddenStates?: boolean;
}

/** Options of a fresh GPT-2 (weights drawn from `generator`, as Hugging Face initialises). */
export type GPT2Options = GPT2ModelOptions;

/** Options of `GPT2Model`. */
export interface GPT2ModelOptions extends BlockOptions {
  /**
   * Draw Hugging Face's initial weights (default true). False allocates zeros without drawing
   * anything, for weights a checkpoint overwrites anyway (GPT-2 124M builds in milliseconds
   * instead of seconds, and without a transient copy of its embedding).
   */
  initWeights?: boolean;
}

const ACTIVATION: Record<GPT2Config["activation_function"], (x: Tensor) => Tensor> = {
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu: gelu,
  relu: relu,
  tanh: tanh,
};

/** GPT-2's feed-forward block (`mlp`): `c_fc`, activation, `c_proj`, dropout. */
export class GPT2MLP extends Module {
  /** [n_embd, n_inner]. */
  readonly c_fc: Conv1D;
  /** [n_inner, n_embd]. */
  readonly c_proj: Conv1D;
  /** Dropout after `c_proj` (`resid_pdrop`). */
  readonly dropout: Dropout;
  readonly #act: (x: Tensor) => Tensor;

  /** Creates the block's MLP. */
  constructor(config: GPT2Config, opts: BlockOptions = {}) {
    super();
    const inner = innerSize(config);
    this.c_fc = this.registerModule("c_fc", new Conv1D(config.n_embd, inner, opts));
    this.c_proj = this.registerModule("c_proj", new Conv1D(inner, config.n_embd, opts));
    this.dropout = this.registerModule("dropout", new Dropout(config.resid_pdrop, opts.generator));
    this.#act = ACTIVATION[config.activation_function];
  }

  /** x [B, T, D] → [B, T, D]. */
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.#act(this.c_fc.forward(x))));
  }
}

/** One pre-norm transformer block (`h.{i}`): `ln_1`, `attn`, `ln_2`, `mlp`. */
export class GPT2Block extends Module {
  /** Norm before attention. */
  readonly ln_1: LayerNorm;
  /** Self-attention. */
  readonly attn: GPT2Attention;
  /** Norm before the MLP. */
  readonly ln_2: LayerNorm;
  /** Feed-forward. */
  readonly mlp: GPT2MLP;

  /** Creates block `layerIdx`. */
  constructor(config: GPT2Config, layerIdx: number, opts: BlockOptions = {}) {
    super();
    const ln = { eps: config.layer_norm_epsilon, backend: opts.backend };
    this.ln_1 = this.registerModule("ln_1", new LayerNorm(config.n_embd, ln));
    this.attn = this.registerModule("attn", new GPT2Attention(config, layerIdx, opts));
    this.ln_2 = this.registerModule("ln_2", new LayerNorm(config.n_embd, ln));
    this.mlp = this.registerModule("mlp", new GPT2MLP(config, opts));
  }

  /** x [B, T, D] → [B, T, D] and this block's cache. */
  forward(x: Tensor, mask: Tensor, past?: LayerPast): { out: Tensor; present: LayerPast } {
    const a = this.attn.forward(this.ln_1.forward(x), mask, past);
    const h = add(x, a.out);
    return { out: add(h, this.mlp.forward(this.ln_2.forward(h))), present: a.present };
  }
}

/** GPT-2's trunk (`transformer`): embeddings, blocks, final norm. */
export class GPT2Model extends Module {
  /** Token embeddings [V, D]. */
  readonly wte: Embedding;
  /** Position embeddings [n_positions, D]. */
  readonly wpe: Embedding;
  /** Dropout after the embeddings (`embd_pdrop`). */
  readonly drop: Dropout;
  /** The blocks. */
  readonly h: GPT2Block[];
  /** Final layer norm. */
  readonly ln_f: LayerNorm;
  /** The checked config. */
  readonly config: GPT2Config;

  /** Creates the trunk with freshly initialised weights (N(0, initializer_range²)). */
  constructor(config: GPT2Config, opts: GPT2ModelOptions = {}) {
    super();
    this.config = config;
    const d = config.n_embd;
    if (opts.initWeights === false) opts = { ...opts, init: false };
    this.wte = this.registerModule("wte", new Embedding(config.vocab_size, d, opts));
    this.wpe = this.registerModule("wpe", new Embedding(config.n_positions, d, opts));
    this.drop = this.registerModule("drop", new Dropout(config.embd_pdrop, opts.generator));
    this.h = Array.from({ length: config.n_layer }, (_, i) => new GPT2Block(config, i, opts));
    this.registerModule("h", new ModuleList(this.h));
    this.ln_f = this.registerModule(
      "ln_f",
      new LayerNorm(d, { eps: config.layer_norm_epsilon, backend: opts.backend }),
    );
    if (opts.initWeights ?? true) {
      initGpt2Weights(this, config, opts.generator ?? defaultGenerator());
    }
  }

  /**
   * Final hidden states [B, T, D] and every block's cache. See `GPT2Input` for the mask and
   * position conventions.
   */
  forward(input: GPT2Input): { hidden: Tensor; presents: PastKeyValues } {
    const backend = this.wte.weight.backend.name;
    const past = input.pastKeyValues;
    if (past && past.length !== this.h.length) {
      throw new Error(
        `GPT2Model: pastKeyValues has ${past.length} layers, the model ${this.h.length}`,
      );
    }
    const tPast = past?.[0]?.key.shape[2] ?? 0;
    const { ids, mask, positions } = causalInputs(input, backend, tPast, "GPT2Model");
    const tk = tPast + ids.shape[1];
    if (tk > this.config.n_positions) {
      throw new Error(
        `GPT2Model: ${tk} positions (${tPast} cached + ${ids.shape[1]} new) exceed n_positions ` +
          `${this.config.n_positions}; shorten the input or the generation`,
      );
    }
    let x = this.drop.forward(add(this.wte.forward(ids), this.wpe.forward(positions)));
    const presents: PastKeyValues = [];
    for (let i = 0; i < this.h.length; i++) {
      const r = this.h[i].forward(x, mask, past?.[i]);
      x = r.out;
      presents.push(r.present);
    }
    return { hidden: this.ln_f.forward(x), presents };
  }
}

/**
 * Hugging Face's GPT-2 init: embeddings and projections N(0, initializer_range²), the residual
 * projections (`c_proj`) scaled down by √(2·n_layer), biases zero, norms (1, 0).
 */
function initGpt2Weights(model: GPT2Model, config: GPT2Config, g: Generator): void {
  const std = config.initializer_range;
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (!name.endsWith(".weight") || name.includes("ln_")) continue;
      const s = name.endsWith("c_proj.weight") ? std / Math.sqrt(2 * config.n_layer) : std;
      const drawn = tensor(g.normal(p.size, 0, s), p.shape, { backend: p.backend.name });
      assign(p, drawn, name);
      drawn.dispose();
    }
  });
}

/**
 * GPT-2 with its language-model head (Hugging Face's `GPT2LMHeadModel`).
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { GPT2LMHeadModel } from "@tether/rlhf/models";
 *
 * const model = new GPT2LMHeadModel({ n_layer: 2, n_embd: 32, n_head: 4, vocab_size: 97 });
 * model.eval();
 * const { logits } = model.forward({ inputIds: tensor([[1, 2, 3]]) });
 * ```
 */
export class GPT2LMHeadModel extends CausalLMBase {
  /** Always `gpt2`. */
  readonly modelType = "gpt2";
  /** The trunk. */
  readonly transformer: GPT2Model;
  /** The output projection (tied to `transformer.wte` unless the config unties it). */
  readonly lm_head: LMHead;
  /** The checked config. */
  readonly config: GPT2Config;
  /** Backend of the weights. */
  readonly backend: string;

  /**
   * A freshly initialised GPT-2 (load weights with `loadCausalLM`, or `loadGpt2Weights`).
   * @param config A `GPT2Config` or partial `config.json` contents (defaults fill the rest).
   */
  constructor(config: Partial<GPT2Config> | Record<string, unknown>, opts: GPT2Options = {}) {
    super();
    this.config = gpt2Config(config as Record<string, unknown>);
    this.backend = opts.backend ?? currentBackend();
    const blockOpts = { backend: this.backend, generator: opts.generator };
    this.transformer = this.registerModule(
      "transformer",
      new GPT2Model(this.config, { ...blockOpts, initWeights: opts.initWeights }),
    );
    const c = this.config;
    const headWeight = c.tie_word_embeddings
      ? this.transformer.wte.weight
      : opts.initWeights === false
      ? zeros([c.vocab_size, c.n_embd], { backend: this.backend })
      : randn(
        [c.vocab_size, c.n_embd],
        { std: c.initializer_range, generator: opts.generator, backend: this.backend },
      );
    this.lm_head = this.registerModule("lm_head", new LMHead(headWeight));
  }

  /** `n_embd`. */
  get hiddenSize(): number {
    return this.config.n_embd;
  }

  /** `vocab_size`. */
  get vocabSize(): number {
    return this.config.vocab_size;
  }

  /** The id generation stops on (`eos_token_id`), or null. */
  get eosTokenId(): number | null {
    return this.config.eos_token_id;
  }

  /** The id used for padding: `pad_token_id`, else EOS (GPT-2 has no pad token). */
  get padTokenId(): number | null {
    return this.config.pad_token_id ?? this.config.eos_token_id;
  }

  /** Logits (and hidden states, cache) for a batch; see `GPT2Input`. */
  forward(input: GPT2Input): CausalLMOutput {
    const { hidden, presents } = this.transformer.forward(input);
    const last = keepLast(hidden, input.logitsToKeep, "GPT2LMHeadModel");
    const out: CausalLMOutput = { logits: this.lm_head.forward(last) };
    if (input.useCache ?? input.pastKeyValues !== undefined) out.pastKeyValues = presents;
    if (input.outputHiddenStates) out.hiddenStates = hidden;
    return out;
  }

  /** `config.json` contents transformers loads as `GPT2LMHeadModel`. */
  configJson(): Record<string, unknown> {
    return gpt2ConfigJson(this.config);
  }
}
