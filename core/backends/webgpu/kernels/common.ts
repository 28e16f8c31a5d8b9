/**
 * WGSL building blocks shared by the kernels: the binding header every kernel uses (parameter
 * block at binding 0, inputs, then outputs), a linear thread index over 2-D grids, and IEEE
 * helpers (infinities and NaN tests) that do not rely on the compiler's float assumptions.
 */

import type { KernelTensor } from "../../../backend.ts";
import type { GpuBuffer } from "../pool.ts";

/** Largest rank the strided and broadcasting kernels handle. */
export const MAX_RANK = 8;

/** The GPU buffer behind a kernel tensor. */
export function buf(t: KernelTensor): GpuBuffer {
  return t.handle as GpuBuffer;
}

/** Declarations of the parameter block and the storage bindings, in binding order. */
export function header(
  inputs: readonly string[],
  outputs: readonly string[],
  types: { in?: string; out?: string } = {},
): string {
  const lines = [
    "@group(0) @binding(0) var<uniform> prm: array<vec4<u32>, 16>;",
    "fn pu(i: u32) -> u32 { return prm[i >> 2u][i & 3u]; }",
    "fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }",
    "fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }",
  ];
  let b = 1;
  for (const name of inputs) {
    lines.push(
      `@group(0) @binding(${b++}) var<storage, read> ${name}: array<${types.in ?? "f32"}>;`,
    );
  }
  for (const name of outputs) {
    lines.push(
      `@group(0) @binding(${b++}) var<storage, read_write> ${name}: array<${types.out ?? "f32"}>;`,
    );
  }
  lines.push(IEEE);
  return lines.join("\n");
}

/** Infinities, NaN and NaN tests written on bit patterns (WGSL may assume finite floats). */
export const IEEE = `
fn posInf() -> f32 { return bitcast<f32>(0x7f800000u); }
fn negInf() -> f32 { return bitcast<f32>(0xff800000u); }
fn nanF() -> f32 { return bitcast<f32>(0x7fc00000u); }
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isInf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
`;

/**
 * An entry point with `workgroup_size(wg)` whose `gi` is the linear thread index over a grid
 * from `WebGPUBackend.grid` (which spills into y beyond the per-dimension workgroup limit).
 */
export function linearEntry(wg: number, body: string): string {
  return `
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gi = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
${body}
}`;
}

/**
 * An entry point with one workgroup of `wg` threads per row: `row` is the workgroup's linear
 * index (over a 2-D grid) and `lid` the thread within it.
 */
export function rowEntry(wg: number, body: string): string {
  return `
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
${body}
}`;
}

/** Contiguous strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides of `shape` aligned right to `outShape`, zero on broadcast axes. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = rank - shape.length + i;
    strides[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Throws when a tensor's rank exceeds what the strided kernels index. */
export function checkRank(op: string, shape: readonly number[]): void {
  if (shape.length > MAX_RANK) {
    throw new Error(
      `${op} (webgpu): rank ${shape.length} exceeds the supported ${MAX_RANK}; reshape first`,
    );
  }
}

/**
 * WGSL that turns the linear index `i` into an element offset, for a tensor whose shape and
 * strides are stored as MAX_RANK words each at parameter words `shapeAt` and `strideAt`.
 */
export function stridedOffset(
  fnName: string,
  rankAt: number,
  shapeAt: number,
  strideAt: number,
): string {
  return `
fn ${fnName}(i: u32) -> u32 {
  var rest = i;
  var off = 0u;
  let rank = pu(${rankAt}u);
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let n = pu(${shapeAt}u + u32(d));
    off += (rest % n) * pu(${strideAt}u + u32(d));
    rest = rest / n;
  }
  return off;
}`;
}

/**
 * Workgroup-wide sum and max over one value per thread (`wg` threads, `lid` the thread index);
 * every thread gets the result. Call from uniform control flow only (they contain barriers).
 */
export function workgroupReductions(wg: number): string {
  return `
var<workgroup> wgScratch: array<f32, ${wg}>;
fn wgReduce(v: f32, lid: u32, isMax: bool) -> f32 {
  wgScratch[lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let a = wgScratch[lid];
      let b = wgScratch[lid + s];
      wgScratch[lid] = select(a + b, select(a, b, b > a || isNan(b)), isMax);
    }
    workgroupBarrier();
  }
  // A uniform value: callers may branch on it around later barriers.
  let r = workgroupUniformLoad(&wgScratch[0]);
  workgroupBarrier();
  return r;
}
fn wgSum(v: f32, lid: u32) -> f32 { return wgReduce(v, lid, false); }
fn wgMax(v: f32, lid: u32) -> f32 { return wgReduce(v, lid, true); }`;
}

/** Workgroup size for one-workgroup-per-row kernels: wide rows get more threads. */
export function rowThreads(n: number): number {
  return n >= 2048 ? 256 : 64;
}
