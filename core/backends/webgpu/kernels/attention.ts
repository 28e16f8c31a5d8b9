/**
 * Fused scaled dot-product attention over [B, H, T, D] with causal and key-padding masks, and its
 * backward, with the CPU reference's semantics: hidden keys get probability 0; a query row with
 * no visible key attends uniformly to every key (lse = −∞) and passes no gradient to q and k.
 *
 * Forward: a workgroup per query row. Pass 1 finds the row's largest visible score; pass 2 walks
 * the keys in chunks, staging exp(s − max) in workgroup memory so each thread accumulates its
 * own output columns. No [Tq, Tk] tensor is ever stored.
 * Backward: a workgroup per query row computes dq and the row's Σ_j p·(dy·v_j); then a workgroup
 * per key row computes dk and dv by walking the query rows, so no two threads write one value.
 */

import type { Kernel, KernelTensor } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, workgroupReductions } from "./common.ts";

const WG = 64;
const CH = 512;
/** Largest head size: each thread keeps MAX_D / WG accumulators. */
const MAX_D = 256;
const PER = MAX_D / WG;

// Params: 0 rows, 1 H, 2 Tq, 3 Tk, 4 D, 5 Dv, 6 causal, 7 scale, 8 q, 9 k, 10 v, 11 mask,
// 12 lse, 13 dy offsets.

function common(masked: boolean): string {
  return `
const WG = ${WG}u;
const CH = ${CH}u;
fn visibleEnd(i: u32, tq: u32, tk: u32) -> u32 {
  if (pu(6u) == 0u) { return tk; }
  return u32(clamp(i32(i) + i32(tk) - i32(tq) + 1, 0, i32(tk)));
}
fn maskKeeps(b: u32, j: u32, tk: u32) -> bool {
  ${masked ? "return M[pu(11u) + b * tk + j] != 0.0;" : "return true;"}
}
${workgroupReductions(WG)}`;
}

function entry(body: string): string {
  return `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= pu(0u)) { return; }
  let h = pu(1u);
  let tq = pu(2u);
  let tk = pu(3u);
  let d = pu(4u);
  let dv = pu(5u);
  let scale = pf(7u);
${body}
}`;
}

function forwardWgsl(masked: boolean): string {
  return header(masked ? ["Q", "K", "V", "M"] : ["Q", "K", "V"], ["O", "L"]) + common(masked) + `
var<workgroup> Qs: array<f32, ${MAX_D}>;
var<workgroup> Ps: array<f32, ${CH}>;
fn score(ko: u32, j: u32, d: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < d; c++) { s += Qs[c] * K[ko + j * d + c]; }
  return s;
}` + entry(`
  let head = row / tq;
  let i = row % tq;
  let b = head / h;
  let ko = pu(9u) + head * tk * d;
  let vo = pu(10u) + head * tk * dv;
  let end = visibleEnd(i, tq, tk);
  for (var c = lid; c < d; c += WG) { Qs[c] = Q[pu(8u) + row * d + c]; }
  workgroupBarrier();
  var mp = negInf();
  for (var j = lid; j < end; j += WG) {
    if (maskKeeps(b, j, tk)) { let s = score(ko, j, d) * scale; if (s > mp) { mp = s; } }
  }
  let best = wgMax(mp, lid);
  var acc = array<f32, ${PER}>();
  if (best == negInf()) {
    for (var t = 0u; t < ${PER}u; t++) {
      let c = lid + t * WG;
      if (c < dv) {
        var a = 0.0;
        for (var j = 0u; j < tk; j++) { a += V[vo + j * dv + c]; }
        O[row * dv + c] = a / f32(tk);
      }
    }
    if (lid == 0u) { L[row] = negInf(); }
    return;
  }
  var sp = 0.0;
  for (var j0 = 0u; j0 < end; j0 += CH) {
    let jn = min(CH, end - j0);
    for (var jj = lid; jj < jn; jj += WG) {
      let j = j0 + jj;
      var p = 0.0;
      if (maskKeeps(b, j, tk)) { p = exp(score(ko, j, d) * scale - best); }
      Ps[jj] = p;
      sp += p;
    }
    workgroupBarrier();
    for (var t = 0u; t < ${PER}u; t++) {
      let c = lid + t * WG;
      if (c < dv) {
        var a = acc[t];
        for (var jj = 0u; jj < jn; jj++) { a += Ps[jj] * V[vo + (j0 + jj) * dv + c]; }
        acc[t] = a;
      }
    }
    workgroupBarrier();
  }
  let sum = wgSum(sp, lid);
  let r = 1.0 / sum;
  for (var t = 0u; t < ${PER}u; t++) {
    let c = lid + t * WG;
    if (c < dv) { O[row * dv + c] = acc[t] * r; }
  }
  if (lid == 0u) { L[row] = best + log(sum); }`);
}

