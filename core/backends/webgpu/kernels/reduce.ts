/**
 * Reductions over axes (sum, max) and argmax along one axis. Contiguous axis sets reduce in
 * place as (outer, reduced, inner); other axis sets are first copied so the reduced axes come last.
 * Long rows get one workgroup each (a tree reduction); short rows or strided columns get one
 * thread per output. Sequential f32 sums use Kahan compensation to stay near the f64 reference.
 */

import type { Kernel, KernelTensor } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import type { GpuBuffer } from "../pool.ts";
import { buf, contiguousStrides, header, linearEntry, rowEntry } from "./common.ts";
import { stridedCopyInto } from "./layout.ts";

const ROW_WG = 256;
const WG = 256;

interface Plan {
  outer: number;
  red: number;
  inner: number;
}

function plan(shape: readonly number[], axes: readonly number[]): Plan {
  let outer = 1, red = 1, inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) red *= shape[i];
    else if (axes.length && i < axes[0]) outer *= shape[i];
    else inner *= shape[i];
  }
  return { outer, red, inner };
}

/**
 * The input as (buffer, offset) with the reduced axes contiguous; a scratch copy (freed by the
 * caller) when they are not.
 */
function arrange(
  g: WebGPUBackend,
  x: KernelTensor,
  axes: readonly number[],
): { src: GpuBuffer; offset: number; plan: Plan; scratch: GpuBuffer | null } {
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (contiguous) {
    return { src: buf(x), offset: x.offset, plan: plan(x.shape, axes), scratch: null };
  }
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const strides = contiguousStrides(x.shape);
  const scratch = g.scratch(x.size);
  stridedCopyInto(
    g,
    buf(x),
    x.offset,
    perm.map((a) => x.shape[a]),
    perm.map((a) => strides[a]),
    scratch,
  );
  let outer = 1, red = 1;
  for (const a of kept) outer *= x.shape[a];
  for (const a of axes) red *= x.shape[a];
  return { src: scratch, offset: 0, plan: { outer, red, inner: 1 }, scratch };
}

type Combine = "sum" | "max";

const ACC: Record<Combine, { init: string; seq: string; merge: string; kahan: boolean }> = {
  sum: { init: "0.0", seq: "", merge: "a + b", kahan: true },
  max: { init: "negInf()", seq: "", merge: "select(a, b, b > a || isNan(b))", kahan: false },
};

function rowWgsl(kind: Combine): string {
  const c = ACC[kind];
  const seq = c.kahan
    ? `let y = v - comp; let t = acc + y; comp = (t - acc) - y; acc = t;`
    : `let a = acc; let b = v; acc = ${c.merge};`;
  return header(["X"], ["O"]) + `
var<workgroup> part: array<f32, ${ROW_WG}>;
fn merge(a: f32, b: f32) -> f32 { return ${c.merge}; }` + rowEntry(
    ROW_WG,
    `  if (row >= pu(0u)) { return; }
  let red = pu(1u);
  let base = pu(2u) + row * red;
  var acc: f32 = ${c.init};
  var comp: f32 = 0.0;
  for (var r = lid; r < red; r += ${ROW_WG}u) {
    let v = X[base + r];
    ${seq}
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = merge(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { O[row] = part[0]; }`,
  );
}

function columnWgsl(kind: Combine): string {
  const c = ACC[kind];
  const seq = c.kahan
    ? `let y = v - comp; let t = acc + y; comp = (t - acc) - y; acc = t;`
    : `let a = acc; let b = v; acc = ${c.merge};`;
  return header(["X"], ["O"]) + linearEntry(
    WG,
    `  let n = pu(0u) * pu(3u);
  if (gi >= n) { return; }
  let red = pu(1u);
  let inner = pu(3u);
  let o = gi / inner;
  let i = gi % inner;
  var p = pu(2u) + o * red * inner + i;
  var acc: f32 = ${c.init};
  var comp: f32 = 0.0;
  for (var r = 0u; r < red; r++) {
    let v = X[p];
    p += inner;
    ${seq}
  }
  O[gi] = acc;`,
  );
}

function reduceKernel(kind: Combine): Kernel {
  return ([x], [out], attrs, backend) => {
    const g = backend as WebGPUBackend;
    if (out.size === 0) return;
    const axes = attrs.axes as number[];
    const { src, offset, plan: p, scratch } = arrange(g, x, axes);
    const params = new Params().u(p.outer, p.red, offset, p.inner);
    if (p.inner === 1 && p.red > 32) {
      g.dispatch(
        `reduceRow:${kind}`,
        () => rowWgsl(kind),
        [src],
        [buf(out)],
        params,
        g.grid(p.outer, 1),
      );
    } else {
      g.dispatch(
        `reduceColumn:${kind}`,
        () => columnWgsl(kind),
        [src],
        [buf(out)],
        params,
        g.grid(p.outer * p.inner, WG),
      );
    }
    if (scratch) g.free(scratch);
  };
}

/** Sum over `attrs.axes`. */
export const sumKernel: Kernel = reduceKernel("sum");
/** Max over `attrs.axes` (NaN wins). */
export const maxKernel: Kernel = reduceKernel("max");

const argmaxRowWgsl = () =>
  header(["X"], ["O"]) + `
var<workgroup> bestV: array<f32, ${ROW_WG}>;
var<workgroup> bestI: array<u32, ${ROW_WG}>;` + rowEntry(
    ROW_WG,
    `  if (row >= pu(0u)) { return; }
  let red = pu(1u);
  let base = pu(2u) + row * red;
  var bv = negInf();
  var bi = 0xffffffffu;
  for (var r = lid; r < red; r += ${ROW_WG}u) {
    let v = X[base + r];
    if (v > bv) { bv = v; bi = r; }
  }
  bestV[lid] = bv;
  bestI[lid] = bi;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ov = bestV[lid + s];
      let oi = bestI[lid + s];
      if (ov > bestV[lid] || (ov == bestV[lid] && oi < bestI[lid])) {
        bestV[lid] = ov;
        bestI[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { O[row] = select(f32(bestI[0]), 0.0, bestI[0] == 0xffffffffu); }`,
  );

const argmaxColumnWgsl = () =>
  header(["X"], ["O"]) + linearEntry(
    WG,
    `  let inner = pu(3u);
  if (gi >= pu(0u) * inner) { return; }
  let red = pu(1u);
  let o = gi / inner;
  let i = gi % inner;
  let base = pu(2u) + o * red * inner + i;
  var bv = negInf();
  var bi = 0u;
  for (var r = 0u; r < red; r++) {
    let v = X[base + r * inner];
    if (v > bv) { bv = v; bi = r; }
  }
  O[gi] = f32(bi);`,
  );

/** Index of the first maximum along `attrs.axis` (NaN never wins, as on CPU). */
export const argmaxKernel: Kernel = ([x], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  if (out.size === 0) return;
  const p = plan(x.shape, [attrs.axis as number]);
  const params = new Params().u(p.outer, p.red, x.offset, p.inner);
  if (p.inner === 1 && p.red > 256) {
    g.dispatch("argmaxRow", argmaxRowWgsl, [buf(x)], [buf(out)], params, g.grid(p.outer, 1));
  } else {
    g.dispatch(
      "argmaxColumn",
      argmaxColumnWgsl,
      [buf(x)],
      [buf(out)],
      params,
      g.grid(p.outer * p.inner, WG),
    );
  }
};
