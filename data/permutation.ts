/**
 * Seeded permutations of [0, n): an explicit Fisher–Yates table for ordinary sizes and a lazy
 * Feistel-network permutation for index spaces too large to hold (e.g. 156 million review pairs).
 *
 * @module
 */

import { Rng } from "./random.ts";

/** A bijection of [0, length) onto itself. */
export interface Permutation {
  /** Size of the permuted range. */
  readonly length: number;
  /** Where position `i` maps to. */
  at(i: number): number;
}

/** Up to this size an explicit table (4 bytes per row) is cheaper than hashing on every access. */
export const EAGER_PERMUTATION_LIMIT = 1 << 24;

function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A balanced Feistel network on 2k bits, restricted to [0, n) by cycle walking: values that land
 * outside the range are permuted again until they fall inside. The domain is at most 4n, so on
 * average fewer than four rounds of walking are needed.
 */
class FeistelPermutation implements Permutation {
  readonly length: number;
  readonly #halfBits: number;
  readonly #half: number;
  readonly #mask: number;
  readonly #keys: number[];

  constructor(n: number, rng: Rng) {
    this.length = n;
    let bits = 2;
    while (2 ** bits < n) bits += 2;
    this.#halfBits = bits / 2;
    this.#half = 2 ** this.#halfBits;
    // Halves stay under 2^27 so round values fit the 32-bit integer operations.
    if (this.#halfBits > 27) throw new RangeError(`permutation size ${n} is too large`);
    this.#mask = this.#half - 1;
    this.#keys = Array.from({ length: 6 }, () => rng.nextUint32());
  }

  #encrypt(x: number): number {
    let left = Math.floor(x / this.#half);
    let right = x % this.#half;
    for (const key of this.#keys) {
      const next = (left ^ (mix32(right ^ key) & this.#mask)) >>> 0;
      left = right;
      right = next;
    }
    return left * this.#half + right;
  }

  at(i: number): number {
    let x = this.#encrypt(i);
    while (x >= this.length) x = this.#encrypt(x);
    return x;
  }
}

class TablePermutation implements Permutation {
  readonly length: number;
  readonly #table: Uint32Array;

  constructor(n: number, rng: Rng) {
    this.length = n;
    this.#table = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.#table[i] = i;
    rng.shuffleInPlace(this.#table);
  }

  at(i: number): number {
    return this.#table[i];
  }
}

/**
 * A seeded permutation of [0, n).
 *
 * @param n Size of the range.
 * @param seed Seed; the same seed and size give the same permutation.
 * @param lazy Force the table-free Feistel permutation (chosen automatically above
 *   {@link EAGER_PERMUTATION_LIMIT}). It is a pseudo-random bijection, not a uniform draw over
 *   all n! orders, which is plenty for visiting training pairs in a scrambled order.
 */
export function seededPermutation(n: number, seed: number, lazy?: boolean): Permutation {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad permutation size ${n}`);
  const rng = new Rng(seed);
  if (lazy ?? n > EAGER_PERMUTATION_LIMIT) return new FeistelPermutation(n, rng);
  return new TablePermutation(n, rng);
}
