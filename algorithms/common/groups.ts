/**
 * Statistics over groups of completions of the same prompt, as TRL's critic-free trainers take
 * them (in float64 on the host): NaN-aware means and Bessel-corrected standard deviations
 * (TRL's `nanstd`), groups, and the check that every group has a reward.
 *
 * @module
 */

export { weightedRewards } from "./reward_functions.ts";

/**
 * Mean of the values that are not NaN (NaN when there are none).
 *
 * @param xs Values.
 */
export function nanMean(xs: readonly number[]): number {
  let sum = 0, n = 0;
  for (const x of xs) {
    if (!Number.isNaN(x)) {
      sum += x;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * Standard deviation of the values that are not NaN, with Bessel's correction n/(n − 1)
 * (TRL's `nanstd`); NaN with fewer than two values.
 *
 * @param xs Values.
 */
export function nanStd(xs: readonly number[]): number {
  const m = nanMean(xs);
  let sq = 0, n = 0;
  for (const x of xs) {
    if (!Number.isNaN(x)) {
      sq += (x - m) ** 2;
      n++;
    }
  }
  return n > 1 ? Math.sqrt((sq / n) * (n / (n - 1))) : NaN;
}

/**
 * Consecutive groups of `size` values.
 *
 * @param xs Values (a multiple of `size` of them).
 * @param size Group size.
 */
export function groupsOf<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Throw, naming the prompt, when every completion of a group is unscorable (every reward
 * function returned null for all of them): such a group has no baseline to learn from.
 *
 * @param where Trainer name.
 * @param rewards Weighted rewards, NaN where unscorable.
 * @param numGenerations Group size.
 */
export function checkScorableGroups(
  where: string,
  rewards: readonly number[],
  numGenerations: number,
): void {
  groupsOf(rewards, numGenerations).forEach((group, g) => {
    if (group.every(Number.isNaN)) {
      throw new Error(
        `${where}: every reward function returned null for all ${numGenerations} completions of ` +
          `prompt ${g} (rows ${g * numGenerations}–${(g + 1) * numGenerations - 1}), so the ` +
          `group has no reward to compare against; make at least one function score some ` +
          `completion of each prompt (null is for a sample a function cannot judge)`,
      );
    }
  });
}
