/**
 * `sampleTokens` on the GPU: one workgroup per row picks a token without sorting and without a
 * readback, following the rules of the CPU reference (core/backends/cpu/kernels/sample.ts).
 * - top-k: the k-th largest scaled logit is found by bisection over order-preserving u32 keys
 *   (each step counts keys at or above the midpoint), so ties at the threshold are all kept;
 * - top-p: bisection over the bit patterns of e = exp(z − max) ≥ 0 finds the smallest value
 *   whose strictly-larger mass is below p·Z; tokens at or above it are kept;
 * - the draw: each thread sums a contiguous chunk, a workgroup scan gives chunk offsets, and the
 *   thread whose chunk holds u·Σw walks it in vocabulary order.
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, rowEntry, workgroupReductions } from "./common.ts";

// Params: 0 rows, 1 V, 2 logits offset, 3 uniforms offset, 4 temperature, 5 topK, 6 topP.
const sampleWgsl = (wg: number) =>
  header(["X", "U"], ["O"]) + workgroupReductions(wg) + `
var<workgroup> scan: array<f32, ${wg}>;
var<workgroup> pick: atomic<u32>;
var<workgroup> lastKept: atomic<u32>;
// Order-preserving map of f32 onto u32.
fn key(f: f32) -> u32 {
  let b = bitcast<u32>(f);
  return select(~b, b | 0x80000000u, (b & 0x80000000u) == 0u);
}
fn scaled(base: u32, j: u32) -> f32 { return X[base + j] / pf(4u); }
fn weight(base: u32, j: u32, kth: u32, m: f32) -> f32 {
  let z = scaled(base, j);
  return select(0.0, exp(z - m), key(z) >= kth);
}` + rowEntry(
    wg,
    `  if (row >= pu(0u)) { return; }
  let v = pu(1u);
  let base = pu(2u) + row * v;
  let k = pu(5u);
  var kth = 0u;
  if (k > 0u && k < v) {
    var lo = 0u;
    var hi = 0xffffffffu;
    loop {
      if (lo >= hi) { break; }
      let span = hi - lo;
      let mid = lo + (span >> 1u) + (span & 1u);
      var c = 0.0;
      for (var j = lid; j < v; j += ${wg}u) { if (key(scaled(base, j)) >= mid) { c += 1.0; } }
      if (wgSum(c, lid) >= f32(k)) { lo = mid; } else { hi = mid - 1u; }
    }
    kth = lo;
  }
  var mp = negInf();
  for (var j = lid; j < v; j += ${wg}u) {
    let z = scaled(base, j);
    if (key(z) >= kth && z > mp) { mp = z; }
  }
  let m = wgMax(mp, lid);
  var cut = 1u;
  let p = pf(6u);
  if (p < 1.0) {
    var sp = 0.0;
    for (var j = lid; j < v; j += ${wg}u) { sp += weight(base, j, kth, m); }
    let goal = p * wgSum(sp, lid);
    var lo = 1u;
    var hi = 0x3f800000u;
    loop {
      if (lo >= hi) { break; }
      let mid = lo + (hi - lo) / 2u;
      var mass = 0.0;
      for (var j = lid; j < v; j += ${wg}u) {
        let e = weight(base, j, kth, m);
        if (bitcast<u32>(e) > mid) { mass += e; }
      }
      if (wgSum(mass, lid) < goal) { hi = mid; } else { lo = mid + 1u; }
    }
    cut = lo;
  }
  let chunk = (v + ${wg - 1}u) / ${wg}u;
  let start = min(v, lid * chunk);
  let stop = min(v, start + chunk);
  var local = 0.0;
  var last = 0u;
  var hasAny = false;
  for (var j = start; j < stop; j++) {
    let e = weight(base, j, kth, m);
    if (bitcast<u32>(e) >= cut) { local += e; last = j; hasAny = true; }
  }
  if (lid == 0u) {
    atomicStore(&pick, 0xffffffffu);
    atomicStore(&lastKept, 0u);
  }
  scan[lid] = local;
  workgroupBarrier();
  for (var off = 1u; off < ${wg}u; off <<= 1u) {
    let add = select(0.0, scan[lid - min(off, lid)], lid >= off);
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  let total = workgroupUniformLoad(&scan[${wg - 1}]);
  let draw = U[pu(3u) + row] * total;
  let before = select(0.0, scan[lid - min(1u, lid)], lid > 0u);
  if (hasAny) {
    atomicMax(&lastKept, last);
    if (before <= draw) {
      var acc = before;
      for (var j = start; j < stop; j++) {
        let e = weight(base, j, kth, m);
        if (bitcast<u32>(e) >= cut) {
          acc += e;
          if (acc > draw) { atomicMin(&pick, j); break; }
        }
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let chosen = atomicLoad(&pick);
    O[row] = f32(select(chosen, atomicLoad(&lastKept), chosen == 0xffffffffu));
  }`,
  );

/** Inputs (logits [..., V], uniforms [rows]); output token ids [...]. */
export const sampleTokensKernel: Kernel = ([logits, u], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const v = logits.shape[logits.shape.length - 1];
  const rows = u.size;
  const p = new Params().u(rows, v, logits.offset, u.offset).f(attrs.temperature as number)
    .u(attrs.topK as number).f(attrs.topP as number);
  // Narrow rows need few threads; every bisection step pays log2(wg) barriers.
  const wg = v <= 512 ? 32 : v <= 8192 ? 64 : 256;
  g.dispatch(
    `sampleTokens:${wg}`,
    () => sampleWgsl(wg),
    [buf(logits), buf(u)],
    [buf(out)],
    p,
    g.grid(rows, 1),
  );
};
