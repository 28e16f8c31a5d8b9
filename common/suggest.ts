/**
 * "Did you mean …?" for names a user typed: the closest of the valid names by edit distance.
 *
 * @module
 */

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase(), t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length];
}

/**
 * The valid name closest to `name`, if one is close enough to be a likely typo (at most a third
 * of the longer name's characters differ, and at least one always may).
 *
 * @example
 * ```ts
 * import { closestName } from "./suggest.ts";
 * closestName("init_kl_coeff", ["init_kl_coef", "target"]); // "init_kl_coef"
 * ```
 *
 * @param name What was typed.
 * @param candidates The valid names.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= allowed ? best : undefined;
}
