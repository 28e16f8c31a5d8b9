/**
 * Reward functions share one signature: a batch of texts in, one score per text out (sync or
 * async). Trained reward models and frozen classifiers (`reward/`) are wrapped to the same
 * shape, so best-of-n, PPO, GRPO, RLOO and ReST take any of them. This module has no
 * dependencies, so `reward/` and every algorithm can import it without a cycle.
 *
 * The online trainers (GRPO, RLOO) also pass a second argument, the prompts and completions
 * apart, and accept `null` for a sample a function cannot score (TRL's `None`).
 *
 * @module
 */

/** Scores a batch of texts, one number per text. */
export type RewardFunction = (texts: readonly string[]) => number[] | Promise<number[]>;

/** What an online trainer tells a reward function besides the texts. */
export interface RewardContext {
  /** Prompt text of each sample. */
  prompts: readonly string[];
  /** Completion text of each sample (special tokens dropped). */
  completions: readonly string[];
  /** Prompt token ids of each sample. */
  promptIds: readonly (readonly number[])[];
  /** Completion token ids of each sample (EOS included when it was produced). */
  completionIds: readonly (readonly number[])[];
}

/**
 * A reward function as GRPO and RLOO take it: the texts (prompt + completion, decoded together)
 * and the context; `null` marks a sample it cannot score. Every {@link RewardFunction} is one.
 */
export type OnlineRewardFunction = (
  texts: readonly string[],
  context: RewardContext,
) => readonly (number | null)[] | Promise<readonly (number | null)[]>;

/** A reward function with the name its metrics are logged under (`rewards/<name>/mean`). */
export interface NamedRewardFunction {
  /** Metric name. */
  name: string;
  /** The function. */
  fn: OnlineRewardFunction;
}

/**
 * Calls a reward function and checks it returned one finite score per text.
 *
 * @param fn The reward function.
 * @param texts Texts to score.
 */
export async function scoreTexts(fn: RewardFunction, texts: readonly string[]): Promise<number[]> {
  const scores = await fn(texts);
  checkScores("reward function", scores, texts.length, false);
  return scores;
}

/** Per-function scores of a batch, and their weighted sum. */
export interface ScoredRewards {
  /** `[function][sample]`; NaN where the function returned null. */
  perFunction: number[][];
  /** Σ_f weight_f · score_f over the functions that scored the sample; NaN when none did. */
  total: number[];
}

/**
 * Score a batch with several reward functions and sum them with weights, as TRL's GRPO and
 * RLOO do: a `null` counts as nothing in the sum, and a sample no function scored is NaN.
 *
 * @param funcs Named reward functions.
 * @param weights One weight per function.
 * @param texts Prompt + completion texts.
 * @param context Prompts and completions apart.
 */
export async function scoreWithRewardFunctions(
  funcs: readonly NamedRewardFunction[],
  weights: readonly number[],
  texts: readonly string[],
  context: RewardContext,
): Promise<ScoredRewards> {
  if (weights.length !== funcs.length) {
    throw new Error(
      `reward weights: ${weights.length} weights for ${funcs.length} reward functions; give one ` +
        `weight per function (or none for all 1)`,
    );
  }
  const perFunction: number[][] = [];
  for (const { name, fn } of funcs) {
    const scores = await fn(texts, context);
    checkScores(`reward function '${name}'`, scores, texts.length, true);
    perFunction.push(scores.map((s) => (s === null ? NaN : s)));
  }
  return { perFunction, total: weightedRewards(perFunction, weights) };
}

/**
 * Σ_f weight_f · reward_f of each sample over the functions that scored it (a NaN counts as
 * nothing, as `nansum`), NaN where no function scored it.
 *
 * @param perFunction `[function][sample]`, NaN for a `null`.
 * @param weights One weight per function.
 */
