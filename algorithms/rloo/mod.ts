/**
 * RLOO (REINFORCE Leave-One-Out, Ahmadian et al. 2024) with TRL 1.9's semantics:
 * `numGenerations` completions per prompt, each reward less β times the completion's sequence
 * KL to the reference (k1 summed over its tokens, β = 0.05 by default), the mean reward of the
 * other completions of the prompt as the baseline, optional `normalizeAdvantages`, and the
 * clipped objective on each whole completion's probability ratio. Runs on the one online loop
 * (metrics, checkpoints, exact resume, non-finite loss stop).
 *
 * @example
 * ```ts
 * import { RLOOTrainer } from "@tether/rlhf/rloo";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const path = "examples/assets/tiny-imdb/policy";
 * const trainer = new RLOOTrainer(
 *   { numGenerations: 4, batchSize: 8, maxCompletionLength: 8, maxSteps: 2 },
 *   {
 *     model: await loadCausalLM(path),
 *     tokenizer: await loadTokenizer(path),
 *     rewardFuncs: [(texts) => texts.map((t) => t.length / 100)],
 *     trainDataset: ["the movie was", "the acting was"],
 *   },
 * );
 * const { steps, lastStats } = await trainer.train();
 * console.log(steps, lastStats?.reward, lastStats?.kl); // 2, the mean reward, the sequence KL
 * ```
 * @module
 */

export {
  makeRLOOConfig,
  RLOO_CONFIG,
  RLOOConfig,
  type RLOOConfigFields,
  type RLOOConfigInput,
  type RLOOConfigValues,
} from "./config.ts";
export { RLOOTrainer } from "./trainer.ts";
export { type RlooAdvantageOptions, type RlooAdvantages, rlooAdvantages } from "./advantages.ts";
export {
  rlooLoss,
  type RlooLossInputs,
  type RlooLossOutput,
  type RlooLossSettings,
} from "./loss.ts";
export * from "../common/group_api.ts";
// Types the API mentions, so its page resolves them (their own pages are core's and report's).
export type { Generator, GeneratorState, Tensor } from "../../core/mod.ts";
