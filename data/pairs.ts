/**
 * Preference pairs built from labeled data: every chosen row against every rejected row, indexed
 * lazily so IMDB's 12,500 × 12,500 = 156,250,000 pairs cost no memory.
 *
 * Pair `i` is (chosen `floor(i / nRejected)`, rejected `i mod nRejected`). The mapping in the
 * tutorial this replaces divided and took the remainder by the number of CHOSEN rows, which
 * repeats some pairs and never reaches others when the two sides differ in size; this one is a
 * bijection between [0, nChosen · nRejected) and all (chosen, rejected) combinations.
 *
 * @module
 */

import { Dataset } from "./dataset.ts";

/** A chosen/rejected pair. */
export interface Pair<C, R = C> {
  /** The preferred item. */
  chosen: C;
  /** The other item. */
  rejected: R;
}

/**
 * The (chosen, rejected) positions of pair `index`.
 *
 * @param index Pair index in [0, nChosen · nRejected).
 * @param nChosen Number of chosen items.
 * @param nRejected Number of rejected items.
 */
export function pairPositions(
  index: number,
  nChosen: number,
  nRejected: number,
): [chosen: number, rejected: number] {
  if (!Number.isInteger(index) || index < 0 || index >= nChosen * nRejected) {
    throw new RangeError(`pair index ${index} is out of range for ${nChosen} × ${nRejected} pairs`);
  }
  return [Math.floor(index / nRejected), index % nRejected];
}

/**
 * The index of the pair (chosen `c`, rejected `r`): the inverse of {@link pairPositions}.
 *
 * @param chosen Position among the chosen items.
 * @param rejected Position among the rejected items.
 * @param nRejected Number of rejected items.
 */
export function pairIndex(chosen: number, rejected: number, nRejected: number): number {
  return chosen * nRejected + rejected;
}

/**
 * Every (chosen, rejected) combination as a lazily indexed dataset; each combination appears
 * exactly once.
 *
 * @param chosen Preferred items.
 * @param rejected Dispreferred items.
 */
export function allPairs<C, R = C>(
  chosen: readonly C[] | Dataset<C>,
  rejected: readonly R[] | Dataset<R>,
): Dataset<Pair<C, R>> {
  const chosenSet = chosen instanceof Dataset ? chosen : Dataset.from(chosen);
  const rejectedSet = rejected instanceof Dataset ? rejected : Dataset.from(rejected);
  const nChosen = chosenSet.length;
  const nRejected = rejectedSet.length;
  const total = nChosen * nRejected;
  if (!Number.isSafeInteger(total)) {
    throw new RangeError(`${nChosen} × ${nRejected} pairs exceed the safe integer range`);
  }
  return Dataset.fromGetter(total, (index) => {
    const [c, r] = pairPositions(index, nChosen, nRejected);
    return { chosen: chosenSet.get(c), rejected: rejectedSet.get(r) };
  });
}

/** How {@link pairsFromLabeled} splits rows into the two sides. */
export interface LabeledPairOptions<T, V> {
  /** True for rows on the chosen side (e.g. `row.label === 1`). */
  isChosen: (row: T) => boolean;
  /**
   * True for rows on the rejected side; defaults to every row that is not chosen. Rows on
   * neither side are left out.
   */
  isRejected?: (row: T) => boolean;
  /** What each side of a pair holds (default: the row itself). */
  value?: (row: T) => V;
}

/**
 * All chosen × rejected pairs from labeled rows, e.g. every positive IMDB review against every
 * negative one.
 *
 * @example
 * ```ts
 * import { pairsFromLabeled } from "@tether/rlhf/data";
 * const rows = [{ text: "great", label: 1 }, { text: "bad", label: 0 }, { text: "dull", label: 0 }];
 * const pairs = pairsFromLabeled(rows, { isChosen: (r) => r.label === 1, value: (r) => r.text });
 * // pairs.length === 2; pairs.get(1) → { chosen: "great", rejected: "dull" }
 * ```
 *
 * @param rows Labeled rows.
 * @param options Side tests and the value to keep.
 */
export function pairsFromLabeled<T, V = T>(
  rows: Iterable<T>,
  options: LabeledPairOptions<T, V>,
): Dataset<Pair<V>> {
  const { isChosen, isRejected = (row: T) => !isChosen(row) } = options;
  const value = options.value ?? ((row: T) => row as unknown as V);
  const chosen: V[] = [];
  const rejected: V[] = [];
  for (const row of rows) {
    if (isChosen(row)) chosen.push(value(row));
    else if (isRejected(row)) rejected.push(value(row));
  }
  return allPairs(chosen, rejected);
}
