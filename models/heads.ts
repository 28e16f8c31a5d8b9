/**
 * Heads that sit on a causal LM's final hidden states: TRL's value head (PPO's critic) and a
 * sequence-classification score head (reward models), with the parameter names their Python
 * counterparts save.
 *
 * @module
 */

import {
  arange,
  argmax,
  expand,
  gather,
  matmul,
  mul,
  randn,
  reshape,
  squeeze,
  type Tensor,
} from "../core/mod.ts";
import { Dropout, Linear, Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";
import { fmtShape } from "../core/shape.ts";

/** Options of `ValueHead`. */
export interface ValueHeadOptions {
  /** Dropout before the projection (TRL's `summary_dropout_prob`, default 0.1), training only. */
  dropout?: number;
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /** Generator for the initial weights and the dropout masks. */
  generator?: Generator;
}

/**
 * TRL's `ValueHead`: dropout then `summary` = Linear(hidden, 1), giving one value per position.
 * Parameters `summary.weight` [1, hidden] and `summary.bias` [1]; registered on a model as
 * `v_head` they save as `v_head.summary.weight` / `v_head.summary.bias`, as TRL does.
 * Initialised as TRL's default (torch's Linear init).
 */
export class ValueHead extends Module {
  /** Dropout before the projection. */
  readonly dropout: Dropout;
  /** The projection to one value. */
  readonly summary: Linear;

  /** Creates the head for hidden states of width `hiddenSize`. */
  constructor(readonly hiddenSize: number, opts: ValueHeadOptions = {}) {
    super();
    this.dropout = this.registerModule("dropout", new Dropout(opts.dropout ?? 0.1, opts.generator));
    this.summary = this.registerModule(
      "summary",
      new Linear(hiddenSize, 1, { backend: opts.backend, generator: opts.generator }),
    );
  }

  /** hidden [B, T, hidden] → values [B, T]. */
  forward(hidden: Tensor): Tensor {
    if (hidden.shape[hidden.rank - 1] !== this.hiddenSize) {
      throw new Error(
        `ValueHead: hidden states ${fmtShape(hidden.shape)} must end in ${this.hiddenSize}`,
      );
    }
    return squeeze(this.summary.forward(this.dropout.forward(hidden)), [hidden.rank - 1]);
  }
}

/** Options of `ScoreHead`. */
export interface ScoreHeadOptions {
  /** Standard deviation of the initial weights (default 0.02, GPT-2's initializer_range). */
  std?: number;
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /** Generator for the initial weights. */
  generator?: Generator;
}

/**
 * Hugging Face's sequence-classification `score` layer: a bias-free projection of each hidden
 * state to `numLabels` scores, `weight` [numLabels, hidden]. Pool with `lastTokenScores`.
 */
export class ScoreHead extends Module {
  /** [numLabels, hiddenSize]. */
  readonly weight: Tensor;

  /** Creates the head, weights N(0, std²) as transformers initialises `score`. */
  constructor(
    readonly hiddenSize: number,
    readonly numLabels: number,
    opts: ScoreHeadOptions = {},
  ) {
    super();
    if (!Number.isInteger(numLabels) || numLabels <= 0) {
      throw new Error(`ScoreHead: numLabels must be a positive integer, got ${numLabels}`);
    }
    this.weight = this.registerParameter(
      "weight",
      randn([numLabels, hiddenSize], {
        std: opts.std ?? 0.02,
        generator: opts.generator,
        backend: opts.backend,
      }),
    );
  }

  /** hidden [B, T, hidden] → scores [B, T, numLabels]. */
  forward(hidden: Tensor): Tensor {
    return matmul(hidden, this.weight, { transB: true });
  }
}

/**
 * The index of the last real token of each row: the last position where `attentionMask` is 1
 * (0 for a row with no real token). For right padding this is transformers' "token before the
 * first pad"; for left padding it is the final position, as newer transformers pick.
 * @param attentionMask [B, T] of 0/1.
 * @returns [B] indices (as f32 values).
 */
export function lastTokenIndex(attentionMask: Tensor): Tensor {
  if (attentionMask.rank !== 2) {
    throw new Error(
      `lastTokenIndex: attentionMask must be [B, T], got ${fmtShape(attentionMask.shape)}`,
    );
  }
  const t = attentionMask.shape[1];
  // Weighting by 1..T makes the last kept position the largest; argmax picks it.
  const ranks = arange(1, t + 1, 1, { backend: attentionMask.backend.name });
  return argmax(mul(attentionMask, ranks), -1);
}

/**
 * Scores at each row's last real token: [B, T, L] and a [B, T] mask → [B, L] (the reward of a
 * reward model with L = 1). Gradients flow to the picked positions.
 */
export function lastTokenScores(scores: Tensor, attentionMask: Tensor): Tensor {
  const [b, t, l] = scores.shape;
  if (scores.rank !== 3 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== t) {
    throw new Error(
      `lastTokenScores: scores must be [B, T, L] with mask [B, T], got ${fmtShape(scores.shape)} ` +
        `and ${fmtShape(attentionMask.shape)}`,
    );
  }
  const idx = expand(reshape(lastTokenIndex(attentionMask), [b, 1, 1]), [b, 1, l]);
  return reshape(gather(scores, idx, 1), [b, l]);
}
