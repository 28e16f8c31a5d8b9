/**
 * GPT-2 on the core: `GPT2Model` (the `transformer` trunk) and `GPT2LMHeadModel` with Hugging
 * Face's parameter names, positions that follow the attention mask, a KV cache, and an optional
 * TRL value head (`v_head`).
 *
 * @module
 */

import {
  add,
  clamp,
  currentBackend,
  gelu,
  geluTanh,
  matmul,
  noGrad,
  ones,
  randn,
  relu,
  slice,
  sub,
  tanh,
  type Tensor,
  tensor,
  toBackend,
} from "../../core/mod.ts";
import {
  assign,
  Conv1D,
  Dropout,
  Embedding,
  LayerNorm,
  Module,
  runBlock,
} from "../../core/nn/mod.ts";
import { defaultGenerator, type Generator } from "../../core/random.ts";
import { fmtShape } from "../../core/shape.ts";
import { ValueHead, type ValueHeadOptions } from "../heads.ts";
import { generate, type GenerateOptions, type GenerateResult } from "../generation.ts";
import { type BlockOptions, GPT2Attention, type LayerPast } from "./attention.ts";
import { type GPT2Config, gpt2Config, innerSize } from "./config.ts";
import { saveGpt2 } from "./weights.ts";
import type { TokenMatrix } from "../bert/inputs.ts";

export type { LayerPast } from "./attention.ts";

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

/** What a causal LM forward returns. */
export interface CausalLMOutput {
  /** [B, T, V] (or [B, logitsToKeep, V]) next-token scores. */
  logits: Tensor;
  /** [B, T] value-head estimates, when the model has a value head. */
  values?: Tensor;
  /** The cache including this call's positions, when `useCache`. */
  pastKeyValues?: PastKeyValues;
  /** [B, T, D] final hidden states, when asked for. */
  hiddenStates?: Tensor;
}

/** Options of a fresh GPT-2 (weights drawn from `generator`, as Hugging Face initialises). */
export interface GPT2Options extends GPT2ModelOptions {
  /** Attach a TRL value head (`v_head`). */
  valueHead?: boolean | ValueHeadOptions;
}

/** Options of `GPT2Model`. */
export interface GPT2ModelOptions extends BlockOptions {
  /**
   * Draw Hugging Face's initial weights (default true). False skips that pass when a
   * checkpoint will overwrite every weight anyway (it halves the build time of GPT-2 124M).
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

/** The blocks, registered as children "0", "1", ... (`h.0.…`). */
class BlockList extends Module {
  readonly blocks: GPT2Block[];
  constructor(blocks: GPT2Block[]) {
    super();
    this.blocks = blocks;
    blocks.forEach((b, i) => this.registerModule(String(i), b));
  }
}

/** Position ids [B, T] = cumsum(mask) − 1 over the last T columns, clamped at 0 for padding. */
function positionsFromMask(mask: Tensor, t: number): Tensor {
  const tk = mask.shape[1], past = tk - t;
  // cumsum as a matmul with a triangular 0/1 matrix: runs on any backend without a readback.
  const upper = new Float32Array(tk * t);
  for (let j = 0; j < tk; j++) for (let i = Math.max(0, j - past); i < t; i++) upper[j * t + i] = 1;
  const counts = matmul(mask, tensor(upper, [tk, t], { backend: mask.backend.name }));
  return clamp(sub(counts, 1), 0);
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
    this.wte = this.registerModule("wte", new Embedding(config.vocab_size, d, opts));
    this.wpe = this.registerModule("wpe", new Embedding(config.n_positions, d, opts));
    this.drop = this.registerModule("drop", new Dropout(config.embd_pdrop, opts.generator));
    this.h = Array.from({ length: config.n_layer }, (_, i) => new GPT2Block(config, i, opts));
    this.registerModule("h", new BlockList(this.h));
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
    const ids = onBackend(input.inputIds, backend);
    if (ids.rank !== 2) {
      throw new Error(`GPT2Model: inputIds must be [B, T], got ${fmtShape(ids.shape)}`);
    }
    const [b, t] = ids.shape;
    const past = input.pastKeyValues;
    if (past && past.length !== this.h.length) {
      throw new Error(
        `GPT2Model: pastKeyValues has ${past.length} layers, the model ${this.h.length}`,
      );
    }
    const tPast = past?.[0]?.key.shape[2] ?? 0;
    const tk = tPast + t;
    if (tk > this.config.n_positions) {
      throw new Error(
        `GPT2Model: ${tk} positions (${tPast} cached + ${t} new) exceed n_positions ` +
          `${this.config.n_positions}; shorten the input or the generation`,
      );
    }
    const mask = input.attentionMask
      ? onBackend(input.attentionMask, backend, "attentionMask")
      : ones([b, tk], { backend });
    if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== tk) {
      throw new Error(
        `GPT2Model: attentionMask must be [B, T_past + T] = [${b}, ${tk}], got ` +
          `${fmtShape(mask.shape)}` + (tPast ? " (it covers the cached positions too)" : ""),
      );
    }
    const positions = input.positionIds
      ? onBackend(input.positionIds, backend, "positionIds")
      : positionsFromMask(mask, t);
    let x = this.drop.forward(add(this.wte.forward(ids), this.wpe.forward(positions)));
    const presents: PastKeyValues = [];
    // Without a cache to return, a block's keys and values (views of its qkv) are not kept.
    const keepCache = input.useCache ?? past !== undefined;
    for (let i = 0; i < this.h.length; i++) {
      const block = this.h[i];
      const r = runBlock(
        block,
        (h) => {
          const o = block.forward(h, mask, past?.[i]);
          return keepCache ? o : { out: o.out };
        },
        x,
        { consumeInput: true },
      );
      x = r.out;
      if ("present" in r) presents.push(r.present);
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

/** `x` as a tensor on `backend` (nested arrays are checked to be a rectangular matrix). */
export function onBackend(x: TokenMatrix, backend: string, field = "inputIds"): Tensor {
  if (!Array.isArray(x)) {
    const t = x as Tensor;
    return t.backend.name === backend ? t : toBackend(t, backend);
  }
  const rows = x as readonly (readonly number[])[];
  const width = rows[0]?.length ?? 0;
  if (rows.length === 0 || width === 0) {
    throw new Error(
      `GPT2Model: ${field} must be a non-empty [B, T] matrix, got ${rows.length} rows`,
    );
  }
  const flat = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new Error(
        `GPT2Model: ${field} row ${r} has ${row?.length} entries, row 0 has ${width}; pad the ` +
          `rows to one length and pass an attention mask`,
      );
    }
    flat.set(row, r * width);
  });
  return tensor(flat, [rows.length, width], { backend });
}