export function weightedRewards(
  perFunction: readonly (readonly number[])[],
  weights: readonly number[],
): number[] {
  const n = perFunction[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => {
    let sum = 0, scored = false;
    perFunction.forEach((scores, f) => {
      if (!Number.isNaN(scores[i])) {
        sum += weights[f] * scores[i];
        scored = true;
      }
    });
    return scored ? sum : NaN;
  });
}

/**
 * Named reward functions from functions or `{ name, fn }` pairs: a function is named by its
 * own name (`reward_<i>` when anonymous); names must be distinct.
 *
 * @param where Trainer name, for messages.
 * @param funcs One function or a list.
 */
export function nameRewardFunctions(
  where: string,
  funcs:
    | OnlineRewardFunction
    | NamedRewardFunction
    | readonly (OnlineRewardFunction | NamedRewardFunction)[],
): NamedRewardFunction[] {
  const list = Array.isArray(funcs) ? funcs : [funcs];
  if (list.length === 0) throw new Error(`${where}: rewardFuncs is empty; pass at least one`);
  const named = list.map((f, i) => {
    if (typeof f === "function") return { name: f.name || `reward_${i}`, fn: f };
    if (f && typeof f === "object" && typeof f.fn === "function" && typeof f.name === "string") {
      return f;
    }
    throw new Error(
      `${where}: rewardFuncs[${i}] must be a function or { name, fn }, got ${typeof f}`,
    );
  });
  const seen = new Set<string>();
  for (const { name } of named) {
    if (seen.has(name)) {
      throw new Error(
        `${where}: two reward functions are named '${name}'; pass { name, fn } to tell them apart`,
      );
    }
    seen.add(name);
  }
  return named;
}

function checkScores(
  what: string,
  scores: unknown,
  n: number,
  allowNull: boolean,
): asserts scores is (number | null)[] {
  if (!Array.isArray(scores) || scores.length !== n) {
    throw new Error(
      `${what} returned ${
        Array.isArray(scores) ? scores.length : typeof scores
      } scores for ${n} texts; it must return one number per text`,
    );
  }
  scores.forEach((s, i) => {
    if (allowNull && s === null) return;
    if (typeof s !== "number" || !Number.isFinite(s)) {
      throw new Error(
        `${what} returned ${s} for text ${i}; scores must be finite numbers` +
          (allowNull ? " (or null for a sample it cannot score)" : ""),
      );
    }
  });
}

/**
 * Length in characters (or words), optionally scaled: a baseline reward for tests and demos.
 *
 * @example
 * ```ts
 * import { lengthReward } from "@tether/rlhf/reward";
 * const words = lengthReward({ unit: "words" });
 * console.log(await words(["two words"])); // [2]
 * ```
 *
 * @param opts Unit and scale.
 */
export function lengthReward(
  opts: { unit?: "chars" | "words"; scale?: number } = {},
): RewardFunction {
  const scale = opts.scale ?? 1;
  // Named, so online trainers log it as `rewards/length/mean`.
  const length: RewardFunction = (texts) =>
    texts.map((t) =>
      scale * (opts.unit === "words" ? t.split(/\s+/).filter(Boolean).length : t.length)
    );
  return length;
}

/**
 * Weighted keyword counts: Σ_k weight_k · occurrences(k), case-insensitive on whole words.
 *
 * @example
 * ```ts
 * import { keywordReward } from "@tether/rlhf/reward";
 * const reward = keywordReward({ great: 1, awful: -1 });
 * console.log(await reward(["a great, great film", "awful"])); // [2, -1]
 * ```
 *
 * @param weights Weight of each keyword.
 */
export function keywordReward(weights: Readonly<Record<string, number>>): RewardFunction {
  const entries = Object.entries(weights).map(([word, w]) => {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return [new RegExp(`\\b${escaped}\\b`, "gi"), w] as const;
  });
  // Named, so online trainers log it as `rewards/keyword/mean`.
  const keyword: RewardFunction = (texts) =>
    texts.map((t) => entries.reduce((s, [re, w]) => s + w * (t.match(re)?.length ?? 0), 0));
  return keyword;
}