/** Pass A of the backward: dq per query row, and (lse_i, Σ_j p_ij (dy_i·v_j)) into S. */
function gradRowsWgsl(masked: boolean): string {
  const ins = masked ? ["Q", "K", "V", "M", "L", "DY"] : ["Q", "K", "V", "L", "DY"];
  return header(ins, ["DQ", "S"]) + common(masked) + `
var<workgroup> Qs: array<f32, ${MAX_D}>;
var<workgroup> Gs: array<f32, ${MAX_D}>;
var<workgroup> DSs: array<f32, ${CH}>;
fn dotQK(ko: u32, j: u32, d: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < d; c++) { s += Qs[c] * K[ko + j * d + c]; }
  return s;
}
fn dotGV(vo: u32, j: u32, dv: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < dv; c++) { s += Gs[c] * V[vo + j * dv + c]; }
  return s;
}` + entry(`
  let head = row / tq;
  let i = row % tq;
  let b = head / h;
  let ko = pu(9u) + head * tk * d;
  let vo = pu(10u) + head * tk * dv;
  let l = L[pu(12u) + row];
  let live = !(isInf(l) && l < 0.0);
  let end = select(0u, visibleEnd(i, tq, tk), live);
  for (var c = lid; c < d; c += WG) { Qs[c] = Q[pu(8u) + row * d + c]; }
  for (var c = lid; c < dv; c += WG) { Gs[c] = DY[pu(13u) + row * dv + c]; }
  workgroupBarrier();
  var part = 0.0;
  for (var j = lid; j < end; j += WG) {
    if (maskKeeps(b, j, tk)) {
      part += exp(dotQK(ko, j, d) * scale - l) * dotGV(vo, j, dv);
    }
  }
  let dsum = wgSum(part, lid);
  var acc = array<f32, ${PER}>();
  let tkEnd = visibleEnd(i, tq, tk);
  for (var j0 = 0u; j0 < tkEnd; j0 += CH) {
    let jn = min(CH, tkEnd - j0);
    for (var jj = lid; jj < jn; jj += WG) {
      let j = j0 + jj;
      var ds = 0.0;
      if (live && maskKeeps(b, j, tk)) {
        let p = exp(dotQK(ko, j, d) * scale - l);
        ds = p * (dotGV(vo, j, dv) - dsum) * scale;
      }
      DSs[jj] = ds;
    }
    workgroupBarrier();
    for (var t = 0u; t < ${PER}u; t++) {
      let c = lid + t * WG;
      if (c < d) {
        var a = acc[t];
        for (var jj = 0u; jj < jn; jj++) { a += DSs[jj] * K[ko + (j0 + jj) * d + c]; }
        acc[t] = a;
      }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < ${PER}u; t++) {
    let c = lid + t * WG;
    if (c < d) { DQ[row * d + c] = acc[t]; }
  }
  if (lid == 0u) {
    S[2u * row] = l;
    S[2u * row + 1u] = dsum;
  }`);
}

/** Pass B of the backward: dk and dv per key row, walking every query row of the head. */
function gradKeysWgsl(masked: boolean): string {
  // The row statistics (lse, Σ p·(dy·v)) come interleaved in S: with a mask this pass binds
  // eight storage buffers, WebGPU's default per-stage limit.
  const ins = masked ? ["Q", "K", "V", "M", "S", "DY"] : ["Q", "K", "V", "S", "DY"];
  return header(ins, ["DK", "DV"]) + common(masked) + `
var<workgroup> Ks: array<f32, ${MAX_D}>;
var<workgroup> Vs: array<f32, ${MAX_D}>;
var<workgroup> Ps: array<f32, ${CH}>;
var<workgroup> DSs: array<f32, ${CH}>;` + entry(`
  // Here 'row' is a key row: head * tk + j.
  let head = row / tk;
  let j = row % tk;
  let b = head / h;
  let qo = pu(8u) + head * tq * d;
  let go = pu(13u) + head * tq * dv;
  let kept = maskKeeps(b, j, tk);
  for (var c = lid; c < d; c += WG) { Ks[c] = K[pu(9u) + row * d + c]; }
  for (var c = lid; c < dv; c += WG) { Vs[c] = V[pu(10u) + row * dv + c]; }
  workgroupBarrier();
  var accK = array<f32, ${PER}>();
  var accV = array<f32, ${PER}>();
  for (var i0 = 0u; i0 < tq; i0 += CH) {
    let iN = min(CH, tq - i0);
    for (var ii = lid; ii < iN; ii += WG) {
      let i = i0 + ii;
      let qrow = head * tq + i;
      let l = S[2u * qrow];
      var p = 0.0;
      var ds = 0.0;
      if (isInf(l) && l < 0.0) {
        p = 1.0 / f32(tk);
      } else if (kept && j < visibleEnd(i, tq, tk)) {
        var s = 0.0;
        for (var c = 0u; c < d; c++) { s += Q[qo + i * d + c] * Ks[c]; }
        p = exp(s * scale - l);
        var gv = 0.0;
        for (var c = 0u; c < dv; c++) { gv += DY[go + i * dv + c] * Vs[c]; }
        ds = p * (gv - S[2u * qrow + 1u]) * scale;
      }
      Ps[ii] = p;
      DSs[ii] = ds;
    }
    workgroupBarrier();
    for (var t = 0u; t < ${PER}u; t++) {
      let c = lid + t * WG;
      if (c < dv) {
        var a = accV[t];
        for (var ii = 0u; ii < iN; ii++) { a += Ps[ii] * DY[go + (i0 + ii) * dv + c]; }
        accV[t] = a;
      }
      if (c < d) {
        var a = accK[t];
        for (var ii = 0u; ii < iN; ii++) { a += DSs[ii] * Q[qo + (i0 + ii) * d + c]; }
        accK[t] = a;
      }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < ${PER}u; t++) {
    let c = lid + t * WG;
    if (c < d) { DK[row * d + c] = accK[t]; }
    if (c < dv) { DV[row * dv + c] = accV[t]; }
  }`);
}

