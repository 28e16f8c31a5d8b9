/**
 * The reward that scores the hh examples' samples: a trained 1-label sequence classifier (the
 * tiny reward model, or any folder / Hub id given with `--reward-model`) over prompt +
 * completion, or, in the full preset without one, a plain-code stand-in that says so.
 *
 * @module
 */

import { loadSequenceClassifier, loadTokenizer } from "../../models/mod.ts";
import { rewardModelFunction } from "../../reward/mod.ts";
import type { RewardFunction } from "../../reward/mod.ts";

/** What scores samples, and how to describe it in the run's output. */
export interface HhReward {
  /** One line for the console and the table's caption. */
  description: string;
  /** Scores texts: prompt + completion, or the completion alone (see `input`). */
  fn: RewardFunction;
  /** `prompt_completion` for a reward model, `completion` for the stand-in (ReST's names). */
  input: "prompt_completion" | "completion";
  /** Frees the reward model, if any. */
  dispose(): void;
}

/** Words a reply is credited for, at most, by the stand-in. */
export const STAND_IN_WORD_CAP = 40;

/**
 * The plain-code stand-in: the reply's distinct words over {@link STAND_IN_WORD_CAP}, capped
 * at 1. It rewards replies that say something without repeating themselves; it is not a model
 * of preferences.
 *
 * @param texts Replies.
 */
export function standInReward(texts: readonly string[]): number[] {
  return texts.map((text) => {
    const words = text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
    return Math.min(new Set(words).size, STAND_IN_WORD_CAP) / STAND_IN_WORD_CAP;
  });
}

/**
 * Load the reward: a classifier folder or Hub id when given, else the stand-in.
 *
 * @param source Reward model folder or Hub id, or null for the stand-in.
 * @param options Backend and texts per forward.
 */
export async function loadHhReward(
  source: string | null,
  options: { backend?: string; batchSize: number },
): Promise<HhReward> {
  if (source === null) {
    return {
      description: `plain-code stand-in: distinct words of the reply / ${STAND_IN_WORD_CAP}, ` +
        "capped at 1 (pass --reward-model for a trained reward model)",
      fn: standInReward,
      input: "completion",
      dispose: () => {},
    };
  }
  const model = await loadSequenceClassifier(source, { backend: options.backend });
  let tokenizer;
  try {
    tokenizer = await loadTokenizer(source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const outputs = model.config.numLabels;
  if (outputs !== 1) {
    model.dispose();
    throw new Error(
      `--reward-model '${source}' has ${outputs} labels; a reward model has exactly one`,
    );
  }
  const fn = rewardModelFunction(model, tokenizer, { batchSize: options.batchSize });
  return {
    description: `reward model ${source} (prompt + completion)`,
    fn,
    input: "prompt_completion",
    dispose: () => model.dispose(),
  };
}
