/**
 * The GPT-2 reward model of trlX's summarization recipe (`GPTRewardModel`): the GPT-2 trunk
 * (`transformer`) with a bias-free linear head (`v_head`, hidden → 1) on every hidden state, so
 * each position gets a reward. It is initialised from a causal LM (the SFT policy) with a fresh
 * head, and saves under trlX's parameter names (`transformer.…`, `v_head.weight`).
 *
 * @module
 */

import { currentBackend, squeeze, type Tensor } from "../core/mod.ts";
import { Linear, Module } from "../core/nn/mod.ts";
import { Generator } from "../core/random.ts";
import type { TrainableModel } from "../algorithms/common/trainer.ts";
import { openModel } from "../models/hub/repo.ts";
import type { HubOptions } from "../models/hub/env.ts";
import { loadConfig, loadStateDict } from "../models/io/checkpoint.ts";
import { type GPT2Config, gpt2Config } from "../models/gpt2/config.ts";
import { GPT2Model, type GPT2ModelOptions, onBackend } from "../models/gpt2/model.ts";
import { loadGpt2Weights, saveGpt2, skipGpt2InitDraws } from "../models/gpt2/weights.ts";

/** A model that gives every position of a right-padded batch a reward. */
export interface TokenRewardModel extends TrainableModel {
  /** `rewards` [B, T] for `inputIds` [B, T] under `attentionMask` [B, T]. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { rewards: Tensor };
}

/** The architecture name recorded in a saved reward model's `config.json`. */
export const TOKEN_REWARD_ARCHITECTURE = "GPTRewardModel";

/** What {@link GPT2TokenRewardModel.freezeFirstBlocks} froze. */
export interface FrozenBlocks {
  /** Blocks frozen (the first ones). */
  frozen: number;
  /** Blocks in the model. */
  total: number;
}

/** GPT-2 trunk + bias-free per-token reward head (`v_head`). */
export class GPT2TokenRewardModel extends Module implements TokenRewardModel {
  /** The trunk. */
  readonly transformer: GPT2Model;
  /** [1, n_embd] projection of each hidden state to a reward. */
  readonly v_head: Linear;
  /** The checked config. */
  readonly config: GPT2Config;
  /** Backend of the weights. */
  readonly backend: string;

  /**
   * A fresh model (weights drawn as transformers and torch initialise them).
   *
   * @param config GPT-2 `config.json` contents.
   * @param opts Backend, generator, whether to draw the trunk's weights.
   */
  constructor(config: Partial<GPT2Config> | Record<string, unknown>, opts: GPT2ModelOptions = {}) {
    super();
    this.config = gpt2Config(config as Record<string, unknown>);
    this.backend = opts.backend ?? currentBackend();
    const o = { backend: this.backend, generator: opts.generator };
    this.transformer = this.registerModule(
      "transformer",
      new GPT2Model(this.config, { ...o, initWeights: opts.initWeights }),
    );
    this.v_head = this.registerModule(
      "v_head",
      new Linear(this.config.n_embd, 1, { ...o, bias: false }),
    );
  }

  /** Per-token rewards [B, T]. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { rewards: Tensor } {
    const ids = onBackend(inputs.inputIds, this.backend);
    const mask = onBackend(inputs.attentionMask, this.backend, "attentionMask");
    const { hidden } = this.transformer.forward({ inputIds: ids, attentionMask: mask });
    return { rewards: squeeze(this.v_head.forward(hidden), [2]) };
  }

  /**
   * Freeze the first blocks, leaving `floor((1 − fraction) · n)` trainable, as trlX's
   * `num_unfrozen = int(0.3 * num_layers)` (fraction 0.7: 9 of GPT-2's 12 blocks frozen, 20 of
   * GPT-J's 28). Embeddings, the final norm and the head stay trainable, as in trlX. When no
   * block would stay trainable, all are frozen (trlX's `layers[:-0]` would freeze none).
   *
   * @param fraction Share of blocks to freeze, in [0, 1].
   */
  freezeFirstBlocks(fraction: number): FrozenBlocks {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new Error(`freezeFirstBlocks: fraction must be in [0, 1], got ${fraction}`);
    }
    const total = this.transformer.h.length;
    // The epsilon keeps e.g. 0.3 * 10 = 3 (not 2.9999…) from losing a block.
    const unfrozen = Math.floor((1 - fraction) * total + 1e-9);
    const frozen = total - unfrozen;
    this.transformer.h.forEach((block, i) => {
      for (const p of block.parameters()) p.requiresGrad = i >= frozen;
    });
    return { frozen, total };
  }

  /** Writes `config.json` + `model.safetensors` under trlX's names. */
  save(dir: string): Promise<void> {
    return saveGpt2(this, dir, TOKEN_REWARD_ARCHITECTURE);
  }
}

/** Options of {@link loadGpt2TokenRewardModel}. */
export interface LoadTokenRewardModelOptions extends HubOptions {
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /** Seed of a fresh `v_head` (default 0). */
  seed?: number;
  /** Where notices about a fresh head or unused tensors go (default `console.warn`). */
  log?: (message: string) => void;
}

/**
 * Load a GPT-2 per-token reward model from a folder or Hub id: a saved one (with `v_head`), or
 * a GPT-2 causal LM (the SFT model, as trlX starts), whose head then starts fresh. Offline, a Hub
 * id that is not cached fails at once with the hub's message naming it.
 *
 * @example
 * ```ts
 * import { loadGpt2TokenRewardModel } from "@tether/rlhf/reward";
 * // The tiny offline SFT model of the TL;DR examples (the tutorial: runs/tldr_sft-full/model); a
 * // causal LM starts a fresh v_head, which the notice says.
 * const rm = await loadGpt2TokenRewardModel("examples/assets/tiny-tldr/sft", { log: console.log });
 * rm.freezeFirstBlocks(0.7);
 * ```
 *
 * @param idOrPath Folder or Hub id.
 * @param opts Backend, seed, Hub settings.
 */
export async function loadGpt2TokenRewardModel(
  idOrPath: string,
  opts: LoadTokenRewardModelOptions = {},
): Promise<GPT2TokenRewardModel> {
  const files = await openModel(idOrPath, opts);
  const config = await loadConfig(files);
  if (config.model_type !== "gpt2") {
    throw new Error(
      `loadGpt2TokenRewardModel (${idOrPath}): model_type ${
        JSON.stringify(config.model_type)
      } is not "gpt2"`,
    );
  }
  const state = await loadStateDict(files);
  const generator = new Generator(opts.seed ?? 0);
  // The head is drawn where it was when the trunk still drew weights it then overwrote, so a
  // seeded run keeps its head (and its results).
  skipGpt2InitDraws(generator, gpt2Config(config), false);
  const model = new GPT2TokenRewardModel(config, {
    backend: opts.backend,
    generator,
    initWeights: false,
  });
  try {
    const r = loadGpt2Weights(model, state, { optional: ["v_head."] });
    const log = opts.log ?? console.warn;
    if (r.initialized.length) log(`${files.id}: no v_head in the checkpoint; it starts fresh`);
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model.eval();
}
