/**
 * Samples for the side-by-side table: one seeded continuation per held-out prompt, from the
 * original model before training and from the tuned one after, each scored by the reward.
 *
 * @module
 */

import type { GPT2LMHeadModel, Tokenizer } from "../../models/mod.ts";
import type { SideBySideRow } from "../common/side_by_side.ts";
import type { HhSampling } from "./presets.ts";
import type { HhReward } from "./reward.ts";
import { scoreTexts } from "../../reward/functions.ts";

/** Prompts per generation call. */
const GENERATION_BATCH = 16;

/** Completions and their rewards for a set of prompts. */
export interface ScoredSamples {
  /** Completion texts (special tokens dropped). */
  completions: string[];
  /** Their rewards. */
  rewards: number[];
}

/**
 * Sample one completion per prompt in eval mode and score it. The reward reads the decoded
 * prompt + completion tokens together (or the completion alone, as `reward.input` says), so a
 * word-level tokenizer's spacing at the seam comes out right.
 *
 * @param model The policy.
 * @param tokenizer Its tokenizer.
 * @param prompts Prompt token ids.
 * @param sampling Sampling settings.
 * @param reward Scorer.
 * @param seed Seed of the draws (the same for the before and after samples).
 */
export async function scoredSamples(
  model: GPT2LMHeadModel,
  tokenizer: Tokenizer,
  prompts: readonly number[][],
  sampling: HhSampling,
  reward: HhReward,
  seed: number,
): Promise<ScoredSamples> {
  const completions: string[] = [], scored: string[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < prompts.length; start += GENERATION_BATCH) {
      const batch = prompts.slice(start, start + GENERATION_BATCH).map((p) => [...p]);
      const { tokens } = await model.generate(batch, {
        maxNewTokens: sampling.maxNewTokens,
        doSample: true,
        topK: sampling.topK,
        topP: sampling.topP,
        temperature: sampling.temperature,
        seed: seed + start,
      });
      tokens.forEach((t, i) => {
        const completion = tokenizer.decode(t, { skipSpecialTokens: true });
        completions.push(completion);
        scored.push(
          reward.input === "completion"
            ? completion
            : tokenizer.decode([...batch[i], ...t], { skipSpecialTokens: true }),
        );
      });
    }
  } finally {
    if (wasTraining) model.train();
  }
  return { completions, rewards: await scoreTexts(reward.fn, scored) };
}

/**
 * Table rows from the before and after samples of the same prompts.
 *
 * @param prompts Prompt texts.
 * @param before Original model's samples.
 * @param after Tuned model's samples.
 */
export function sideBySideRows(
  prompts: readonly string[],
  before: ScoredSamples,
  after: ScoredSamples,
): SideBySideRow[] {
  return prompts.map((prompt, i) => ({
    prompt,
    before: before.completions[i],
    beforeReward: before.rewards[i],
    after: after.completions[i],
    afterReward: after.rewards[i],
  }));
}

/**
 * Mean of numbers (NaN for none).
 *
 * @param values Numbers.
 */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}
