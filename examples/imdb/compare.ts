/**
 * The end of the tutorial: the original and the tuned policy each continue the same held-out
 * prompts under the same seed, the reward model scores both, and the KL of the tuned samples
 * to the original model is measured, Σ_t log π(y_t) − log π_ref(y_t) over response tokens (the
 * sequence KL estimate PPO's `objective/kl` averages).
 *
 * @module
 */

import { Generator } from "../../core/mod.ts";
import { type Reference, sequenceKl } from "../../algorithms/ppo/mod.ts";
import type { CausalLM } from "../../models/mod.ts";
import { scoreTexts } from "../../reward/mod.ts";
import type { RewardFunction } from "../../reward/mod.ts";
import type { SideBySideRow } from "../common/side_by_side.ts";
import type { ImdbPolicy } from "./models.ts";
import type { SamplingSettings } from "./presets.ts";
import { sampleResponses, sampleText } from "./sampling.ts";

/** What the comparison found. */
export interface HeldOutComparison {
  /** One row per prompt. */
  rows: SideBySideRow[];
  /** Mean reward of the original model's samples. */
  meanBefore: number;
  /** Mean reward of the tuned model's samples. */
  meanAfter: number;
  /** Mean sequence KL of the tuned samples to the original model (nats). */
  meanKl: number;
}

/**
 * Sample the held-out prompts with the original and the tuned policy (same seed, same length),
 * score both and measure the tuned samples' KL to the original.
 *
 * @param policy The trained policy (adapters on).
 * @param reference The original model: the adapters-off policy or the trainer's frozen copy.
 * @param reward Scores texts.
 * @param prompts Held-out query rows.
 * @param settings Sampling settings.
 * @param seed Seed of both samplings.
 */
export async function compareOnHeldOut(
  policy: ImdbPolicy,
  reference: Reference<CausalLM>,
  reward: RewardFunction,
  prompts: readonly (readonly number[])[],
  settings: SamplingSettings,
  seed: number,
): Promise<HeldOutComparison> {
  // The longest length the policy was trained on, so both models write as much as they can.
  const maxNew = settings.responseLength.max - 1;
  const before = await reference.run((m) =>
    sampleResponses(m, prompts, settings, maxNew, new Generator(seed))
  );
  const after = await sampleResponses(policy.model, prompts, settings, maxNew, new Generator(seed));
  const text = (q: readonly number[], r: number[]) => sampleText(policy.tokenizer, q, r);
  const beforeScores = await scoreTexts(reward, prompts.map((q, i) => text(q, before[i])));
  const afterScores = await scoreTexts(reward, prompts.map((q, i) => text(q, after[i])));
  policy.model.eval();
  const kl = await sequenceKl(policy.model, reference, prompts, after, {
    padTokenId: policy.model.padTokenId ?? 0,
    backend: policy.model.backend,
  });
  const decode = (ids: number[]) => policy.tokenizer.decode(ids, { skipSpecialTokens: true });
  const rows = prompts.map((q, i) => ({
    prompt: decode([...q]),
    before: decode(before[i]),
    beforeReward: beforeScores[i],
    after: decode(after[i]),
    afterReward: afterScores[i],
  }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { rows, meanBefore: mean(beforeScores), meanAfter: mean(afterScores), meanKl: mean(kl) };
}
