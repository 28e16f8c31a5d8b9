/**
 * Seeded randomness. Every draw (init, dropout, sampling) comes from a `Generator`, so the same
 * seed gives the same run. The generator is xoshiro128** seeded through splitmix32.
 */

/** A generator's state: the four xoshiro words and the cached second normal draw. */
export interface GeneratorState {
  /** The xoshiro128** words (uint32). */
  s: number[];
  /** The spare Box–Muller draw, if one is cached. */
  spare: number | null;
}

/** A seeded pseudo-random generator. */
export class Generator {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /** Seeds the generator; any 32-bit integer works. */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Re-seeds the generator. */
  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.#spare = null;
  }

  /** The full state (for checkpoints): restoring it with `setState` replays the same draws. */
  getState(): GeneratorState {
    return { s: Array.from(this.#s), spare: this.#spare };
  }

  /** Restores a state returned by `getState`. */
  setState(state: GeneratorState): void {
    const ok = Array.isArray(state?.s) && state.s.length === 4 &&
      state.s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
    if (!ok) {
      throw new Error(
        `Generator.setState: expected { s: four uint32 words }, got ${JSON.stringify(state)}`,
      );
    }
    this.#s.set(state.s);
    this.#spare = state.spare ?? null;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** `n` uniform draws in [low, high). */
  uniform(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  /** `n` normal draws (Box–Muller). */
  normal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.#gauss();
    return out;
  }

  #gauss(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    const u = 1 - this.next(), v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One index drawn with probability proportional to `weights` (non-negative, not all zero). */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      if (!(w >= 0)) throw new Error(`categorical: weight ${i} is ${w}; weights must be >= 0`);
      total += w;
    }
    if (!(total > 0)) throw new Error("categorical: all weights are zero");
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }

  /** A dropout keep-mask scaled by 1/(1-p): entries are 0 or 1/(1-p). */
  dropoutMask(n: number, p: number): Float32Array {
    if (!(p >= 0 && p < 1)) throw new Error(`dropoutMask: p must be in [0, 1), got ${p}`);
    const out = new Float32Array(n);
    const scale = 1 / (1 - p);
    for (let i = 0; i < n; i++) out[i] = this.next() >= p ? scale : 0;
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let global = new Generator(0);

/** The generator used when none is passed. */
export function defaultGenerator(): Generator {
  return global;
}

/** Re-seeds the default generator (like `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  global = new Generator(seed);
}
