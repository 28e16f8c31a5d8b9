/**
 * The Mersenne Twister MT19937 as numpy's legacy `np.random.seed(s)` / `RandomState` drives it,
 * with legacy `randint(0, n)`: masked rejection sampling on 32-bit draws. It exists so the ROUGE
 * bootstrap draws the same resamples `rouge_score` draws under `evaluate`'s seed.
 *
 * @module
 */

const N = 624;
const M = 397;

/** MT19937 seeded with `init_genrand(seed)`, as `np.random.seed(seed)` does for an integer. */
export class MersenneTwister {
  readonly #mt = new Uint32Array(N);
  #index = N;

  /**
   * Seed the state.
   *
   * @param seed An integer in [0, 2^32).
   */
  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
      throw new Error(`MersenneTwister: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    const mt = this.#mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i mod 2^32, split to stay exact in float64.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  #twist(): void {
    const mt = this.#mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.#index = 0;
  }

  /** The next tempered 32-bit output. */
  nextUint32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#mt[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * numpy's legacy `randint(0, n)` for n <= 2^32: draw 32 bits, keep the low bits under the
   * smallest all-ones mask covering n − 1, reject values above n − 1. Draws nothing when n = 1.
   *
   * @param n Exclusive upper bound.
   */
  randint(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 32)) {
      throw new Error(`MersenneTwister.randint: n must be an integer in [1, 2^32], got ${n}`);
    }
    const max = n - 1;
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }
}
