/**
 * `RLOOTrainer`: REINFORCE Leave-One-Out with TRL 1.9's semantics (SPEC D.4): `numGenerations`
 * completions per prompt, each rewarded less β times its sequence KL to the reference, with the
 * mean reward of the other completions as its baseline, and a clipped sequence-level ratio.
 *
 * @module
 */

import { mul, noGrad, sum, type Tensor, tidy } from "../../core/mod.ts";
import {
  type GroupAdvantages,
  type GroupPolicy,
  type GroupRollout,
  GroupTrainer,
  type GroupTrainerParts,
  readBack,
} from "../common/group_trainer.ts";
import { klPenalty } from "../common/kl.ts";
import type { MinibatchLoss } from "../common/online_update.ts";
import { gatherRows } from "../common/rollout.ts";
import { makeRLOOConfig, type RLOOConfigInput, type RLOOConfigValues } from "./config.ts";
import { rlooAdvantages } from "./advantages.ts";
import { rlooLoss } from "./loss.ts";

/**
 * RLOO, TRL 1.9's `RLOOTrainer`: each generation round samples `numGenerations` completions
 * for each of `batchSize × stepsPerGeneration / numGenerations` prompts, scores them, subtracts
 * β·Σ_t (log π_old − log π_ref) from each reward (β = 0.05 by default), takes the leave-one-out
 * baseline within the group, and updates with the clipped objective on the whole completion's
 * probability ratio.
 *
 * Metrics per round, as TRL logs them: `reward`, `reward_std`, `rewards/<fn>/mean` and `/std`,
 * `frac_reward_zero_std`, `kl` (β ≠ 0, per token), `entropy`, `clip_ratio/low_mean`,
 * `/low_min`, `/high_mean`, `/high_max`, `/region_mean`, `completions/*`, `loss`,
 * `grad_norm`, `learning_rate`, `num_tokens`.
 *
 * @example
 * ```ts
 * import { RLOOConfig, RLOOTrainer } from "@tether/rlhf/rloo";
 * import { applyLora, loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 * import { keywordReward } from "@tether/rlhf/reward";
 *
 * const path = "examples/assets/tiny-imdb/policy"; // tiny offline GPT-2
 * const model = await loadCausalLM(path);
 * const lora = applyLora(model, { r: 4, alpha: 8, targetModules: ["c_attn"] });
 * const trainer = new RLOOTrainer(
 *   new RLOOConfig({ numGenerations: 4, batchSize: 8, maxCompletionLength: 8, maxSteps: 2 }),
 *   {
 *     model, // with LoRA, the adapters-off model is the reference: no second copy
 *     adapters: lora,
 *     tokenizer: await loadTokenizer(path),
 *     rewardFuncs: keywordReward({ brilliant: 1, charming: 1, bland: -1, tedious: -1 }), // texts → scores
 *     trainDataset: ["the movie was", "the acting was"],
 *   },
 * );
 * console.log(trainer.reference?.kind); // adapters
 * await trainer.train();
 * ```
 */
export class RLOOTrainer<M extends GroupPolicy = GroupPolicy>
  extends GroupTrainer<M, RLOOConfigValues> {
  /**
   * Validate the settings and set up the reference (β ≠ 0), optimizer and schedule.
   *
   * @param config Settings (an `RLOOConfig` or its fields).
   * @param parts Policy, tokenizer, reward functions, prompts, reference.
   */
  constructor(config: RLOOConfigInput | RLOOConfigValues, parts: GroupTrainerParts<M>) {
    super("RLOOTrainer", "rloo", makeRLOOConfig({ ...config }), parts);
  }

  /** RLOO always keeps the sampling-time sequence log-probs (its ratio and its KL use them). */
  protected needsOldLogprobs(): boolean {
    return true;
  }

  /**
   * Leave-one-out advantages of KL-penalised rewards (one readback for the KL when β ≠ 0).
   *
   * @param rollout The scored rollout.
   */
  protected async advantages(rollout: GroupRollout): Promise<GroupAdvantages> {
    const c = this.config;
    let sequenceKl: number[] | undefined;
    const metrics: Record<string, number> = {};
    if (c.beta !== 0) {
      const [perRow, total] = noGrad(() =>
        tidy(() => {
          const k = mul(klPenalty(rollout.oldLogprobs!, rollout.refLogprobs!, "k1"), rollout.mask);
          return [sum(k, { axis: 1 }), sum(k)];
        })
      );
      const [rows, all] = await readBack([perRow, total]);
      perRow.dispose();
      total.dispose();
      sequenceKl = Array.from(rows);
      metrics.kl = all[0] / Math.max(rollout.numItems, 1);
    }
    const out = rlooAdvantages(rollout.perFunction, {
      numGenerations: c.numGenerations,
      weights: this.rewardWeights,
      beta: c.beta,
      sequenceKl,
      rewardClipRange: c.rewardClipRange,
      normalizeAdvantages: c.normalizeAdvantages,
    });
    metrics.frac_reward_zero_std = out.stdZero.filter(Boolean).length / out.stdZero.length;
    return { advantages: out.advantages, metrics };
  }

  /**
   * The clipped sequence-level loss of a micro-batch.
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
    const mask = gatherRows(rollout.mask, rows);
    const old = gatherRows(rollout.oldLogprobs!, rows);
    const out = rlooLoss({
      logprobs,
      oldSequenceLogprobs: sum(mul(old, mask), { axis: 1 }),
      advantages,
      mask,
    }, {
      epsilonLow: c.epsilon,
      epsilonHigh: c.epsilonHigh,
      gradientAccumulationSteps: c.gradientAccumulationSteps,
    });
    return { loss: out.loss, stats: out.stats };
  }

  /**
   * TRL's clip-ratio metrics of a micro-batch (over its completions).
   *
   * @param v Read-back statistics.
   */
  protected microBatchMetrics(v: Record<string, Float32Array>): Record<string, number> {
    const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
    return {
      "clip_ratio/low_mean": mean(v["clip_ratio/low"]),
      "clip_ratio/low_min": Math.min(...v["clip_ratio/low"]),
      "clip_ratio/high_mean": mean(v["clip_ratio/high"]),
      "clip_ratio/high_max": Math.max(...v["clip_ratio/high"]),
      "clip_ratio/region_mean": mean(v["clip_ratio/region"]),
    };
  }
}