/** The output projection (`lm_head`, no bias); its weight is `wte.weight` when tied. */
export class LMHead extends Module {
  /** [vocab_size, n_embd]. */
  readonly weight: Tensor;
  /** Wraps `weight` (registered as this module's parameter, shared when tied). */
  constructor(weight: Tensor) {
    super();
    this.weight = this.registerParameter("weight", weight);
  }
  /** hidden [..., D] → logits [..., V]. */
  forward(hidden: Tensor): Tensor {
    return matmul(hidden, this.weight, { transB: true });
  }
}

/**
 * GPT-2 with its language-model head (Hugging Face's `GPT2LMHeadModel`), optionally with TRL's
 * value head (`AutoModelForCausalLMWithValueHead`'s `v_head`).
 *
 * @example
 * ```ts
 * const model = new GPT2LMHeadModel({ n_layer: 2, n_embd: 32, n_head: 4, vocab_size: 97 });
 * model.eval();
 * const { logits } = model.forward({ inputIds: tensor([[1, 2, 3]]) });
 * ```
 */
export class GPT2LMHeadModel extends Module {
  /** The trunk. */
  readonly transformer: GPT2Model;
  /** The output projection (tied to `transformer.wte` unless the config unties it). */
  readonly lm_head: LMHead;
  /** TRL's value head, when attached. */
  v_head: ValueHead | null = null;
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
    const headWeight = c.tie_word_embeddings ? this.transformer.wte.weight : randn(
      [c.vocab_size, c.n_embd],
      { std: c.initializer_range, generator: opts.generator, backend: this.backend },
    );
    this.lm_head = this.registerModule("lm_head", new LMHead(headWeight));
    if (opts.valueHead) {
      this.attachValueHead(opts.valueHead === true ? {} : opts.valueHead, opts.generator);
    }
  }

  /** Attaches a fresh TRL value head as `v_head` (replacing none; throws if one exists). */
  attachValueHead(opts: ValueHeadOptions = {}, generator?: Generator): ValueHead {
    if (this.v_head) throw new Error("GPT2LMHeadModel: a value head (v_head) is already attached");
    const head = new ValueHead(this.config.n_embd, {
      dropout: this.config.summary_dropout_prob ?? undefined,
      backend: this.backend,
      generator,
      ...opts,
    });
    this.v_head = this.registerModule("v_head", head);
    return head;
  }

  /** `lm_head.weight` [V, D]: the logits are hidden·Wᵀ (see `nextTokenLogProbs`). */
  outputEmbeddings(): Tensor {
    return this.lm_head.weight;
  }

  /** The id generation stops on (`eos_token_id`), or null. */
  get eosTokenId(): number | null {
    return this.config.eos_token_id;
  }

  /** The id used for padding: `pad_token_id`, else EOS (GPT-2 has no pad token). */
  get padTokenId(): number | null {
    return this.config.pad_token_id ?? this.config.eos_token_id;
  }

  /** Logits (and values with a value head) for a batch; see `GPT2Input`. */
  forward(input: GPT2Input): CausalLMOutput {
    const { hidden, presents } = this.transformer.forward(input);
    const keepN = input.logitsToKeep ?? 0;
    const t = hidden.shape[1];
    if (!Number.isInteger(keepN) || keepN < 0) {
      throw new Error(`GPT2LMHeadModel: logitsToKeep must be an integer >= 0, got ${keepN}`);
    }
    const last = keepN > 0 && keepN < t
      ? slice(hidden, [0, t - keepN, 0], [hidden.shape[0], keepN, hidden.shape[2]])
      : hidden;
    const out: CausalLMOutput = { logits: this.lm_head.forward(last) };
    if (this.v_head) out.values = this.v_head.forward(hidden);
    if (input.useCache ?? input.pastKeyValues !== undefined) out.pastKeyValues = presents;
    if (input.outputHiddenStates) out.hiddenStates = hidden;
    return out;
  }

  /**
   * Batched generation from prompts of token ids (left-padded inside); see `GenerateOptions`.
   * Runs without gradients, in whatever train/eval mode the model is in.
   */
  generate(inputIds: number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
    return generate(this, inputIds, opts);
  }

  /**
   * Writes `config.json` + `model.safetensors` into `dir` (atomically) so that Python's
   * `GPT2LMHeadModel.from_pretrained(dir)` loads it; a value head is saved as TRL names it.
   * LoRA adapters are not included: `merge()` them first, or save them with `saveLora`.
   */
  save(dir: string): Promise<void> {
    return saveGpt2(this, dir);
  }
}
