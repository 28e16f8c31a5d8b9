/**
 * `RewardTrainer`: a pairwise (Bradley–Terry) reward model trained with TRL's RewardTrainer
 * semantics (SPEC C): loss −mean log σ(r_c − r_r − margin), plus the optional centring term
 * coefficient · mean (r_c + r_r)²; accuracy with strict > (a tie counts as wrong).
 *
 * @module
 */

import {
  concat,
  greater,
  mean,
  noGrad,
  reshape,
  slice,
  sub,
  type Tensor,
  tensor,
  tidy,
} from "../core/mod.ts";
import type { TrainingArgs } from "../algorithms/common/args.ts";
import { allRows, checkTokenRow, padRight, type Rows } from "../algorithms/common/batching.ts";
import {
  type MicroBatchResult,
  type TrainableModel,
  TrainerBase,
  type TrainerParts,
} from "../algorithms/common/trainer.ts";
import { bradleyTerryLoss } from "./loss.ts";

/**
 * A sequence classifier with one output: the reward of each row, read (as transformers'
 * classifiers do) at the row's last attended token.
 */
export interface ScalarRewardModel extends TrainableModel {
  /** Rewards `logits` [B, 1] of right-padded `inputIds` [B, L] with `attentionMask` [B, L]. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor };
}

/** One tokenized preference pair (TRL's `input_ids_chosen` / `input_ids_rejected` / `margin`). */
export interface RewardPair {
  /** Token ids of the preferred text. */
  chosen: number[];
  /** Token ids of the other text. */
  rejected: number[];
  /** How much r_chosen should exceed r_rejected by; when one pair has it, all must. */
  margin?: number;
}

/** Settings of {@link RewardTrainer}: the shared training args plus the reward-specific ones. */
export interface RewardConfig extends Partial<TrainingArgs> {
  /** Longest allowed pair member in tokens; longer ones are an error (default: no limit). */
  maxLength?: number | null;
  /** Weight of mean (r_c + r_r)², which keeps rewards centred (default off). */
  centerRewardsCoefficient?: number | null;
}

/** Model, data and helpers of a {@link RewardTrainer}. */
export interface RewardTrainerParts extends TrainerParts {
  /** The reward model. */
  model: ScalarRewardModel;
  /** Training pairs. */
  trainDataset: Rows<RewardPair>;
  /** Pairs for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<RewardPair>;
  /** Pad token id (default: the tokenizer's, else its EOS, else 0; padding is masked anyway). */
  padTokenId?: number;
  /** Supplies the pad token id. */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null };
}

/** What {@link RewardTrainer.evaluate} measures, averaged over pairs. */
export interface RewardEvalMetrics extends Record<string, number> {
  /** Fraction of pairs with r_chosen > r_rejected (strict). */
  accuracy: number;
  /** Mean of r_chosen − r_rejected. */
  margin: number;
  /** The training loss (with margins and centring as configured). */
  loss: number;
}

/**
 * Trains a scalar reward model on preference pairs with TRL's RewardTrainer loss. Chosen and
 * rejected rows of a batch run in one forward; training metrics are `train/loss`,
 * `train/accuracy`, `train/margin`, `train/mean_reward` (plus `train/learning_rate`,
 * `train/grad_norm`, `train/epoch`), evaluation ones `eval/loss`, `eval/accuracy`, `eval/margin`.
 *
 * @example
 * ```ts
 * import { RewardTrainer } from "@tether/rlhf/reward";
 * const trainer = new RewardTrainer({ learningRate: 1e-3, batchSize: 16, maxSteps: 200 }, {
 *   model, // forward({ inputIds, attentionMask }) → { logits: [B, 1] }
 *   trainDataset: pairs, // { chosen: number[], rejected: number[] }[]
 * });
 * await trainer.train();
 * console.log(await trainer.evaluate(heldOut)); // { accuracy, margin, loss }
 * ```
 */
