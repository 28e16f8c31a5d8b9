/**
 * The reward that scores the hh examples' samples: a trained 1-label sequence classifier over
 * prompt + completion: the reward model `hh_reward_model.ts` trains (the full presets' default),
 * the tiny reward model, or any folder / Hub id given with `--reward-model`.
 *
 * @module
 */

import { isRepoId } from "../../models/mod.ts";
import { pathExists } from "../../models/io/atomic.ts";
import { type RewardFunction, rewardModelFunction } from "../../reward/mod.ts";
import { loadRewardClassifier } from "./reward_model.ts";

/** What scores samples, and how to describe it in the run's output. */
export interface HhReward {
  /** One line for the console and the table's caption. */
  description: string;
  /** Scores texts: prompt + completion, or the completion alone (see `input`). */
  fn: RewardFunction;
  /** What the reward reads: `prompt_completion` (ReST's names). */
  input: "prompt_completion" | "completion";
  /** Frees the reward model. */
  dispose(): void;
}

/**
 * Load the reward model. A local folder that does not exist fails saying how to make it.
 *
 * @param source Reward model folder or Hub id.
 * @param options Backend and texts per forward.
 */
export async function loadHhReward(
  source: string,
  options: { backend?: string; batchSize: number },
): Promise<HhReward> {
  if (!isRepoId(source) && !(await pathExists(source))) {
    throw new Error(
      `reward model '${source}' does not exist; train it first with ` +
        "`deno run -A examples/hh_reward_model.ts` (its model/ folder), or pass --reward-model",
    );
  }
  const { model, tokenizer } = await loadRewardClassifier(source, { backend: options.backend });
  const fn = rewardModelFunction(model, tokenizer, { batchSize: options.batchSize });
  return {
    description: `reward model ${source} (prompt + completion)`,
    fn,
    input: "prompt_completion",
    dispose: () => model.dispose(),
  };
}
