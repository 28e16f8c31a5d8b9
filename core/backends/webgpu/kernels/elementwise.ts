/**
 * Elementwise WGSL kernels: unary maps, binary ops with NumPy broadcasting, `where`, `clamp`
 * and the gradient kernels the CPU backend also has (geluGrad, geluTanhGrad, clampGrad).
 * Each scalar function matches the CPU reference's semantics (NaN rules included), computed in
 * f32 with forms that stay accurate where the textbook ones cancel.
 */

import type { Kernel, KernelTensor } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import {
  broadcastStrides,
  buf,
  checkRank,
  header,
  linearEntry,
  MAX_RANK,
  stridedOffset,
} from "./common.ts";

/** WGSL scalar helpers the element functions call. */
export const MATH = `
fn log1pF(y: f32) -> f32 {
  let u = 1.0 + y;
  if (u == 1.0) { return y; }
  return log(u) * (y / (u - 1.0));
}
fn tanhF(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.125) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.33333333333 + x2 * (0.13333333333 + x2 * -0.05396825397)));
  }
  let t = exp(-2.0 * a);
  let r = (1.0 - t) / (1.0 + t);
  return select(r, -r, x < 0.0);
}
fn sigmoidF(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn logSigmoidF(x: f32) -> f32 {
  if (x >= 0.0) { return -log1pF(exp(-x)); }
  return x - log1pF(exp(x));
}
// erfc for z >= 0 with fractional error below 1.2e-7 (Chebyshev fit), so the exact GELU keeps its
// relative accuracy deep in the negative tail where 1 + erf(x) is tiny.
fn erfcPos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}
fn normalCdf(x: f32) -> f32 {
  let c = erfcPos(abs(x) * 0.70710678118654752);
  return select(0.5 * c, 1.0 - 0.5 * c, x >= 0.0);
}
fn geluF(x: f32) -> f32 { return x * normalCdf(x); }
fn geluGradF(x: f32) -> f32 {
  return normalCdf(x) + x * exp(-0.5 * x * x) * 0.39894228040143268;
}
const SQRT_2_OVER_PI: f32 = 0.79788456080286536;
// 0.5·(1 + tanh(u)) = sigmoid(2u): no cancellation for large negative x.
fn geluTanhF(x: f32) -> f32 {
  let u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  return x * sigmoidF(2.0 * u);
}
fn geluTanhGradF(x: f32) -> f32 {
  let u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  let s = sigmoidF(2.0 * u);
  let dInner = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x);
  return s + 2.0 * x * s * (1.0 - s) * dInner;
}
fn logF(x: f32) -> f32 {
  if (x < 0.0) { return nanF(); }
  if (x == 0.0) { return negInf(); }
  return log(x);
}
fn sqrtF(x: f32) -> f32 {
  if (x < 0.0) { return nanF(); }
  return sqrt(x);
}
// JavaScript's Math.pow semantics; WGSL's pow is undefined for negative bases.
fn powF(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isNan(a) || isNan(b)) { return nanF(); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  if (b == -1.0) { return 1.0 / a; }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) {
    r = select(posInf(), 0.0, b > 0.0);
  } else if (b == 0.5) {
    r = sqrt(m);
  } else {
    r = exp2(b * log2(m));
  }
  if (a < 0.0 || (a == 0.0 && (bitcast<u32>(a) >> 31u) == 1u)) {
    if (floor(b) != b) { return select(nanF(), r, a == 0.0); }
    let half = b * 0.5;
    if (floor(half) != half && !isInf(b)) { r = -r; }
  }
  return r;
}
`;

/** WGSL expression of each unary op in terms of `x`. */
export const UNARY: Record<string, string> = {
  neg: "-x",
  exp: "exp(x)",
  log: "logF(x)",
  sqrt: "sqrtF(x)",
  // 1/sqrt rather than inverseSqrt: correctly signed at -0 and as accurate as the CPU's.
  rsqrt: "1.0 / sqrtF(x)",
  tanh: "tanhF(x)",
  sigmoid: "sigmoidF(x)",
  logSigmoid: "logSigmoidF(x)",
  relu: "select(0.0, x, x > 0.0)",
  gelu: "geluF(x)",
  geluTanh: "geluTanhF(x)",
  abs: "abs(x)",
  sign: "select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0)",
};

