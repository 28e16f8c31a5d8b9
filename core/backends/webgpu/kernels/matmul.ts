/**
 * Batched matmul with either operand transposed: shared-memory tiles and a register block per
 * thread. A workgroup of 16×16 threads computes a 64×64 output tile (4×4 per thread), stepping
 * through k in slices of 16; tiles are staged in workgroup memory as vec4 columns so the inner
 * loop is four vec4 FMAs per k. Transposition only changes how tiles are loaded (always along
 * the operand's contiguous axis). A shared right operand (one [k, n] matrix for every batch)
 * gets batch stride 0.
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header } from "./common.ts";

const TILE = 64, BK = 16, THREADS = 16;

function matmulWgsl(transA: boolean, transB: boolean): string {
  // Element e (0..1023) of a tile load: the operand's contiguous axis varies fastest.
  const loadA = transA
    ? `let kk = e / ${TILE}u; let r = e % ${TILE}u;`
    : `let r = e / ${BK}u; let kk = e % ${BK}u;`;
  const addrA = transA ? "gk * M + gr" : "gr * K + gk";
  const loadB = transB
    ? `let c = e / ${BK}u; let kk = e % ${BK}u;`
    : `let kk = e / ${TILE}u; let c = e % ${TILE}u;`;
  const addrB = transB ? "gc * K + gk" : "gk * N + gc";
  return header(["A", "B"], ["O"]) + `
var<workgroup> As: array<vec4<f32>, ${(TILE * BK) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(TILE * BK) / 4}>;

@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z + pu(7u);
  let aBase = pu(3u) + batch * pu(5u);
  let bBase = pu(4u) + batch * pu(6u);
  let oBase = batch * M * N;
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    for (var s = 0u; s < ${(TILE * BK) / (THREADS * THREADS)}u; s++) {
      let e = lid + s * ${THREADS * THREADS}u;
      {
        ${loadA}
        let gr = row0 + r;
        let gk = k0 + kk;
        var v = 0.0;
        if (gr < M && gk < K) { v = A[aBase + ${addrA}]; }
        As[kk * ${TILE / 4}u + r / 4u][r % 4u] = v;
      }
      {
        ${loadB}
        let gc = col0 + c;
        let gk = k0 + kk;
        var v = 0.0;
        if (gc < N && gk < K) { v = B[bBase + ${addrB}]; }
        Bs[kk * ${TILE / 4}u + c / 4u][c % 4u] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = As[kk * ${TILE / 4}u + l.y];
      let b = Bs[kk * ${TILE / 4}u + l.x];
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }
  let r0 = row0 + l.y * 4u;
  let c0 = col0 + l.x * 4u;
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = c0 + j;
      if (c < N) { O[oBase + r * N + c] = accs[i][j]; }
    }
  }
}`;
}

/** out[b] = op(a[b]) @ op(b[b]) with `attrs.transA` / `attrs.transB`. */
export const matmulKernel: Kernel = ([a, b], [out], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const transA = !!attrs.transA, transB = !!attrs.transB;
  const ra = a.shape.length, rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (m * n === 0) return;
  const batch = k === 0 ? out.size / (m * n) : a.size / (m * k);
  if (k === 0) {
    g.zero(buf(out));
    return;
  }
  const bShared = b.size === k * n;
  const key = `matmul:${transA ? "T" : "N"}${transB ? "T" : "N"}`;
  const wgsl = () => matmulWgsl(transA, transB);
  const maxZ = g.limits.device.maxComputeWorkgroupsPerDimension;
  for (let b0 = 0; b0 < batch; b0 += maxZ) {
    const p = new Params().u(m, n, k, a.offset, b.offset, m * k, bShared ? 0 : k * n, b0);
    const grid = [Math.ceil(n / TILE), Math.ceil(m / TILE), Math.min(maxZ, batch - b0)] as const;
    g.dispatch(key, wgsl, [buf(a), buf(b)], [buf(out)], p, grid);
  }
};
