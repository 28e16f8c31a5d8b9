/**
 * `GPT2ForSequenceClassification`: the GPT-2 trunk with transformers' bias-free `score` head,
 * pooled at each sequence's last real token: the usual shape of a GPT-2 reward model.
 *
 * @module
 */

import { currentBackend, equal, ones, sub, type Tensor } from "../../core/mod.ts";
import { Module } from "../../core/nn/mod.ts";
import { lastTokenScores, ScoreHead } from "../heads.ts";
import { type GPT2Config, gpt2Config } from "./config.ts";
import { GPT2Model, type GPT2ModelOptions, onBackend, type TokenMatrix } from "./model.ts";
import { saveGpt2 } from "./weights.ts";

/** Inputs of a sequence-classification forward pass. */
export interface GPT2ClassifierInput {
  /** Token ids [B, T]. */
  inputIds: TokenMatrix;
  /**
   * [B, T], 1 for real tokens. Scores are read at each row's last 1 (left or right padding
   * both work). Without it, the last token that is not `pad_token_id` is used (transformers'
   * rule), or the final position when the config has no pad token.
   */
  attentionMask?: TokenMatrix;
}

/** What a sequence classifier returns. */
export interface GPT2ClassifierOutput {
  /** [B, numLabels] scores at each row's last real token (the reward when numLabels = 1). */
  logits: Tensor;
}

/** GPT-2 with a sequence-classification `score` head (transformers' names and pooling). */
export class GPT2ForSequenceClassification extends Module {
  /** The trunk. */
  readonly transformer: GPT2Model;
  /** [num_labels, n_embd] bias-free projection. */
  readonly score: ScoreHead;
  /** The checked config (`num_labels` outputs). */
  readonly config: GPT2Config;
  /** Backend of the weights. */
  readonly backend: string;

  /** A freshly initialised classifier (load weights with `loadGpt2ForSequenceClassification`). */
  constructor(
    config: Partial<GPT2Config> | Record<string, unknown>,
    opts: GPT2ModelOptions = {},
  ) {
    super();
    this.config = gpt2Config(config as Record<string, unknown>);
    this.backend = opts.backend ?? currentBackend();
    const o = { backend: this.backend, generator: opts.generator };
    this.transformer = this.registerModule(
      "transformer",
      new GPT2Model(this.config, { ...o, initWeights: opts.initWeights }),
    );
    this.score = this.registerModule(
      "score",
      new ScoreHead(this.config.n_embd, this.config.num_labels, {
        std: this.config.initializer_range,
        ...o,
      }),
    );
  }

  /** Number of outputs of the head. */
  get numLabels(): number {
    return this.config.num_labels;
  }

  /** Scores [B, numLabels] read at each row's last real token. */
  forward(input: GPT2ClassifierInput): GPT2ClassifierOutput {
    const ids = onBackend(input.inputIds, this.backend);
    const mask = input.attentionMask === undefined
      ? undefined
      : onBackend(input.attentionMask, this.backend, "attentionMask");
    const { hidden } = this.transformer.forward({ inputIds: ids, attentionMask: mask });
    const scores = this.score.forward(hidden);
    const pad = this.config.pad_token_id;
    const [b, t] = ids.shape;
    const poolMask = mask ??
      (pad === null ? ones([b, t], { backend: this.backend }) : sub(1, equal(ids, pad)));
    return { logits: lastTokenScores(scores, poolMask) };
  }

  /** Writes `config.json` + `model.safetensors` that transformers loads as this class. */
  save(dir: string): Promise<void> {
    return saveGpt2(this, dir, "GPT2ForSequenceClassification");
  }
}
