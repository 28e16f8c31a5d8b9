/**
 * The per-token rewards and the KL estimate of trlX's `make_experience` (TRLX
 * `trlx/trainer/accelerate_ppo_trainer.py`), for one rollout chunk, on the host.
 *
 * Layout. `attentionMask` [B][L] is `tokens != pad_token_id` over the sequences the log-probs
 * were computed on, and `logprobs[b][t]` (L − 1 columns) is the log-prob of token t + 1:
 * - causal: tokens = left-padded prompt ++ right-padded response, `start` = prompt width − 1;
 * - seq2seq: tokens = the decoder ids (`[pad] ++ output`, right-padded), `start` = 0.
 *
 * Row b keeps positions [start, ends_b) with `ends_b = start + Σ_{t≥start} mask[b][t] + 1`
 * (cut at L − 1, as a Python slice is). Its rewards are −β·log_ratio there, with the score added
 * on the slice's last element (or a per-token list added from its first). The stored log-probs
 * and values of the row are the same slice.
 *
 * What that slice is, read from trlX and kept as it is. For causal models the sum counts the last
 * prompt token too, so a row keeps two positions beyond its n non-pad response tokens: with
 * pad == eos (GPT-2), where EOS counts as padding, those are the EOS prediction and the prediction
 * of the pad token after it; with a distinct pad token, EOS is among the n and both are pad
 * predictions. For seq2seq the decoder's start token is the pad token, so the sum is n (EOS included)
 * and one pad prediction follows; that start token also masks the first output token's
 * log-ratio to 0. The slice is cut at the sequence end, so only rows shorter than the longest
 * reach the pad predictions, and their score lands on one: a position the loss mask excludes,
 * which still reaches the trained positions through GAE.
 */

import type { TrlxProcessedScores } from "./scores.ts";

/** Inputs of {@link trlxTokenRewards}. */
export interface TrlxTokenRewardInputs {
  /** Policy log-probs [B][L − 1] (entry t is the log-prob of token t + 1). */
  logprobs: readonly ArrayLike<number>[];
  /** Reference log-probs [B][L − 1]. */
  refLogprobs: readonly ArrayLike<number>[];
  /** `tokens != pad_token_id` [B][L] over the same sequences. */
  attentionMask: readonly ArrayLike<number>[];
  /** First kept position: prompt width − 1 (causal) or 0 (seq2seq). */
  start: number;
  /** β, the KL controller's current value. */
  klCoef: number;
  /** Processed scores of the chunk ({@link TrlxScoreScaler.process}). */
  scores: Pick<TrlxProcessedScores, "scores" | "placement">;
}

/** The chunk's rewards and KL statistics. */
export interface TrlxTokenRewards {
  /** Per row, the rewards of positions [start, ends[b]). */
  rewards: number[][];
  /** Per row, the end (exclusive) of its kept positions, already cut at L − 1. */
  ends: number[];
  /**
   * `kl.sum(1).mean()` with the k3 estimator kl = e^r − 1 − r, r = (lp − rp)·mask[:, :-1], over
   * the whole sequence (prompt included): what the KL controller sees (via `policy/sqrt_kl`).
   */
  meanKl: number;
  /** `kl.mean()` over all B·(L − 1) entries. */
  meanKlPerToken: number;
}

/**
 * End (exclusive) of each row's kept positions: `start + Σ_{t≥start} mask[b][t] + 1`, cut at
 * L − 1.
 *
 * @param attentionMask `tokens != pad` [B][L].
 * @param start First kept position.
 */
export function trlxSliceEnds(
  attentionMask: readonly ArrayLike<number>[],
  start: number,
): number[] {
  return attentionMask.map((row) => {
    let n = 0;
    for (let t = start; t < row.length; t++) n += row[t];
    return Math.min(start + n + 1, row.length - 1);
  });
}

/**
 * Row b's positions [start, ends[b]) of a [B][L − 1] matrix (log-probs or values), as trlX stores
 * them in its rollout elements.
 *
 * @param rows The matrix.
 * @param start First kept position.
 * @param ends Per row, the end from {@link trlxSliceEnds}.
 */