export class RewardTrainer extends TrainerBase<RewardPair, ScalarRewardModel> {
  /** Reward-specific settings, resolved. */
  readonly rewardConfig: { maxLength: number | null; centerRewardsCoefficient: number | null };
  readonly #padTokenId: number;

  /**
   * Validate settings and every pair (errors name the pair index and field).
   *
   * @param config Training args and reward settings.
   * @param parts Model, datasets and optional optimizer, scheduler, tokenizer.
   */
  constructor(config: RewardConfig, parts: RewardTrainerParts) {
    const { maxLength = null, centerRewardsCoefficient = null, ...args } = config;
    super("RewardTrainer", parts.model, args, parts.trainDataset, parts.evalDataset, parts, {
      learningRate: 1e-4,
    });
    if (maxLength !== null && !(Number.isInteger(maxLength) && maxLength >= 1)) {
      throw new Error(`RewardTrainer: maxLength must be an integer >= 1 or null, got ${maxLength}`);
    }
    if (centerRewardsCoefficient !== null && !(centerRewardsCoefficient >= 0)) {
      throw new Error(
        `RewardTrainer: centerRewardsCoefficient must be >= 0 or null, got ${centerRewardsCoefficient}`,
      );
    }
    this.rewardConfig = { maxLength, centerRewardsCoefficient };
    this.#padTokenId = parts.padTokenId ?? parts.tokenizer?.padTokenId ??
      parts.tokenizer?.eosTokenId ?? 0;
    this.#checkPairs("trainDataset", parts.trainDataset);
    if (parts.evalDataset) this.#checkPairs("evalDataset", parts.evalDataset);
  }