/** WGSL expression of each binary op in terms of `a` and `b`. */
export const BINARY: Record<string, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "powF(a, b)",
  maximum: "select(b, a, a >= b || isNan(a))",
  minimum: "select(b, a, a <= b || isNan(a))",
  greater: "select(0.0, 1.0, a > b)",
  greaterEqual: "select(0.0, 1.0, a >= b)",
  less: "select(0.0, 1.0, a < b)",
  lessEqual: "select(0.0, 1.0, a <= b)",
  equal: "select(0.0, 1.0, a == b)",
  // Gradient kernels take (x, dy).
  geluGrad: "b * geluGradF(a)",
  geluTanhGrad: "b * geluTanhGradF(a)",
};

const WG = 256;

function gpu(backend: unknown): WebGPUBackend {
  return backend as WebGPUBackend;
}

/** out = f(x) for a unary op named in UNARY. */
export function unaryKernel(op: string): Kernel {
  const expr = UNARY[op];
  const wgsl = () =>
    header(["X"], ["O"]) + MATH + linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }
  let x = X[gi + pu(1u)];
  O[gi] = ${expr};`,
    );
  return ([x], [out], _attrs, backend) => {
    const b = gpu(backend);
    b.dispatch(
      `unary:${op}`,
      wgsl,
      [buf(x)],
      [buf(out)],
      new Params().u(out.size, x.offset),
      b.grid(out.size, WG),
    );
  };
}

/** True when `small` (leading ones dropped) is a suffix of `big`. */
function isSuffix(small: readonly number[], big: readonly number[]): boolean {
  const trimmed = [...small];
  while (trimmed.length && trimmed[0] === 1) trimmed.shift();
  if (trimmed.length > big.length) return false;
  for (let i = 0; i < trimmed.length; i++) {
    if (trimmed[trimmed.length - 1 - i] !== big[big.length - 1 - i]) return false;
  }
  return true;
}

type BinaryMode = "same" | "scalarB" | "scalarA" | "suffixB" | "general";

function binaryMode(a: KernelTensor, b: KernelTensor, out: KernelTensor): BinaryMode {
  const n = out.size;
  if (a.size === n && b.size === n) return "same";
  if (a.size === n && b.size === 1) return "scalarB";
  if (b.size === n && a.size === 1) return "scalarA";
  if (a.size === n && isSuffix(b.shape, out.shape)) return "suffixB";
  return "general";
}

// Parameter words: 0 n, 1 offA, 2 offB, 3 bSize (suffixB) | rank (general), 4.. shape, sa, sb.
const SHAPE_AT = 4, SA_AT = SHAPE_AT + MAX_RANK, SB_AT = SA_AT + MAX_RANK;

function binaryIndex(mode: BinaryMode): string {
  switch (mode) {
    case "same":
      return "let ia = gi; let ib = gi;";
    case "scalarB":
      return "let ia = gi; let ib = 0u;";
    case "scalarA":
      return "let ia = 0u; let ib = gi;";
    case "suffixB":
      return "let ia = gi; let ib = gi % pu(3u);";
    case "general":
      return "let ia = offA(gi); let ib = offB(gi);";
  }
}

/** out = f(a, b) with broadcasting, for an op named in BINARY. */
export function binaryKernel(op: string): Kernel {
  const expr = BINARY[op];
  const wgsl = (mode: BinaryMode) => () =>
    header(["A", "B"], ["O"]) + MATH +
    (mode === "general"
      ? stridedOffset("offA", 3, SHAPE_AT, SA_AT) + stridedOffset("offB", 3, SHAPE_AT, SB_AT)
      : "") +
    linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }
  ${binaryIndex(mode)}
  let a = A[ia + pu(1u)];
  let b = B[ib + pu(2u)];
  O[gi] = ${expr};`,
    );
  const sources = new Map<BinaryMode, () => string>();
  return ([a, b], [out], _attrs, backend) => {
    const g = gpu(backend);
    const mode = binaryMode(a, b, out);
    let src = sources.get(mode);
    if (!src) sources.set(mode, src = wgsl(mode));
    const p = new Params().u(out.size, a.offset, b.offset);
    if (mode === "suffixB") p.u(b.size);
    if (mode === "general") {
      checkRank(op, out.shape);
      p.u(out.shape.length)
        .padded(out.shape, MAX_RANK, 1)
        .padded(broadcastStrides(a.shape, out.shape), MAX_RANK)
        .padded(broadcastStrides(b.shape, out.shape), MAX_RANK);
    }
    g.dispatch(`binary:${op}:${mode}`, src, [buf(a), buf(b)], [buf(out)], p, g.grid(out.size, WG));
  };
}

