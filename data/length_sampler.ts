/**
 * TRL's `LengthSampler`, seeded.
 *
 * @module
 */

import { Rng } from "./random.ts";

/**
 * Draws lengths uniformly from `[min, max)` — the upper bound is EXCLUSIVE, as in TRL
 * (`np.random.choice(range(min, max))`): `new LengthSampler(2, 8)` gives 2..7. Unlike TRL,
 * which uses numpy's global generator, each sampler owns a seeded stream.
 *
 * @example
 * ```ts
 * import { LengthSampler } from "@tether/rlhf/data";
 * const queryLength = new LengthSampler(2, 8, { seed: 0 });
 * const n = queryLength.sample(); // 2 <= n <= 7
 * ```
 */
export class LengthSampler {
  /** Smallest length drawn. */
  readonly min: number;
  /** One more than the largest length drawn. */
  readonly max: number;
  readonly #rng: Rng;

  /**
   * Create a sampler.
   *
   * @param min Inclusive lower bound (an integer).
   * @param max Exclusive upper bound (an integer greater than `min`).
   * @param options A seed (default 0) or a generator to draw from.
   */
  constructor(min: number, max: number, options: { seed?: number; rng?: Rng } = {}) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max <= min) {
      throw new RangeError(
        `LengthSampler needs integers with min < max (max is exclusive), got (${min}, ${max})`,
      );
    }
    this.min = min;
    this.max = max;
    this.#rng = options.rng ?? new Rng(options.seed ?? 0);
  }

  /** The possible lengths, `min` to `max - 1`. */
  get values(): number[] {
    return Array.from({ length: this.max - this.min }, (_, i) => this.min + i);
  }

  /** One length in `[min, max)`. */
  sample(): number {
    return this.#rng.intBetween(this.min, this.max);
  }
}