  #checkPairs(name: string, rows: Rows<RewardPair>): void {
    let withMargin = -1, withoutMargin = -1;
    allRows(rows).forEach((pair, i) => {
      for (const side of ["chosen", "rejected"] as const) {
        const where = `RewardTrainer: ${name} pair ${i} ${side}`;
        checkTokenRow(where, pair?.[side]);
        if (pair[side].length === 0) throw new Error(`${where} is empty`);
        const max = this.rewardConfig.maxLength;
        if (max !== null && pair[side].length > max) {
          throw new Error(
            `${where} has ${pair[side].length} tokens, more than maxLength ${max}; truncate or ` +
              `filter long pairs first, or raise maxLength`,
          );
        }
      }
      if (pair.margin === undefined) withoutMargin = i;
      else if (!Number.isFinite(pair.margin)) {
        throw new Error(`RewardTrainer: ${name} pair ${i} margin is ${pair.margin}`);
      } else withMargin = i;
    });
    if (withMargin >= 0 && withoutMargin >= 0) {
      throw new Error(
        `RewardTrainer: ${name} pair ${withMargin} has a margin but pair ${withoutMargin} does ` +
          `not; give every pair a margin or none`,
      );
    }
  }

  /** Rewards of chosen and rejected rows, [B] each, from one concatenated forward. */
  #rewards(batch: readonly RewardPair[]): { chosen: Tensor; rejected: Tensor } {
    const B = batch.length;
    const padded = padRight(
      [...batch.map((p) => p.chosen), ...batch.map((p) => p.rejected)],
      this.#padTokenId,
    );
    const backend = this.model.parameters()[0]?.backend.name;
    const shape = [2 * B, padded.length];
    const { logits } = this.model.forward({
      inputIds: tensor(padded.ids, shape, { backend }),
      attentionMask: tensor(padded.mask, shape, { backend }),
    });
    if (logits.shape.length !== 2 || logits.shape[0] !== 2 * B || logits.shape[1] !== 1) {
      throw new Error(
        `RewardTrainer: the model returned logits [${logits.shape}] for ${2 * B} rows; a reward ` +
          `model must return [${2 * B}, 1] (one score per row)`,
      );
    }
    const flat = reshape(logits, [2 * B]);
    return { chosen: slice(flat, [0], [B]), rejected: slice(flat, [B], [B]) };
  }

  #loss(batch: readonly RewardPair[], r: { chosen: Tensor; rejected: Tensor }): Tensor {
    const backend = r.chosen.backend.name;
    const margin = batch[0].margin !== undefined
      ? tensor(batch.map((p) => p.margin!), [batch.length], { backend })
      : undefined;
    return bradleyTerryLoss(r.chosen, r.rejected, {
      margin,
      centerRewardsCoefficient: this.rewardConfig.centerRewardsCoefficient ?? undefined,
    });
  }

  /** Bradley–Terry loss of one micro-batch with accuracy, margin and mean reward. */
  protected computeLoss(batch: RewardPair[]): MicroBatchResult {
    const r = this.#rewards(batch);
    const loss = this.#loss(batch, r);
    const stats = noGrad(() => ({
      accuracy: mean(greater(r.chosen, r.rejected)),
      margin: mean(sub(r.chosen, r.rejected)),
      mean_reward: mean(concat([r.chosen, r.rejected])),
    }));
    return { loss, stats };
  }

  /**
   * Accuracy (strict >), mean margin and loss over `pairs`, in eval mode without gradients.
   *
   * @param pairs Pairs to score (default: the eval dataset).
   */
  async evaluate(pairs: Rows<RewardPair> | undefined = this.evalRows): Promise<RewardEvalMetrics> {
    if (!pairs || pairs.length === 0) {
      throw new Error("RewardTrainer.evaluate: no pairs (pass some, or an evalDataset)");
    }
    if (pairs !== this.evalRows) this.#checkPairs("evaluate", pairs);
    const rows = allRows(pairs);
    const size = this.args.evalBatchSize;
    this.model.eval?.();
    let correct = 0, marginSum = 0, lossSum = 0;
    try {
      for (let start = 0; start < rows.length; start += size) {
        const batch = rows.slice(start, start + size);
        const packed = noGrad(() =>
          tidy(() => {
            const r = this.#rewards(batch);
            return concat([
              reshape(this.#loss(batch, r), [1]),
              reshape(mean(greater(r.chosen, r.rejected)), [1]),
              reshape(mean(sub(r.chosen, r.rejected)), [1]),
            ]);
          })
        );
        const [loss, accuracy, margin] = await packed.toArray();
        packed.dispose();
        lossSum += loss * batch.length;
        correct += accuracy * batch.length;
        marginSum += margin * batch.length;
      }
    } finally {
      this.model.train?.();
    }
    const n = rows.length;
    return { accuracy: correct / n, margin: marginSum / n, loss: lossSum / n };
  }
}

/** Text pairs as many preference datasets store them. */
export interface TextPair {
  /** The preferred text. */
  chosen: string;
  /** The other text. */
  rejected: string;
  /** Optional margin, carried over. */
  margin?: number;
}

/**
 * Tokenize text pairs for {@link RewardTrainer}.
 *
 * @param pairs Text pairs.
 * @param tokenizer Any tokenizer with `encode(text) → ids`.
 * @param options `appendEos` adds the EOS id to texts whose ids do not already end with it (TRL
 *   ≥ 1.0 does this for plain-text data); `eosTokenId` when the tokenizer has none.
 */
export function tokenizeRewardPairs(
  pairs: Rows<TextPair>,
  tokenizer: { encode(text: string): number[]; eosTokenId?: number | null },
  options: { appendEos?: boolean; eosTokenId?: number } = {},
): RewardPair[] {
  const eos = options.eosTokenId ?? tokenizer.eosTokenId ?? undefined;
  if (options.appendEos && eos === undefined) {
    throw new Error("tokenizeRewardPairs: appendEos needs an eosTokenId (tokenizer or option)");
  }
  const encode = (text: string) => {
    const ids = tokenizer.encode(text);
    return options.appendEos && ids[ids.length - 1] !== eos ? [...ids, eos!] : ids;
  };
  return allRows(pairs).map((p) => {
    const out: RewardPair = { chosen: encode(p.chosen), rejected: encode(p.rejected) };
    if (p.margin !== undefined) out.margin = p.margin;
    return out;
  });
}
