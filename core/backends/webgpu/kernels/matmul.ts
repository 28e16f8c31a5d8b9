/**
 * Batched matmul with either operand transposed.
 * - Tiled: shared-memory tiles and a register block per thread. A workgroup of (t/4)² threads
 *   computes a t×t output tile (t = 64, or 32 for small problems), 4×4 per thread, stepping
 *   through k in slices of 16; tiles are staged in workgroup memory as vec4 columns so the inner
 *   loop is four vec4 FMAs per k. Transposition only changes how tiles are loaded (always along
 *   the operand's contiguous axis).
 * - Skinny (at most 8 rows, as in generation): a thread per output column carrying every row's
 *   accumulator, or with B transposed a workgroup per column streaming B's row.
 * A shared right operand (one [k, n] matrix for every batch) gets batch stride 0.
 */

import type { Kernel } from "../../../backend.ts";
import { type Grid, Params, type WebGPUBackend } from "../backend.ts";
import { buf, header } from "./common.ts";

const BK = 16;

function matmulWgsl(transA: boolean, transB: boolean, tile: number): string {
  const threads = tile / 4;
  // Element e (0..1023) of a tile load: the operand's contiguous axis varies fastest.
  const loadA = transA
    ? `let kk = e / ${tile}u; let r = e % ${tile}u;`
    : `let r = e / ${BK}u; let kk = e % ${BK}u;`;
  const addrA = transA ? "gk * M + gr" : "gr * K + gk";
  const loadB = transB
    ? `let c = e / ${BK}u; let kk = e % ${BK}u;`
    : `let kk = e / ${tile}u; let c = e % ${tile}u;`;
  const addrB = transB ? "gc * K + gk" : "gk * N + gc";
  return header(["A", "B"], ["O"]) + `
var<workgroup> As: array<vec4<f32>, ${(tile * BK) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(tile * BK) / 4}>;

@compute @workgroup_size(${threads}, ${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z + pu(7u);
  let aBase = pu(3u) + batch * pu(5u);
  let bBase = pu(4u) + batch * pu(6u);
  let oBase = batch * M * N;
  let row0 = wid.y * ${tile}u;
  let col0 = wid.x * ${tile}u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    for (var s = 0u; s < ${(tile * BK) / (threads * threads)}u; s++) {
      let e = lid + s * ${threads * threads}u;
      {
        ${loadA}
        let gr = row0 + r;
        let gk = k0 + kk;
        var v = 0.0;
        if (gr < M && gk < K) { v = A[aBase + ${addrA}]; }
        As[kk * ${tile / 4}u + r / 4u][r % 4u] = v;
      }
      {
        ${loadB}
        let gc = col0 + c;
        let gk = k0 + kk;
        var v = 0.0;
        if (gc < N && gk < K) { v = B[bBase + ${addrB}]; }
        Bs[kk * ${tile / 4}u + c / 4u][c % 4u] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = As[kk * ${tile / 4}u + l.y];
      let b = Bs[kk * ${tile / 4}u + l.x];
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

/** Most rows a skinny kernel handles (generation: one new token per sequence). */
const SKINNY_ROWS = 8;
const SKINNY_WG = 64;

/**
 * Few rows, B not transposed: a thread per output column keeps every row's accumulator, so each
 * element of B (read coalesced along n) is loaded once for all rows.
 */
function skinnyWgsl(transA: boolean): string {
  const addrA = transA ? "kk * M + r" : "r * K + kk";
  return header(["A", "B"], ["O"]) + `
@compute @workgroup_size(${SKINNY_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z + pu(7u);
  let aBase = pu(3u) + batch * pu(5u);
  let bBase = pu(4u) + batch * pu(6u);
  let c = wid.x * ${SKINNY_WG}u + lid;
  if (c >= N) { return; }
  var acc = array<f32, ${SKINNY_ROWS}>();
  for (var kk = 0u; kk < K; kk++) {
    let b = B[bBase + kk * N + c];
    for (var r = 0u; r < M; r++) { acc[r] += A[aBase + ${addrA}] * b; }
  }
  for (var r = 0u; r < M; r++) { O[batch * M * N + r * N + c] = acc[r]; }
}`;
}

/**
 * Few rows, B transposed ([n, k], e.g. logits against a tied embedding): a workgroup per output
 * column streams that column's row of B with all its threads and reduces per row.
 */
function skinnyTransBWgsl(transA: boolean): string {
  const addrA = transA ? "kk * M + r" : "r * K + kk";
  return header(["A", "B"], ["O"]) + `
var<workgroup> part: array<f32, ${SKINNY_ROWS * SKINNY_WG}>;
@compute @workgroup_size(${SKINNY_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z + pu(7u);
  let c = wid.y * nwg.x + wid.x;
  if (c >= N) { return; }
  let aBase = pu(3u) + batch * pu(5u);
  let bRow = pu(4u) + batch * pu(6u) + c * K;
  var acc = array<f32, ${SKINNY_ROWS}>();
  for (var kk = lid; kk < K; kk += ${SKINNY_WG}u) {
    let b = B[bRow + kk];
    for (var r = 0u; r < M; r++) { acc[r] += A[aBase + ${addrA}] * b; }
  }
  for (var r = 0u; r < ${SKINNY_ROWS}u; r++) { part[r * ${SKINNY_WG}u + lid] = acc[r]; }
  workgroupBarrier();
  for (var s = ${SKINNY_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) {
      for (var r = 0u; r < M; r++) {
        part[r * ${SKINNY_WG}u + lid] += part[r * ${SKINNY_WG}u + lid + s];
      }
    }
    workgroupBarrier();
  }
  if (lid < M) { O[batch * M * N + lid * N + c] = part[lid * ${SKINNY_WG}u]; }
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
  const maxZ = g.limits.device.maxComputeWorkgroupsPerDimension;
  const tag = `${transA ? "T" : "N"}${transB ? "T" : "N"}`;
  let key: string, wgsl: () => string, grid: (z: number) => Grid;
  if (m <= SKINNY_ROWS && transB) {
    key = `matmulSkinnyT:${tag}`;
    wgsl = () => skinnyTransBWgsl(transA);
    const [x, y] = g.grid(n, 1);
    grid = (z) => [x, y, z];
  } else if (m <= SKINNY_ROWS) {
    key = `matmulSkinny:${tag}`;
    wgsl = () => skinnyWgsl(transA);
    grid = (z) => [Math.ceil(n / SKINNY_WG), 1, z];
  } else {
    // Small problems use 32×32 tiles so more workgroups share the device.
    const tile = Math.ceil(m / 64) * Math.ceil(n / 64) * batch < 64 ? 32 : 64;
    key = `matmul:${tag}:${tile}`;
    wgsl = () => matmulWgsl(transA, transB, tile);
    grid = (z) => [Math.ceil(n / tile), Math.ceil(m / tile), z];
  }
  for (let b0 = 0; b0 < batch; b0 += maxZ) {
    const p = new Params().u(m, n, k, a.offset, b.offset, m * k, bShared ? 0 : k * n, b0);
    g.dispatch(key, wgsl, [buf(a), buf(b)], [buf(out)], p, grid(Math.min(maxZ, batch - b0)));
  }
};
