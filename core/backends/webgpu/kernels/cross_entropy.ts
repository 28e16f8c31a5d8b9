/**
 * Cross-entropy and per-token log-probabilities read off a row's log-sum-exp without storing
 * log-softmax, and their backward kernels. Forward kernels run a workgroup per row and save the
 * row's log Σ exp; mean/sum reductions finish in a second, single-workgroup pass. Indices are
 * not validated here (that would need a readback): out-of-range ones are clamped into the row.
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, linearEntry, rowEntry, rowThreads, workgroupReductions } from "./common.ts";

const WG = 256;

/** WGSL computing `l`, the log-sum-exp of the row at `base` of length `c`, in a workgroup. */
const rowLse = (wg: number) => `
  var mp = negInf();
  for (var j = lid; j < c; j += ${wg}u) { let v = X[base + j]; if (v > mp) { mp = v; } }
  let m = wgMax(mp, lid);
  var sp = 0.0;
  for (var j = lid; j < c; j += ${wg}u) { sp += exp(X[base + j] - m); }
  let l = m + log(wgSum(sp, lid));`;

const clampIndex = "u32(clamp(floor(t), 0.0, f32(c - 1u)))";

// Row kernels' params: 0 rows, 1 c, 2 logits offset, 3 targets offset, 4 ignoreIndex.
function crossEntropyRowWgsl(wg: number, perRow: boolean): string {
  const store = perRow
    ? "L[row] = select(l - X[base + ti], 0.0, ignored);"
    : `L[2u * row] = select(l - X[base + ti], 0.0, ignored);
    L[2u * row + 1u] = select(1.0, 0.0, ignored);`;
  return header(["X", "T"], ["L", "S"]) + workgroupReductions(wg) + rowEntry(
    wg,
    `  if (row >= pu(0u)) { return; }
  let c = pu(1u);
  let base = pu(2u) + row * c;
${rowLse(wg)}
  if (lid == 0u) {
    S[row] = l;
    let t = T[pu(3u) + row];
    let ignored = t == pf(4u);
    let ti = ${clampIndex};
    ${store}
  }`,
  );
}

// Sums (value, kept) pairs of every row: params 0 rows, 1 divide by the kept count (mean).
const crossEntropyReduceWgsl = () =>
  header(["R"], ["L"]) + workgroupReductions(WG) + `
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let rows = pu(0u);
  var total = 0.0;
  var count = 0.0;
  for (var r = lid; r < rows; r += ${WG}u) {
    total += R[2u * r];
    count += R[2u * r + 1u];
  }
  let t = wgSum(total, lid);
  let k = wgSum(count, lid);
  if (lid == 0u) { L[0] = select(t, t / k, pu(1u) == 1u); }
}`;

/** Inputs (logits [..., C], targets [...]); outputs (loss, lse [rows]). */
export const crossEntropyKernel: Kernel = ([logits, targets], [loss, lse], attrs, backend) => {
  const g = backend as WebGPUBackend;
  const c = logits.shape[logits.shape.length - 1];
  const rows = targets.size;
  const reduction = attrs.reduction as string;
  const perRow = reduction === "none";
  const wg = rowThreads(c);
  const p = new Params().u(rows, c, logits.offset, targets.offset).f(attrs.ignoreIndex as number);
  const ins = [buf(logits), buf(targets)];
  const grid = g.grid(rows, 1);
  if (perRow) {
    g.dispatch(
      `crossEntropy:none:${wg}`,
      () => crossEntropyRowWgsl(wg, true),
      ins,
      [buf(loss), buf(lse)],
      p,
      grid,
    );
    return;
  }
  const partial = g.scratch(2 * Math.max(rows, 1));
  g.dispatch(
    `crossEntropy:rows:${wg}`,
    () => crossEntropyRowWgsl(wg, false),
    ins,
    [partial, buf(lse)],
    p,
    grid,
  );
  g.dispatch(
    "crossEntropy:reduce",
    crossEntropyReduceWgsl,
    [partial],
    [buf(loss)],
    new Params().u(rows, reduction === "mean" ? 1 : 0),
    [1, 1, 1],
  );
  g.free(partial);
};

// Counts rows whose target is not ignored: params 0 rows, 1 targets offset, 2 ignoreIndex.
const keptCountWgsl = () =>
  header(["T"], ["K"]) + workgroupReductions(WG) + `
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var count = 0.0;
  for (var r = lid; r < pu(0u); r += ${WG}u) { count += select(1.0, 0.0, T[pu(1u) + r] == pf(2u)); }
  let k = wgSum(count, lid);
  if (lid == 0u) { K[0] = k; }
}`;

