/**
 * How trlX's `make_experience` turns the reward function's output into the scores that enter the
 * per-token rewards (TRLX `trlx/trainer/accelerate_ppo_trainer.py`), one rollout chunk at a time:
 *
 * 1. each sample's score is a number or a list of per-token scores;
 * 2. scores are clipped to ±`cliprange_reward` when it is set (and non-zero);
 * 3. on the first chunk, unless `ref_mean` was configured, `ref_mean` / `ref_std` become the mean
 *    and unbiased std of the per-sample summed scores;
 * 4. the running moments are updated with the per-sample summed scores;
 * 5. `scale_reward: "running"` divides every score by the running std (no mean is subtracted),
 *    `"ref"` divides by `ref_std`, anything else leaves them as they are. `ref_mean` is never used.
 *
 * One deliberate difference: trlX pads uneven per-token score lists with −inf and sums
 * `scores * mask`, which gives NaN sums (and NaN statistics) whenever `cliprange_reward` is
 * unset; here the sums run over the real entries only, which is what trlX gets whenever it clips.
 */

import { TrlxRunningMoments, type TrlxRunningMomentsState } from "./running_moments.ts";

/** How scores are scaled before they enter the rewards. */
export type TrlxScaleReward = "ignored" | "running" | "ref" | null;

/** The `method` fields that govern score processing. */
export interface TrlxScoreSettings {
  /** Clip scores to ±this; 0 or null disables clipping. */
  cliprange_reward: number | null;
  /** `running`, `ref`, or anything else (`ignored`, null) for no scaling. */
  scale_reward: TrlxScaleReward;
  /** Reference mean; when null, taken (with `ref_std`) from the first chunk. */
  ref_mean: number | null;
  /** Reference std; overwritten by the first chunk's unless `ref_mean` is set, as in trlX. */
  ref_std: number | null;
}

/** One sample's score: a number, or a list of per-token scores. */
export type TrlxSampleScore = number | readonly number[];

/** What {@link TrlxScoreScaler.process} returns for one chunk. */
export interface TrlxProcessedScores {
  /** Each sample's clipped and scaled scores (its real entries only). */
  scores: number[][];
  /**
   * `last` when every sample has one score (trlX's `scores.shape[1] == 1`): it goes on the last
   * element of the sample's reward slice. `per_token` otherwise: each list is added from the
   * slice's first element on (a lone number then lands on the FIRST element, as in trlX).
   */
  placement: "last" | "per_token";
  /** `rollout_scores/{mean,std,running_mean,running_std}` of this chunk. */
  stats: Record<string, number>;
}

/** Saved state of a {@link TrlxScoreScaler}. */
export interface TrlxScoreScalerState {
  /** Reference mean (null until the first chunk when not configured). */
  refMean: number | null;
  /** Reference std. */
  refStd: number | null;
  /** Running moments of the summed scores. */
  running: TrlxRunningMomentsState;
}

/** Clips, records and scales rollout scores chunk by chunk, keeping trlX's reference and running statistics. */
export class TrlxScoreScaler {
  /** Reference mean: configured, or the first chunk's (never used for scaling, as in trlX). */
  refMean: number | null;
  /** Reference std: what `scale_reward: "ref"` divides by. */
  refStd: number | null;
  /** Running moments of the per-sample summed scores. */
  readonly running: TrlxRunningMoments = new TrlxRunningMoments();
  readonly #settings: TrlxScoreSettings;

  /**
   * Starts with the configured reference statistics.
   *
   * @param settings `cliprange_reward`, `scale_reward`, `ref_mean` and `ref_std`.
   */
  constructor(settings: TrlxScoreSettings) {
    this.#settings = { ...settings };
    this.refMean = settings.ref_mean ?? null;
    this.refStd = settings.ref_std ?? null;
  }

  /**
   * Processes one rollout chunk's scores, updating the running (and, on the first chunk, the
   * reference) statistics.
   *
   * @param raw One entry per sample, as the reward function returned it.
   */
  process(raw: readonly TrlxSampleScore[]): TrlxProcessedScores {
    if (raw.length === 0) throw new Error("trlX scores: a rollout chunk has no samples");
    const rows = raw.map((score, i) => {
      const row = typeof score === "number" ? [score] : [...score];
      if (row.length === 0) {
        throw new Error(
          `trlX scores: sample ${i} has an empty score list; give at least one number`,
        );
      }
      row.forEach((s, j) => {
        if (typeof s !== "number" || !Number.isFinite(s)) {
          throw new Error(
            `trlX scores: sample ${i}` + (row.length > 1 ? ` token ${j}` : "") +
              ` has score ${s}; scores must be finite numbers`,
          );
        }
      });
      return row;
    });
    const placement = rows.every((r) => r.length === 1) ? "last" : "per_token";

    const clip = this.#settings.cliprange_reward;
    const clipped = clip ? rows.map((r) => r.map((s) => Math.min(Math.max(s, -clip), clip))) : rows;
    const sums = clipped.map((r) => r.reduce((a, b) => a + b, 0));
    if (this.refMean === null) {
      this.refMean = mean(sums);
      this.refStd = unbiasedStd(sums);
    }
    const batch = this.running.update(sums);
    const stats = {
      "rollout_scores/mean": batch.mean,
      "rollout_scores/std": batch.std,
      "rollout_scores/running_mean": this.running.mean,
      "rollout_scores/running_std": this.running.std,
    };

    let divisor = 1;
    if (this.#settings.scale_reward === "running") divisor = this.running.std;
    else if (this.#settings.scale_reward === "ref") {
      if (this.refStd === null) {
        throw new Error(
          'trlX scores: scale_reward is "ref" but ref_std is null while ref_mean is set; set ' +
            "ref_std too, or leave ref_mean null to take both from the first rollout chunk",
        );
      }
      divisor = this.refStd;
    }
    const scores = divisor === 1 ? clipped : clipped.map((r) => r.map((s) => s / divisor));
    return { scores, placement, stats };
  }

  /** State for checkpoints. */
  stateDict(): TrlxScoreScalerState {
    return { refMean: this.refMean, refStd: this.refStd, running: this.running.stateDict() };
  }

  /**
   * Restores `stateDict()` output.
   *
   * @param state A saved state.
   */
  loadStateDict(state: TrlxScoreScalerState): void {
    this.refMean = state.refMean;
    this.refStd = state.refStd;
    this.running.loadStateDict(state.running);
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** torch's `std()` (unbiased; NaN for one value). */
function unbiasedStd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
