/**
 * The f32 `cpu` backend's `sum` over a trailing run of axes (per-row sums) or a leading run
 * (column sums: bias gradients), split across threads; each output still sums its inputs in the
 * reference's order, in f64. Other axis sets take the reference kernel.
 */

import type { Attrs, Backend, KernelTensor } from "../../../backend.ts";
import { data } from "../backend.ts";
import { sumKernel } from "../kernels/reduce.ts";
import { parallelFor } from "./parallel.ts";
import "./range_rows.ts";

const GRAIN = 1 << 16;

/** sum over `attrs.axes`. */
export function fastSum(
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: Attrs,
  _backend: Backend,
): void {
  const axes = attrs.axes as number[];
  const X = data(x), O = data(out);
  const rank = x.shape.length;
  const run = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!(X instanceof Float32Array && O instanceof Float32Array) || !run || axes.length === 0) {
    return sumKernel(x, out, axes);
  }
  const size = (from: number, to: number) => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
  if (axes[axes.length - 1] === rank - 1) {
    const red = size(axes[0], rank), rows = size(0, axes[0]);
    parallelFor("sumRows", [X, O, red], rows, {
      grain: Math.max(1, Math.ceil(GRAIN / Math.max(red, 1))),
      writes: [1],
    });
  } else if (axes[0] === 0) {
    const red = size(0, axes[axes.length - 1] + 1), inner = size(axes[axes.length - 1] + 1, rank);
    parallelFor("sumCols", [X, O, red, inner], inner, {
      grain: Math.max(1, Math.ceil(GRAIN / Math.max(red, 1))),
      writes: [1],
    });
  } else sumKernel(x, out, axes);
}