// Params: 0 rows·c, 1 c, 2 logits, 3 targets, 4 lse, 5 dy offsets, 6 ignoreIndex.
function crossEntropyGradWgsl(reduction: string): string {
  const gr = reduction === "none"
    ? "D[pu(5u) + r]"
    : reduction === "mean"
    ? "D[pu(5u)] / K[0]"
    : "D[pu(5u)]";
  return header(reduction === "mean" ? ["X", "T", "S", "D", "K"] : ["X", "T", "S", "D"], ["O"]) +
    linearEntry(
      WG,
      `  if (gi >= pu(0u)) { return; }
  let c = pu(1u);
  let r = gi / c;
  let j = gi % c;
  let t = T[pu(3u) + r];
  if (t == pf(6u)) { O[gi] = 0.0; return; }
  let ti = ${clampIndex};
  let g = ${gr};
  O[gi] = g * exp(X[pu(2u) + gi] - S[pu(4u) + r]) - select(0.0, g, j == ti);`,
    );
}

/** Inputs (logits, targets, lse, dy); output d loss / d logits. */
export const crossEntropyGradKernel: Kernel = (
  [logits, targets, lse, dy],
  [dx],
  attrs,
  backend,
) => {
  const g = backend as WebGPUBackend;
  const c = logits.shape[logits.shape.length - 1];
  const rows = targets.size;
  const reduction = attrs.reduction as string;
  const ignore = attrs.ignoreIndex as number;
  const ins = [buf(logits), buf(targets), buf(lse), buf(dy)];
  let kept = null;
  if (reduction === "mean") {
    kept = g.scratch(1);
    g.dispatch(
      "crossEntropy:kept",
      keptCountWgsl,
      [buf(targets)],
      [kept],
      new Params().u(rows, targets.offset).f(ignore),
      [1, 1, 1],
    );
    ins.push(kept);
  }
  const p = new Params().u(rows * c, c, logits.offset, targets.offset, lse.offset, dy.offset)
    .f(ignore);
  g.dispatch(
    `crossEntropyGrad:${reduction}`,
    () => crossEntropyGradWgsl(reduction),
    ins,
    [buf(dx)],
    p,
    g.grid(rows * c, WG),
  );
  if (kept) g.free(kept);
};

const tokenLogProbsWgsl = (wg: number) =>
  header(["X", "T"], ["O", "S"]) + workgroupReductions(wg) + rowEntry(
    wg,
    `  if (row >= pu(0u)) { return; }
  let c = pu(1u);
  let base = pu(2u) + row * c;
${rowLse(wg)}
  if (lid == 0u) {
    let t = T[pu(3u) + row];
    S[row] = l;
    O[row] = X[base + ${clampIndex}] - l;
  }`,
  );

/** Inputs (logits [..., V], labels [...]); outputs (log p(label), lse). */
export const tokenLogProbsKernel: Kernel = ([logits, labels], [out, lse], _attrs, backend) => {
  const g = backend as WebGPUBackend;
  const c = logits.shape[logits.shape.length - 1];
  const rows = labels.size;
  const wg = rowThreads(c);
  g.dispatch(
    `tokenLogProbs:${wg}`,
    () => tokenLogProbsWgsl(wg),
    [buf(logits), buf(labels)],
    [buf(out), buf(lse)],
    new Params().u(rows, c, logits.offset, labels.offset),
    g.grid(rows, 1),
  );
};

// Params: 0 rows·c, 1 c, 2 logits, 3 labels, 4 lse, 5 dy offsets.
const tokenLogProbsGradWgsl = () =>
  header(["X", "T", "S", "D"], ["O"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let c = pu(1u);
  let r = gi / c;
  let j = gi % c;
  let t = T[pu(3u) + r];
  let g = D[pu(5u) + r];
  O[gi] = select(0.0, g, j == ${clampIndex}) - g * exp(X[pu(2u) + gi] - S[pu(4u) + r]);`,
  );

/** Inputs (logits, labels, lse, dy); output d out / d logits. */
export const tokenLogProbsGradKernel: Kernel = (
  [logits, labels, lse, dy],
  [dx],
  _attrs,
  backend,
) => {
  const g = backend as WebGPUBackend;
  const c = logits.shape[logits.shape.length - 1];
  const rows = labels.size;
  g.dispatch(
    "tokenLogProbsGrad",
    tokenLogProbsGradWgsl,
    [buf(logits), buf(labels), buf(lse), buf(dy)],
    [buf(dx)],
    new Params().u(rows * c, c, logits.offset, labels.offset, lse.offset, dy.offset),
    g.grid(rows * c, WG),
  );
};
