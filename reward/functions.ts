/**
 * Reward functions share one signature: a batch of texts in, one score per text out (sync or
 * async). Trained reward models and frozen classifiers are wrapped to the same shape, so
 * best-of-n, PPO and ReST take any of them.
 */

/** Scores a batch of texts, one number per text. */
export type RewardFunction = (texts: readonly string[]) => number[] | Promise<number[]>;

/** Calls a reward function and checks it returned one finite score per text. */
export async function scoreTexts(fn: RewardFunction, texts: readonly string[]): Promise<number[]> {
  const scores = await fn(texts);
  if (!Array.isArray(scores) || scores.length !== texts.length) {
    throw new Error(
      `reward function returned ${
        Array.isArray(scores) ? scores.length : typeof scores
      } scores for ${texts.length} texts; it must return one number per text`,
    );
  }
  scores.forEach((s, i) => {
    if (typeof s !== "number" || !Number.isFinite(s)) {
      throw new Error(`reward function returned ${s} for text ${i}; scores must be finite numbers`);
    }
  });
  return scores;
}

/** Length in characters (or words), optionally scaled: a baseline reward for tests and demos. */
export function lengthReward(
  opts: { unit?: "chars" | "words"; scale?: number } = {},
): RewardFunction {
  const scale = opts.scale ?? 1;
  return (texts) =>
    texts.map((t) =>
      scale * (opts.unit === "words" ? t.split(/\s+/).filter(Boolean).length : t.length)
    );
}

/** Weighted keyword counts: Σ_k weight_k · occurrences(k), case-insensitive on whole words. */
export function keywordReward(weights: Readonly<Record<string, number>>): RewardFunction {
  const entries = Object.entries(weights).map(([word, w]) => {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return [new RegExp(`\\b${escaped}\\b`, "gi"), w] as const;
  });
  return (texts) =>
    texts.map((t) => entries.reduce((s, [re, w]) => s + w * (t.match(re)?.length ?? 0), 0));
}
