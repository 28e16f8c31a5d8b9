/**
 * `TokenRewardTrainer`: trains a per-token reward model (trlX's summarization `GPTRewardModel`)
 * on comparison pairs with the span loss of `tokenPairLoss`: chosen and rejected rows of a batch
 * run in one forward (chosen first, as trlX's collator stacks them), each row followed by the EOS
 * when there is room for it, right-padded.
 *
 * @module
 */

import { concat, div, mul, noGrad, reshape, slice, sub, sum, tensor, tidy } from "../core/mod.ts";
import { z } from "zod";
import {
  type TrainerConfigInput,
  TRAINING_ARGS_CONFIG,
  type TrainingArgs,
} from "../algorithms/common/args.ts";
import type { ConfigParser } from "../algorithms/common/config_schema.ts";
import { allRows, checkTokenRow, padRight, type Rows } from "../algorithms/common/batching.ts";
import {
  type MicroBatchResult,
  TrainerBase,
  type TrainerParts,
} from "../algorithms/common/trainer.ts";
import type { TokenRewardModel } from "./gpt2_token_reward_model.ts";
import {
  type PairScoreAt,
  tokenPairCorrect,
  type TokenPairLoss,
  tokenPairLoss,
} from "./token_reward_loss.ts";
import { pairSpan } from "./token_span.ts";

/** One tokenized comparison: the scored tokens of each member (no trailing EOS). */
export interface TokenRewardPair {
  /** Tokens of the preferred text. */
  chosen: number[];
  /** Tokens of the other text. */
  rejected: number[];
}

/** Settings of {@link TokenRewardTrainer}: the shared args plus the reward-model ones. */
export interface TokenRewardConfig extends Partial<TrainingArgs> {
  /**
   * Longest model input in tokens (trlX's `max_length`, 550 in the tutorial); rows must fit, and
   * the EOS is appended only where it still fits (default: no limit).
   */
  maxLength?: number | null;
  /** Where pair scores and accuracy are read (default `span_end`, trlX's). */
  scoreAt?: PairScoreAt;
  /**
   * Leave pairs whose rows are identical (a summary cut off by truncation) out of training and
   * say how many (default true); false keeps them, where they add nothing to the loss.
   */
  dropIdenticalPairs?: boolean;
}

/** What {@link TokenRewardTrainer} accepts: {@link TokenRewardConfig} under any accepted spelling. */
export type TokenRewardConfigInput = TrainerConfigInput<TokenRewardConfig>;

/** Validates {@link TokenRewardConfig}s (the shared training args plus the reward-model fields). */
export const TOKEN_REWARD_CONFIG: ConfigParser<TokenRewardConfig> = TRAINING_ARGS_CONFIG.extend<
  TokenRewardConfig
>("TokenRewardTrainer", {
  maxLength: z.number().int().min(2).nullable().describe("an integer >= 2, or null for no limit")
    .optional(),
  scoreAt: z.enum(["span_end", "last_token"]).describe(`"span_end" or "last_token"`).optional(),
  dropIdenticalPairs: z.boolean().describe("true or false").optional(),
});

/** Model, data and token ids of a {@link TokenRewardTrainer}. */
export interface TokenRewardTrainerParts extends TrainerParts {
  /** The per-token reward model. */
  model: TokenRewardModel;
  /** Training pairs. */
  trainDataset: Rows<TokenRewardPair>;
  /** Pairs for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<TokenRewardPair>;
  /** EOS appended after each row when it fits (default: the tokenizer's; none without one). */
  eosTokenId?: number | null;
  /** Padding id (default: the tokenizer's pad, else EOS, else 0; padding is masked). */
  padTokenId?: number;
  /** Supplies the EOS and pad ids. */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null };
}

/** What {@link TokenRewardTrainer.evaluate} measures. */
export interface TokenRewardEvalMetrics extends Record<string, number> {
  /** Share of pairs with a span whose chosen score is strictly higher. */
  accuracy: number;
  /** Mean span loss per pair (pairs without a span add 0, as in trlX). */
  loss: number;
  /** Mean chosen − rejected score over pairs with a span. */
  margin: number;
  /** Pairs scored. */
  pairs: number;
  /** Pairs whose rows are identical: no span, left out of accuracy and margin. */
  pairs_without_difference: number;
}

/** Scores of one pair. */
export interface TokenPairScores {
  /** Chosen member's score. */
  chosen: number;
  /** Rejected member's score. */
  rejected: number;
  /** Whether the rows differ (identical pairs have the same score on both sides). */
  hasSpan: boolean;
}