export function trlxSliceRows(
  rows: readonly ArrayLike<number>[],
  start: number,
  ends: readonly number[],
): number[][] {
  return rows.map((row, b) => Array.from(row).slice(start, ends[b]));
}

/**
 * trlX's per-token rewards and KL for one chunk (see the module notes for the layout).
 *
 * @param x Log-probs, reference log-probs, the mask, `start`, β and the processed scores.
 */
export function trlxTokenRewards(x: TrlxTokenRewardInputs): TrlxTokenRewards {
  const B = x.attentionMask.length;
  if (x.logprobs.length !== B || x.refLogprobs.length !== B || x.scores.scores.length !== B) {
    throw new Error(
      `trlxTokenRewards: ${B} mask rows, ${x.logprobs.length} log-prob rows, ` +
        `${x.refLogprobs.length} reference rows and ${x.scores.scores.length} scores; they must agree`,
    );
  }
  const ends = trlxSliceEnds(x.attentionMask, x.start);
  let klSum = 0, count = 0;
  const rewards = x.attentionMask.map((mask, b) => {
    const lp = x.logprobs[b], rp = x.refLogprobs[b];
    const T = mask.length - 1;
    if (lp.length !== T || rp.length !== T) {
      throw new Error(
        `trlxTokenRewards: row ${b} has ${mask.length} mask entries, so it needs ${T} log-probs ` +
          `and ${T} reference log-probs, got ${lp.length} and ${rp.length}`,
      );
    }
    const logRatio = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const r = (lp[t] - rp[t]) * mask[t];
      logRatio[t] = r;
      klSum += Math.exp(r) - 1 - r;
    }
    count += T;
    const row: number[] = [];
    for (let t = x.start; t < ends[b]; t++) row.push(-x.klCoef * logRatio[t]);
    addScores(row, x.scores.scores[b], x.scores.placement, b);
    return row;
  });
  return { rewards, ends, meanKl: klSum / B, meanKlPerToken: klSum / count };
}

function addScores(
  row: number[],
  score: readonly number[],
  placement: "last" | "per_token",
  b: number,
): void {
  if (row.length === 0) {
    throw new Error(`trlxTokenRewards: row ${b} keeps no position, so its score has nowhere to go`);
  }
  if (placement === "last") {
    row[row.length - 1] += score[0];
    return;
  }
  if (score.length > row.length) {
    throw new Error(
      `trlxTokenRewards: sample ${b} has ${score.length} per-token scores but only ` +
        `${row.length} response positions`,
    );
  }
  score.forEach((s, t) => row[t] += s);
}

/**
 * Averages per-chunk statistics over a rollout collection as trlX does, and the KL the
 * controller then sees: `mean_kl = (mean over chunks of √meanKl)²`.
 *
 * @param chunks Per chunk, its statistics; each must carry `policy/sqrt_kl` (√meanKl).
 */
export function trlxRolloutStats(
  chunks: readonly Record<string, number>[],
): { stats: Record<string, number>; meanKl: number } {
  if (chunks.length === 0) throw new Error("trlxRolloutStats: no rollout chunks");
  const stats: Record<string, number> = {};
  for (const key of Object.keys(chunks[chunks.length - 1])) {
    stats[key] = chunks.reduce((a, c) => a + c[key], 0) / chunks.length;
  }
  const sqrtKl = stats["policy/sqrt_kl"];
  if (sqrtKl === undefined) throw new Error("trlxRolloutStats: chunks lack policy/sqrt_kl");
  return { stats, meanKl: sqrtKl ** 2 };
}

/**
 * A chunk's KL statistics under trlX's names: `policy/sqrt_kl` = √meanKl and
 * `policy/kl_per_token` = √meanKlPerToken (trlX logs the square root under both names).
 *
 * @param r The chunk's {@link trlxTokenRewards} result.
 */
export function trlxKlStats(
  r: Pick<TrlxTokenRewards, "meanKl" | "meanKlPerToken">,
): Record<string, number> {
  return {
    "policy/sqrt_kl": Math.sqrt(r.meanKl),
    "policy/kl_per_token": Math.sqrt(r.meanKlPerToken),
  };
}
