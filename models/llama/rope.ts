/**
 * Rotary position embeddings (Su et al. 2021) as Llama applies them: the "rotate half" layout
 * (the first half of each head's dimensions pairs with the second half), inverse frequencies
 * `rope_theta^(−2i/d)`, optionally rescaled (`linear`, or Llama 3.1's `llama3` smoothing of the
 * low frequencies). Cos and sin tables are computed on the host in f64 and looked up by the
 * positions, which follow the attention mask, so left- and right-padded rows agree.
 *
 * @module
 */

import {
  add,
  concat,
  embedding,
  mul,
  neg,
  reshape,
  slice,
  type Tensor,
  tensor,
} from "../../core/mod.ts";
import type { RopeScaling } from "./config.ts";

/**
 * The inverse frequencies of RoPE for one head: `1 / theta^(2i / headDim)` for i < headDim/2,
 * rescaled as `rope_scaling` asks (transformers' `ROPE_INIT_FUNCTIONS`: `default`, `linear`,
 * `llama3`).
 *
 * @param headDim Width of one head (even).
 * @param theta `rope_theta`.
 * @param scaling `rope_scaling`, or null.
 */
export function ropeInverseFrequencies(
  headDim: number,
  theta: number,
  scaling: RopeScaling | null = null,
): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  if (!scaling || scaling.rope_type === "default") return inv;
  if (scaling.rope_type === "linear") return inv.map((f) => f / scaling.factor);
  // llama3: long wavelengths are slowed by `factor`, short ones kept, the band between blended.
  const { factor } = scaling;
  const low = scaling.low_freq_factor!, high = scaling.high_freq_factor!;
  const context = scaling.original_max_position_embeddings!;
  const lowWavelen = context / low, highWavelen = context / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (context / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/**
 * Cos and sin tables of positions 0..length−1 for the given inverse frequencies, each
 * [length, headDim] with the frequencies repeated over both halves (`cat(freqs, freqs)`).
 * Grows on the host as longer sequences arrive; each forward uploads the rows it needs.
 */
export class RotaryTables {
  #cos = new Float32Array(0);
  #sin = new Float32Array(0);
  #rows = 0;

  /** Tables for heads of width `2 · invFreq.length`. */
  constructor(readonly invFreq: Float64Array) {}

  /** Width of one head. */
  get headDim(): number {
    return 2 * this.invFreq.length;
  }

  #grow(rows: number): void {
    if (rows <= this.#rows) return;
    const n = Math.max(rows, 2 * this.#rows, 64);
    const d = this.headDim, half = d / 2;
    const cos = new Float32Array(n * d), sin = new Float32Array(n * d);
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p * this.invFreq[i];
        const c = Math.cos(angle), s = Math.sin(angle);
        cos[p * d + i] = cos[p * d + half + i] = c;
        sin[p * d + i] = sin[p * d + half + i] = s;
      }
    }
    [this.#cos, this.#sin, this.#rows] = [cos, sin, n];
  }

  /**
   * cos and sin [B, 1, T, headDim] at `positions` [B, T] (integers stored as f32, each below
   * `rows`), on the positions' backend.
   */
  lookup(positions: Tensor, rows: number): { cos: Tensor; sin: Tensor } {
    this.#grow(rows);
    const d = this.headDim;
    const backend = positions.backend.name;
    const [b, t] = positions.shape;
    const table = (values: Float32Array) =>
      reshape(
        embedding(tensor(values.subarray(0, rows * d), [rows, d], { backend }), positions),
        [b, 1, t, d],
      );
    return { cos: table(this.#cos), sin: table(this.#sin) };
  }
}

/** x [..., D] with its halves swapped and the (new) first half negated: `cat(−x₂, x₁)`. */
export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1], half = d / 2;
  const lead = x.shape.slice(0, -1);
  const zeros = lead.map(() => 0), all = lead.map(() => -1);
  const x1 = slice(x, [...zeros, 0], [...all, half]);
  const x2 = slice(x, [...zeros, half], [...all, half]);
  return concat([neg(x2), x1], x.rank - 1);
}

/**
 * Rotates queries or keys [B, H, T, D] by their positions: `x·cos + rotateHalf(x)·sin`, with
 * cos and sin [B, 1, T, D] from `RotaryTables.lookup`.
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return add(mul(x, cos), mul(rotateHalf(x), sin));
}