/**
 * Trains a per-token reward model with trlX's summarization loss. Training metrics:
 * `train/loss`, `train/accuracy`, `train/margin`, `train/learning_rate`, `train/grad_norm`,
 * `train/epoch`; evaluation: `eval/accuracy`, `eval/loss`, `eval/margin`, `eval/pairs`,
 * `eval/pairs_without_difference`.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "@tether/rlhf/models";
 * import { loadGpt2TokenRewardModel, TokenRewardTrainer } from "@tether/rlhf/reward";
 *
 * // The TL;DR examples' tiny offline SFT model (SYNTHETIC posts) as the starting point; the
 * // tutorial starts from its own SFT run (runs/tldr_sft-full/model).
 * const model = await loadGpt2TokenRewardModel("examples/assets/tiny-tldr/sft");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-tldr/sft");
 * model.freezeFirstBlocks(0.7);
 * const post = "POST: my roommate eats my food every day.\nTL;DR:";
 * const pairs = [{
 *   chosen: tokenizer.encode(post + " roommate keeps eating my food."),
 *   rejected: tokenizer.encode(post + " i like pasta."),
 * }];
 * const trainer = new TokenRewardTrainer({ learning_rate: 1e-4, max_steps: 2, max_length: 160 }, {
 *   model,
 *   trainDataset: pairs, // { chosen: number[], rejected: number[] }
 *   tokenizer,
 * });
 * await trainer.train();
 * console.log(await trainer.evaluate(pairs));
 * ```
 */
export class TokenRewardTrainer extends TrainerBase<TokenRewardPair, TokenRewardModel> {
  /** Reward-model settings, resolved. */
  readonly rewardConfig: { maxLength: number | null; scoreAt: PairScoreAt };
  /** Training pairs left out because their rows are identical. */
  readonly droppedIdenticalPairs: number;
  readonly #eos: number | null;
  readonly #pad: number;

  /**
   * Validate settings and pairs (errors name the pair and member).
   *
   * @param config Training args and reward-model settings.
   * @param parts Model, datasets, token ids, optimizer, scheduler.
   */
  constructor(config: TokenRewardConfigInput, parts: TokenRewardTrainerParts) {
    const { maxLength = null, scoreAt = "span_end", dropIdenticalPairs = true, ...args } =
      TOKEN_REWARD_CONFIG.parse(config);
    const check = (name: string, rows: Rows<TokenRewardPair>) =>
      allRows(rows).forEach((pair, i) => {
        for (const side of ["chosen", "rejected"] as const) {
          const where = `TokenRewardTrainer: ${name} pair ${i} ${side}`;
          checkTokenRow(where, pair?.[side]);
          if (pair[side].length === 0) throw new Error(`${where} is empty`);
          if (maxLength !== null && pair[side].length > maxLength) {
            throw new Error(
              `${where} has ${pair[side].length} tokens, more than maxLength ${maxLength}; ` +
                `truncate when tokenizing (tokenizeTokenRewardPairs does)`,
            );
          }
        }
      });
    check("trainDataset", parts.trainDataset);
    if (parts.evalDataset) check("evalDataset", parts.evalDataset);
    let train = parts.trainDataset;
    let dropped = 0;
    if (dropIdenticalPairs) {
      const kept = allRows(train).filter((p) => !pairSpan(p.chosen, p.rejected).identical);
      dropped = train.length - kept.length;
      if (kept.length === 0) {
        throw new Error(
          `TokenRewardTrainer: all ${train.length} training pairs have identical chosen and ` +
            `rejected tokens (after truncation); nothing to learn from`,
        );
      }
      train = kept;
    }
    super("TokenRewardTrainer", parts.model, args, train, parts.evalDataset, parts, {
      learningRate: 1e-5,
    });
    this.rewardConfig = { maxLength, scoreAt };
    this.droppedIdenticalPairs = dropped;
    this.#eos = parts.eosTokenId !== undefined
      ? parts.eosTokenId
      : parts.tokenizer?.eosTokenId ?? null;
    this.#pad = parts.padTokenId ?? parts.tokenizer?.padTokenId ?? this.#eos ?? 0;
  }

  /** Model input of a row: the row, then EOS when it fits. */
  #input(row: readonly number[]): number[] {
    const max = this.rewardConfig.maxLength;
    return this.#eos !== null && (max === null || row.length < max)
      ? [...row, this.#eos]
      : [...row];
  }

