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
import { z } from "zod";
import {
  type TrainerConfigInput,
  TRAINING_ARGS_CONFIG,
  type TrainingArgs,
} from "../algorithms/common/args.ts";
import type { ConfigParser } from "../algorithms/common/config_schema.ts";
import { allRows, padRight, type Rows } from "../algorithms/common/batching.ts";
import { requireRows, type TextTokenizer } from "../algorithms/common/text_rows.ts";
import {
  type MicroBatchResult,
  type TrainableModel,
  TrainerBase,
  type TrainerParts,
} from "../algorithms/common/trainer.ts";
import { bradleyTerryLoss } from "./loss.ts";
import { type RewardPair, rewardPairs, type RewardRow } from "./data.ts";

/**
 * A sequence classifier with one output: the reward of each row, read (as transformers'
 * classifiers do) at the row's last attended token.
 */
export interface ScalarRewardModel extends TrainableModel {
  /** Rewards `logits` [B, 1] of right-padded `inputIds` [B, L] with `attentionMask` [B, L]. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor };
}

/**
 * Settings of {@link RewardTrainer}: the shared training args plus the reward-specific ones
 * (TRL's `RewardConfig`, camelCased). Every field is also accepted under its snake_case spelling
 * (`max_length`, `center_rewards_coefficient`).
 */
export interface RewardConfig extends Partial<TrainingArgs> {
  /**
   * Longest pair member in tokens; a pair with a longer side is dropped and counted, as TRL
   * filters them (default 1024, TRL's; null: no limit).
   */
  maxLength?: number | null;
  /** Weight of mean (r_c + r_r)², which keeps rewards centred (default off). */
  centerRewardsCoefficient?: number | null;
}

/** What {@link RewardTrainer} accepts: {@link RewardConfig} under any accepted spelling. */
export type RewardConfigInput = TrainerConfigInput<RewardConfig>;

/** Validates {@link RewardConfig}s (the shared training args plus the reward fields). */
export const REWARD_CONFIG: ConfigParser<RewardConfig> = TRAINING_ARGS_CONFIG.extend<RewardConfig>(
  "RewardTrainer",
  {
    maxLength: z.number().int().min(1).nullable().describe("an integer >= 1, or null for no limit")
      .optional(),
    centerRewardsCoefficient: z.number().min(0).nullable().describe("a number >= 0, or null")
      .optional(),
  },
  {
    unsupported: {
      disable_dropout: {
        reason: "dropout follows the model's train()/eval() mode; load the model with dropout 0 " +
          "to train without it",
        accepts: [false],
      },
      eos_token: { reason: "the tokenizer's EOS ends each text", accepts: [null] },
      pad_token: {
        reason: "pass parts.padTokenId or a tokenizer with a pad token",
        accepts: [null],
      },
      chat_template_path: { reason: "the tokenizer's own chat template renders conversations" },
      pad_to_multiple_of: { reason: "batches pad to their longest row", accepts: [null] },
      activation_offloading: { reason: "activations stay in memory", accepts: [false] },
    },
  },
);

/** Model, data and helpers of a {@link RewardTrainer}. */
export interface RewardTrainerParts extends TrainerParts {
  /** The reward model. */
  model: ScalarRewardModel;
  /**
   * Training pairs: token ids, or text rows (`chosen` / `rejected` strings or conversations,
   * optionally after a `prompt`) tokenized with `tokenizer`.
   */
  trainDataset: Rows<RewardRow>;
  /** Pairs for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<RewardRow>;
  /** Pad token id (default: the tokenizer's, else its EOS, else 0; padding is masked anyway). */
  padTokenId?: number;
  /**
   * Supplies the pad token id, and tokenizes text rows (`encode`, `eosTokenId`, and
   * `applyChatTemplate` for conversations).
   */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null } | TextTokenizer;
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
 * import { loadSequenceClassifier, loadTokenizer } from "@tether/rlhf/models";
 * import { RewardTrainer } from "@tether/rlhf/reward";
 *
 * // The examples' tiny offline DistilBERT reward model (SYNTHETIC reviews); any one-label
 * // sequence classifier or Hub id works.
 * const path = "examples/assets/tiny-imdb/reward";
 * const model = await loadSequenceClassifier(path);
 * const tokenizer = await loadTokenizer(path);
 * const pairs = [
 *   { prompt: "the plot was", chosen: " great fun.", rejected: " a mess." },
 *   { chosen: "the acting was superb.", rejected: "the acting was dull." },
 * ];
 * const trainer = new RewardTrainer(
 *   { learning_rate: 1e-3, per_device_train_batch_size: 2, max_steps: 2, max_length: 128 },
 *   { model, trainDataset: pairs, tokenizer },
 * );
 * await trainer.train();
 * console.log(await trainer.evaluate(pairs)); // { accuracy, margin, loss }
 * ```
 */
export class RewardTrainer extends TrainerBase<RewardPair, ScalarRewardModel> {
  /** Reward-specific settings, resolved. */
  readonly rewardConfig: { maxLength: number | null; centerRewardsCoefficient: number | null };
  readonly #padTokenId: number;
  readonly #tokenizer: RewardTrainerParts["tokenizer"];

  /**
   * Validate settings and every pair (errors name the pair index and field).
   *
   * @param config Training args and reward settings.
   * @param parts Model, datasets and optional optimizer, scheduler, tokenizer.
   */
  constructor(config: RewardConfigInput, parts: RewardTrainerParts) {
    const { maxLength = 1024, centerRewardsCoefficient = null, ...args } = REWARD_CONFIG.parse(
      config,
    );
    const prepare = (name: string, rows: Rows<RewardRow>) => {
      const out = rewardPairs("RewardTrainer", name, rows, maxLength, parts.tokenizer);
      return {
        pairs: requireRows(`RewardTrainer: ${name}`, out.pairs, out.report),
        report: out.report,
      };
    };
    const train = prepare("trainDataset", parts.trainDataset);
    const evalSet = parts.evalDataset ? prepare("evalDataset", parts.evalDataset) : undefined;
    super("RewardTrainer", parts.model, args, train.pairs, evalSet?.pairs, parts, {
      learningRate: 1e-4,
    });
    this.recordData([train.report, ...(evalSet ? [evalSet.report] : [])]);
    this.rewardConfig = { maxLength, centerRewardsCoefficient };
    this.#tokenizer = parts.tokenizer;
    this.#padTokenId = parts.padTokenId ?? parts.tokenizer?.padTokenId ??
      parts.tokenizer?.eosTokenId ?? 0;
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
   * @param pairs Pairs as `trainDataset` takes them (default: the eval dataset); pairs longer
   *   than `maxLength` are left out.
   */
  async evaluate(pairs: Rows<RewardRow> | undefined = this.evalRows): Promise<RewardEvalMetrics> {
    const rows: RewardPair[] = pairs === this.evalRows || pairs === undefined
      ? allRows((pairs ?? []) as Rows<RewardPair>)
      : rewardPairs(
        "RewardTrainer.evaluate",
        "pairs",
        pairs,
        this.rewardConfig.maxLength,
        this.#tokenizer,
      ).pairs;
    if (rows.length === 0) {
      throw new Error("RewardTrainer.evaluate: no pairs (pass some, or an evalDataset)");
    }
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