interface Dims {
  b: number;
  h: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
}

function dims(q: KernelTensor, k: KernelTensor, v: KernelTensor): Dims {
  const [b, h, tq, d] = q.shape;
  const dm = { b, h, tq, tk: k.shape[2], d, dv: v.shape[3] };
  if (dm.d > MAX_D || dm.dv > MAX_D) {
    throw new Error(
      `attention (webgpu): head size ${Math.max(dm.d, dm.dv)} exceeds the supported ${MAX_D}`,
    );
  }
  return dm;
}

function params(
  dm: Dims,
  rows: number,
  attrs: Record<string, unknown>,
  offs: { q: number; k: number; v: number; m: number; l?: number; dy?: number },
): Params {
  return new Params().u(rows, dm.h, dm.tq, dm.tk, dm.d, dm.dv, attrs.causal ? 1 : 0)
    .f(attrs.scale as number).u(offs.q, offs.k, offs.v, offs.m, offs.l ?? 0, offs.dy ?? 0);
}

/** Inputs (q, k, v[, mask]); outputs (out, lse). */
export const attentionKernel: Kernel = (inputs, [out, lse], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const [q, k, v] = inputs;
  const masked = !!attrs.hasMask;
  const mask = masked ? inputs[3] : null;
  const dm = dims(q, k, v);
  const rows = dm.b * dm.h * dm.tq;
  if (rows === 0) return;
  const p = params(dm, rows, attrs, {
    q: q.offset,
    k: k.offset,
    v: v.offset,
    m: mask?.offset ?? 0,
  });
  g.dispatch(
    `attention:${masked ? "mask" : "plain"}`,
    () => forwardWgsl(masked),
    inputs.map(buf),
    [buf(out), buf(lse)],
    p,
    g.grid(rows, 1),
  );
};

/** Inputs (q, k, v[, mask], lse, dy); outputs (dq, dk, dv). */
export const attentionGradKernel: Kernel = (inputs, [dq, dk, dv], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const [q, k, v] = inputs;
  const masked = !!attrs.hasMask;
  const mask = masked ? inputs[3] : null;
  const [lse, dy] = inputs.slice(masked ? 4 : 3);
  const dm = dims(q, k, v);
  const offs = { q: q.offset, k: k.offset, v: v.offset, m: mask?.offset ?? 0, l: lse.offset };
  const queryRows = dm.b * dm.h * dm.tq, keyRows = dm.b * dm.h * dm.tk;
  const stats = g.scratch(2 * Math.max(queryRows, 1));
  const kind = masked ? "mask" : "plain";
  g.dispatch(
    `attentionGrad:rows:${kind}`,
    () => gradRowsWgsl(masked),
    inputs.map(buf),
    [buf(dq), stats],
    params(dm, queryRows, attrs, { ...offs, dy: dy.offset }),
    g.grid(queryRows, 1),
  );
  g.dispatch(
    `attentionGrad:keys:${kind}`,
    () => gradKeysWgsl(masked),
    [...(mask ? [q, k, v, mask] : [q, k, v]).map(buf), stats, buf(dy)],
    [buf(dk), buf(dv)],
    params(dm, keyRows, attrs, { ...offs, dy: dy.offset }),
    g.grid(keyRows, 1),
  );
  g.free(stats);
};