  /** Span loss and scores of a batch, from one forward over chosen then rejected rows. */
  #forward(batch: readonly TokenRewardPair[]): TokenPairLoss {
    const b = batch.length;
    const padded = padRight(
      [...batch.map((p) => this.#input(p.chosen)), ...batch.map((p) => this.#input(p.rejected))],
      this.#pad,
    );
    const backend = this.model.parameters()[0]?.backend.name;
    const shape = [2 * b, padded.length];
    const { rewards } = this.model.forward({
      inputIds: tensor(padded.ids, shape, { backend }),
      attentionMask: tensor(padded.mask, shape, { backend }),
    });
    if (rewards.rank !== 2 || rewards.shape[0] !== 2 * b || rewards.shape[1] !== padded.length) {
      throw new Error(
        `TokenRewardTrainer: the model returned rewards [${rewards.shape}] for input ` +
          `[${shape}]; a per-token reward model returns one reward per position`,
      );
    }
    const t = padded.length;
    return tokenPairLoss(
      slice(rewards, [0, 0], [b, t]),
      slice(rewards, [b, 0], [b, t]),
      batch.map((p) => p.chosen),
      batch.map((p) => p.rejected),
      { scoreAt: this.rewardConfig.scoreAt },
    );
  }

  /** Span loss of one micro-batch with accuracy and margin over its pairs with a span. */
  protected computeLoss(batch: TokenRewardPair[]): MicroBatchResult {
    const r = this.#forward(batch);
    const withSpan = Math.max(1, batch.length - r.identicalPairs);
    const stats = noGrad(() => ({
      accuracy: div(sum(tokenPairCorrect(r)), withSpan),
      margin: div(sum(mul(r.hasSpan, sub(r.chosenScores, r.rejectedScores))), withSpan),
    }));
    return { loss: r.loss, stats };
  }

  /** Scores of every pair and the summed per-pair loss, in eval mode without gradients. */
  async #score(pairs: Rows<TokenRewardPair> | undefined, where: string) {
    if (!pairs || pairs.length === 0) {
      throw new Error(`TokenRewardTrainer.${where}: no pairs (pass some, or an evalDataset)`);
    }
    const rows = allRows(pairs);
    const scores: TokenPairScores[] = [];
    let lossSum = 0;
    const size = this.args.evalBatchSize;
    this.model.eval?.();
    try {
      for (let start = 0; start < rows.length; start += size) {
        const batch = rows.slice(start, start + size);
        const packed = noGrad(() =>
          tidy(() => {
            const r = this.#forward(batch);
            return concat([r.chosenScores, r.rejectedScores, r.hasSpan, reshape(r.loss, [1])]);
          })
        );
        const v = await packed.toArray();
        packed.dispose();
        const b = batch.length;
        for (let i = 0; i < b; i++) {
          scores.push({ chosen: v[i], rejected: v[b + i], hasSpan: v[2 * b + i] === 1 });
        }
        // The batch loss is divided by its pair count; undo that to average over all pairs.
        lossSum += v[3 * b] * b;
      }
    } finally {
      this.model.train?.();
    }
    return { scores, lossSum };
  }

  /**
   * Chosen and rejected scores of each pair, in eval mode without gradients.
   *
   * @param pairs Pairs to score (default: the eval dataset).
   */
  async scorePairs(
    pairs: Rows<TokenRewardPair> | undefined = this.evalRows,
  ): Promise<TokenPairScores[]> {
    return (await this.#score(pairs, "scorePairs")).scores;
  }

  /**
   * Accuracy, loss and margin over `pairs` (identical pairs counted, never divided by).
   *
   * @param pairs Pairs to score (default: the eval dataset).
   */
  async evaluate(
    pairs: Rows<TokenRewardPair> | undefined = this.evalRows,
  ): Promise<TokenRewardEvalMetrics> {
    const { scores, lossSum } = await this.#score(pairs, "evaluate");
    const spanned = scores.filter((s) => s.hasSpan);
    const n = spanned.length;
    return {
      accuracy: n === 0 ? NaN : spanned.filter((s) => s.chosen > s.rejected).length / n,
      loss: lossSum / scores.length,
      margin: n === 0 ? NaN : spanned.reduce((s, p) => s + p.chosen - p.rejected, 0) / n,
      pairs: scores.length,
      pairs_without_difference: scores.length - n,
    };
  }
}
