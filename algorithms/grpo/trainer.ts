/**
 * `GRPOTrainer`: Group Relative Policy Optimization with TRL 1.9's semantics (SPEC D.5):
 * `numGenerations` completions per prompt, advantages relative to the group, the clipped
 * token-level objective with an optional k3 KL term, and TRL's `loss_type` aggregations.
 *
 * @module
 */

import { detach, type Tensor } from "../../core/mod.ts";
import { gatherRows } from "../common/rollout.ts";
import {
  type GroupAdvantages,
  type GroupPolicy,
  type GroupRollout,
  GroupTrainer,
  type GroupTrainerParts,
} from "../common/group_trainer.ts";
import type { MinibatchLoss } from "../common/online_update.ts";
import { grpoAdvantages } from "./advantages.ts";
import { type GRPOConfigInput, type GRPOConfigValues, makeGRPOConfig } from "./config.ts";
import { grpoLoss } from "./loss.ts";

/**
 * GRPO, TRL 1.9's `GRPOTrainer`: each generation round samples `numGenerations` completions
 * for each of `batchSize × stepsPerGeneration / numGenerations` prompts, scores them with the
 * reward functions, takes each completion's reward relative to its group as the advantage, and
 * updates with the clipped objective (plus β·KL to the reference when β ≠ 0; with β = 0 no
 * reference is kept at all).
 *
 * Metrics per round, as TRL logs them: `reward`, `reward_std`, `rewards/<fn>/mean` and `/std`,
 * `frac_reward_zero_std`, `kl` (β ≠ 0), `entropy`, `clip_ratio/low_mean`, `/low_min`,
 * `/high_mean`, `/high_max`, `/region_mean`, `completions/mean_length` (and min, max,
 * clipped ratio, terminated lengths), `loss`, `grad_norm`, `learning_rate`, `num_tokens`.
 *
 * @example
 * ```ts
 * import { GRPOConfig, GRPOTrainer } from "@tether/rlhf/grpo";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 * import { keywordReward } from "@tether/rlhf/reward";
 *
 * const path = "examples/assets/tiny-imdb/policy"; // tiny offline GPT-2
 * const tokenizer = await loadTokenizer(path);
 * const config = new GRPOConfig({
 *   numGenerations: 4,
 *   batchSize: 8,
 *   maxCompletionLength: 8,
 *   maxSteps: 2,
 *   lossType: "dr_grpo",
 * });
 * const trainer = new GRPOTrainer(config, {
 *   model: await loadCausalLM(path), // any causal LM; with LoRA pass `adapters` too
 *   tokenizer,
 *   rewardFuncs: [keywordReward({ brilliant: 1, charming: 1, bland: -1, tedious: -1 })],
 *   trainDataset: [tokenizer.encode("the plot was"), "the acting was"], // token rows or text
 * });
 * const { lastStats } = await trainer.train();
 * console.log(lastStats?.reward, lastStats?.kl); // kl is undefined: β defaults to 0, no reference
 * ```
 */
export class GRPOTrainer<M extends GroupPolicy = GroupPolicy>
  extends GroupTrainer<M, GRPOConfigValues> {
  /**
   * Validate the settings and set up the reference (β ≠ 0), optimizer and schedule.
   *
   * @param config Settings (a `GRPOConfig` or its fields).
   * @param parts Policy, tokenizer, reward functions, prompts, reference.
   */
  constructor(config: GRPOConfigInput | GRPOConfigValues, parts: GroupTrainerParts<M>) {
    super("GRPOTrainer", "grpo", makeGRPOConfig({ ...config }), parts);
  }

  /**
   * TRL keeps sampling-time log-probs only when a round's completions outlive one optimizer
   * step's worth of updates (several iterations, or more micro-batches than one step takes);
   * otherwise the ratio is exactly 1 and the current log-probs, detached, stand in for them.
   */
  protected needsOldLogprobs(): boolean {
    const c = this.config;
    return c.gradientAccumulationSteps % (c.stepsPerGeneration * c.numIterations) !== 0;
  }

  /**
   * Group-relative advantages.
   *
   * @param rollout The scored rollout.
   */
  protected advantages(rollout: GroupRollout): Promise<GroupAdvantages> {
    const c = this.config;
    const out = grpoAdvantages(rollout.perFunction, {
      numGenerations: c.numGenerations,
      weights: this.rewardWeights,
      scaleRewards: c.scaleRewards,
      aggregation: c.multiObjectiveAggregation,
    });
    const zero = out.stdZero.filter(Boolean).length / out.stdZero.length;
    return Promise.resolve({
      advantages: out.advantages,
      metrics: { frac_reward_zero_std: zero },
    });
  }

  /**
   * The clipped token-level loss of a micro-batch.
   *
   * @param rollout The rollout.
   * @param rows Its rows.
   * @param logprobs Current log-probs [b, L − 1].
   * @param advantages Advantages [b].
   */
  protected loss(
    rollout: GroupRollout,
    rows: readonly number[],
    logprobs: Tensor,
    advantages: Tensor,
  ): MinibatchLoss {
    const c = this.config;
    const take = (t: Tensor) => gatherRows(t, rows);
    const out = grpoLoss({
      logprobs,
      oldLogprobs: rollout.oldLogprobs ? take(rollout.oldLogprobs) : detach(logprobs),
      refLogprobs: rollout.refLogprobs ? take(rollout.refLogprobs) : null,
      advantages,
      mask: take(rollout.mask),
    }, {
      epsilonLow: c.epsilon,
      epsilonHigh: c.epsilonHigh,
      beta: c.beta,
      lossType: c.lossType,
      gradientAccumulationSteps: c.gradientAccumulationSteps,
      maxCompletionLength: c.maxCompletionLength,
      numItemsInBatch: rollout.numItems,
    });
    return { loss: out.loss, stats: out.stats };
  }

  /**
   * TRL's clip-ratio metrics (and `kl`) of a micro-batch.
   *
   * @param v Read-back statistics.
   */
  protected microBatchMetrics(v: Record<string, Float32Array>): Record<string, number> {
    const seqs = (x: Float32Array) => Array.from(x).filter((a) => !Number.isNaN(a));
    const low = seqs(v["clip_ratio/low_seq"]), high = seqs(v["clip_ratio/high_seq"]);
    return {
      ...(v.kl ? { kl: v.kl[0] } : {}),
      "clip_ratio/low_mean": v["clip_ratio/low_mean"][0],
      "clip_ratio/low_min": low.length ? Math.min(...low) : NaN,
      "clip_ratio/high_mean": v["clip_ratio/high_mean"][0],
      "clip_ratio/high_max": high.length ? Math.max(...high) : NaN,
      "clip_ratio/region_mean": v["clip_ratio/region_mean"][0],
    };
  }
}
