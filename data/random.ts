/**
 * A small seeded random number generator for the data module.
 *
 * xoshiro128** is used rather than mulberry32 because its 128-bit state gives a period long
 * enough to shuffle tens of millions of rows without revisiting the stream; its state is seeded
 * through splitmix32 so that nearby seeds (0, 1, 2, ...) still give unrelated streams.
 *
 * @module
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function splitmix32(state: number): [next: number, value: number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return [next, z];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Seeded pseudo-random generator (xoshiro128**). The same seed always gives the same sequence,
 * on every platform.
 *
 * @example
 * ```ts
 * import { Rng } from "@tether/rlhf/data";
 * const rng = new Rng(42);
 * const die = rng.int(6) + 1;
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Create a generator.
   *
   * @param seed Any finite number; non-integers and values beyond 32 bits are folded in, so
   *   every distinct integer seed up to 2^53 gives its own stream.
   */
  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be finite, got ${seed}`);
    const low = Math.floor(seed) >>> 0;
    const high = Math.floor(Math.floor(seed) / TWO_POW_32) >>> 0;
    let state = (low ^ Math.imul(high, 0x27d4eb2d)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, value] = splitmix32(state);
      state = next;
      words.push(value);
    }
    // An all-zero state would stay zero forever.
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    [this.#s0, this.#s1, this.#s2, this.#s3] = words;
  }

  /** The next 32-bit unsigned integer in the stream. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 = (this.#s2 ^ this.#s0) >>> 0;
    this.#s3 = (this.#s3 ^ this.#s1) >>> 0;
    this.#s1 = (this.#s1 ^ this.#s2) >>> 0;
    this.#s0 = (this.#s0 ^ this.#s3) >>> 0;
    this.#s2 = (this.#s2 ^ t) >>> 0;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A float uniform in [0, 1) with 53 bits of resolution. */
  random(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /**
   * A uniform integer in [0, n). Unbiased: draws that would favour small values are rejected.
   *
   * @param n Exclusive upper bound, a positive safe integer.
   */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RangeError(`Rng.int needs a positive safe integer bound, got ${n}`);
    }
    if (n <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return x % n;
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    let x = this.random() * TWO_POW_53;
    while (x >= limit) x = this.random() * TWO_POW_53;
    return x % n;
  }

  /**
   * A uniform integer in [min, max), the same half-open convention as Python's `range`.
   *
   * @param min Inclusive lower bound.
   * @param max Exclusive upper bound; must exceed `min`.
   */
  intBetween(min: number, max: number): number {
    if (!(max > min)) throw new RangeError(`Rng.intBetween needs max > min, got [${min}, ${max})`);
    return min + this.int(max - min);
  }

  /**
   * One element chosen uniformly.
   *
   * @param items A non-empty array.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick needs a non-empty array");
    return items[this.int(items.length)];
  }

  /**
   * True with probability `p`.
   *
   * @param p Probability in [0, 1].
   */
  chance(p: number): boolean {
    return this.random() < p;
  }

  /**
   * Shuffle an array in place (Fisher–Yates) and return it.
   *
   * @param items The array to permute.
   */
  shuffleInPlace<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * A new generator seeded from this one, so a component can own its stream without shifting
   * the draws seen by others.
   */
  fork(): Rng {
    return new Rng(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }
}
