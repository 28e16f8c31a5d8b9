/**
 * Softmax and log-softmax along one axis, and their backward kernels. A reduced axis that is
 * the last one gets a workgroup per row (tree reductions); an inner axis gets a thread per
 * column walking the axis with a stride.
 */

import type { Kernel, KernelTensor } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, linearEntry, rowEntry, rowThreads, workgroupReductions } from "./common.ts";

/** (outer, n, inner) loop counts around `axis`. */
export function axisLoops(shape: readonly number[], axis: number) {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape.length ? shape[axis] : 1, inner };
}

/** How a kernel walks one slice along the axis: in a workgroup (row) or in one thread (column). */
export interface AxisWalk {
  /** Entry point and the early return for threads past the end. */
  entry: (body: string) => string;
  /** Declarations needed before the entry point. */
  decls: string;
  /** `for` header visiting j over the slice. */
  loop: string;
  /** Element offset of j within the tensor (before the binding's own offset). */
  at: string;
  /** Combines per-thread partial sums / maxima into the slice's value. */
  sum: (x: string) => string;
  max: (x: string) => string;
}

/** The walk over slices of length n; params: 0 outer, 1 n, 2 inner. */
export function axisWalk(row: boolean, wg: number): AxisWalk {
  if (row) {
    return {
      entry: (body) =>
        rowEntry(
          wg,
          `  if (row >= pu(0u)) { return; }
  let n = pu(1u);
  let base = row * n;
${body}`,
        ),
      decls: workgroupReductions(wg),
      loop: `for (var j = lid; j < n; j += ${wg}u)`,
      at: "base + j",
      sum: (x) => `wgSum(${x}, lid)`,
      max: (x) => `wgMax(${x}, lid)`,
    };
  }
  return {
    entry: (body) =>
      linearEntry(
        wg,
        `  let inner = pu(2u);
  if (gi >= pu(0u) * inner) { return; }
  let n = pu(1u);
  let base = (gi / inner) * n * inner + gi % inner;
${body}`,
      ),
    decls: "",
    loop: "for (var j = 0u; j < n; j++)",
    at: "base + j * inner",
    sum: (x) => x,
    max: (x) => x,
  };
}

type Op = "softmax" | "logSoftmax" | "softmaxGrad" | "logSoftmaxGrad";

function body(op: Op, w: AxisWalk): string {
  const X = (name: string, off: number) => `${name}[pu(${off}u) + ${w.at}]`;
  switch (op) {
    case "softmax":
    case "logSoftmax": {
      const x = X("X", 3);
      const tail = op === "softmax"
        ? `  let r = 1.0 / s;
  ${w.loop} { Y[${w.at}] = exp(${x} - m) * r; }`
        : `  let lse = m + log(s);
  ${w.loop} { Y[${w.at}] = ${x} - lse; }`;
      return `  var mp = negInf();
  ${w.loop} { let v = ${x}; if (v > mp) { mp = v; } }
  let m = ${w.max("mp")};
  var sp = 0.0;
  ${w.loop} { sp += exp(${x} - m); }
  let s = ${w.sum("sp")};
${tail}`;
    }
    case "softmaxGrad": {
      const y = X("X", 3), d = X("D", 4);
      return `  var dp = 0.0;
  ${w.loop} { dp += ${d} * ${y}; }
  let dot = ${w.sum("dp")};
  ${w.loop} { Y[${w.at}] = ${y} * (${d} - dot); }`;
    }
    case "logSoftmaxGrad": {
      const y = X("X", 3), d = X("D", 4);
      return `  var sp = 0.0;
  ${w.loop} { sp += ${d}; }
  let s = ${w.sum("sp")};
  ${w.loop} { Y[${w.at}] = ${d} - exp(${y}) * s; }`;
    }
  }
}

function softmaxFamily(op: Op): Kernel {
  const grad = op.endsWith("Grad");
  return (inputs: readonly KernelTensor[], [out], attrs, backend) => {
    const g = backend as WebGPUBackend;
    if (out.size === 0) return;
    const { outer, n, inner } = axisLoops(inputs[0].shape, attrs.axis as number);
    const row = inner === 1;
    const wg = row ? rowThreads(n) : 64;
    const w = axisWalk(row, wg);
    const wgsl = () => header(grad ? ["X", "D"] : ["X"], ["Y"]) + w.decls + w.entry(body(op, w));
    const p = new Params().u(outer, n, inner, inputs[0].offset, grad ? inputs[1].offset : 0);
    const grid = row ? g.grid(outer, 1) : g.grid(outer * inner, wg);
    g.dispatch(`${op}:${row ? "row" : "col"}${wg}`, wgsl, inputs.map(buf), [buf(out)], p, grid);
  };
}

/** softmax along `attrs.axis`. */
export const softmaxKernel: Kernel = softmaxFamily("softmax");
/** log-softmax along `attrs.axis`. */
export const logSoftmaxKernel: Kernel = softmaxFamily("logSoftmax");
/** dx = y ⊙ (dy − Σ dy·y) from inputs (y, dy). */
export const softmaxGradKernel: Kernel = softmaxFamily("softmaxGrad");
/** dx = dy − exp(y) · Σ dy from inputs (y, dy). */
export const logSoftmaxGradKernel: Kernel = softmaxFamily("logSoftmaxGrad");