// where: 0 n, 1..3 offsets, 4 rank, 5.. shape, sc, sa, sb.
const W_SHAPE = 5, W_SC = W_SHAPE + MAX_RANK, W_SA = W_SC + MAX_RANK, W_SB = W_SA + MAX_RANK;

/** out = cond != 0 ? a : b, all three broadcast to out. */
export const whereKernel: Kernel = ([c, a, b], [out], _attrs, backend) => {
  const g = gpu(backend);
  const same = c.size === out.size && a.size === out.size && b.size === out.size;
  const wgsl = () =>
    header(["C", "A", "B"], ["O"]) +
    (same ? "" : stridedOffset("offC", 4, W_SHAPE, W_SC) +
      stridedOffset("offA", 4, W_SHAPE, W_SA) + stridedOffset("offB", 4, W_SHAPE, W_SB)) +
    linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }
  ${
        same ? "let ic = gi; let ia = gi; let ib = gi;" : "let ic = offC(gi); let ia = offA(gi); " +
          "let ib = offB(gi);"
      }
  O[gi] = select(B[ib + pu(3u)], A[ia + pu(2u)], C[ic + pu(1u)] != 0.0);`,
    );
  const p = new Params().u(out.size, c.offset, a.offset, b.offset);
  if (!same) {
    checkRank("where", out.shape);
    p.u(out.shape.length)
      .padded(out.shape, MAX_RANK, 1)
      .padded(broadcastStrides(c.shape, out.shape), MAX_RANK)
      .padded(broadcastStrides(a.shape, out.shape), MAX_RANK)
      .padded(broadcastStrides(b.shape, out.shape), MAX_RANK);
  }
  g.dispatch(
    `where:${same ? "same" : "general"}`,
    wgsl,
    [buf(c), buf(a), buf(b)],
    [buf(out)],
    p,
    g.grid(out.size, WG),
  );
};

const clampBounds = `
  let lo = select(pf(2u), negInf(), isNan(pf(2u)));
  let hi = select(pf(3u), posInf(), isNan(pf(3u)));`;

/** Clamps into [min, max]; NaN bounds mean open on that side. */
export const clampKernel: Kernel = ([x], [out], attrs, backend) => {
  const g = gpu(backend);
  const wgsl = () =>
    header(["X"], ["O"]) + linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }${clampBounds}
  let v = X[gi + pu(1u)];
  O[gi] = select(select(v, hi, v > hi), lo, v < lo);`,
    );
  const p = new Params().u(out.size, x.offset).f(attrs.min as number, attrs.max as number);
  g.dispatch("clamp", wgsl, [buf(x)], [buf(out)], p, g.grid(out.size, WG));
};

/** dx = dy where lo <= x <= hi, else 0. */
export const clampGradKernel: Kernel = ([x, dy], [out], attrs, backend) => {
  const g = gpu(backend);
  const wgsl = () =>
    header(["X", "D"], ["O"]) + linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }${clampBounds}
  let v = X[gi + pu(1u)];
  O[gi] = select(0.0, D[gi + pu(4u)], v >= lo && v <= hi);`,
    );
  const p = new Params().u(out.size, x.offset).f(attrs.min as number, attrs.max as number)
    .u(dy.offset);
  g.dispatch("clampGrad", wgsl, [buf(x), buf(dy)], [buf(out)], p, g.grid(out.size, WG));
};
