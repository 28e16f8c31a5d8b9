/**
 * Token sampling on the logits' own backend: temperature, top-k and top-p as Hugging Face's
 * `generate` applies them, one seeded uniform draw per row. On WebGPU the whole choice runs on
 * the device, so generation never reads logits back.
 */

import { registerCpuKernel } from "../backends/cpu/register.ts";
import { type SampleAttrs, sampleTokensKernel } from "../backends/cpu/kernels/sample.ts";
import { engine, noGrad, registerGrad } from "../engine.ts";
import { defaultGenerator, Generator } from "../random.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { tensor } from "./create.ts";
import { argmax } from "./reduce.ts";

/** Options of `sampleTokens`. */
export interface SampleOptions {
  /** Divides the logits; 0 means greedy (argmax, the first maximum). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th kept too); 0 disables. Default 0. */
  topK?: number;
  /** Keep the most likely tokens whose probability mass reaches p; 1 disables. Default 1. */
  topP?: number;
  /** Source of the uniform draws (default: a `Generator(seed)` if `seed` is set, else global). */
  generator?: Generator;
  /** Seed for a fresh generator when no `generator` is given. */
  seed?: number;
}

/**
 * Draws one token id per row of `logits` ([..., V] → [...], ids as f32 values) after
 * temperature, top-k and top-p filtering (see core/backends/cpu/kernels/sample.ts for the exact
 * rules). The same generator state gives the same tokens on every backend, up to float rounding
 * at a cumulative-probability boundary. No gradient.
 *
 * @example
 * ```ts
 * import { sampleTokens, tensor } from "@tether/rlhf/core";
 * const logits = tensor([[2, 1, 0.5, -1], [0, 0, 3, 0]]); // [rows, vocab]
 * const next = sampleTokens(logits, { temperature: 0.7, topK: 2, topP: 0.9, seed: 1 });
 * console.log(await next.toArray()); // one token id per row
 * ```
 */
export function sampleTokens(logits: Tensor, opts: SampleOptions = {}): Tensor {
  logits.assertLive("sampleTokens");
  if (logits.rank < 1) throw new Error("sampleTokens: logits must be [..., V], got a scalar");
  const v = logits.shape[logits.rank - 1];
  if (v === 0) throw new Error(`sampleTokens: logits ${fmtShape(logits.shape)} have V = 0`);
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new Error(`sampleTokens: temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new Error(`sampleTokens: topK must be an integer >= 0 (0 disables), got ${topK}`);
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new Error(`sampleTokens: topP must be in (0, 1] (1 disables), got ${topP}`);
  }
  const outShape = logits.shape.slice(0, -1);
  if (temperature === 0) return noGrad(() => argmax(logits, -1));
  const rows = logits.size / v;
  const g = opts.generator ??
    (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator());
  const u = tensor(g.uniform(rows), [rows], { backend: logits.backend.name });
  try {
    const attrs: SampleAttrs = { temperature, topK, topP };
    return noGrad(() =>
      engine.run("sampleTokens", [logits, u], { ...attrs }, { outShapes: [outShape] })[0]
    );
  } finally {
    u.dispose();
  }
}

registerGrad("sampleTokens", () => [null, null]);

registerCpuKernel(
  "sampleTokens",
  ([logits, u], [out], attrs) =>
    sampleTokensKernel(logits, u, out, attrs as unknown as SampleAttrs),
);
