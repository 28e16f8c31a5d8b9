/**
 * The TypeScript side of every golden case in tests/fixtures/op_golden.json, by the same name
 * ("<op>/<variant>", <op> being the API name). tools/gen_op_golden.py holds the PyTorch side;
 * the op suite fails when either side has a case the other lacks. Parameters (axes, flags,
 * number operands) come from the fixture, so both sides read one source. A case whose op is
 * missing from core/mod.ts stops this module from compiling, so the whole suite fails loudly.
 */

import {
  abs,
  add,
  argmax,
  attention,
  clamp,
  concat,
  contiguous,
  crossEntropy,
  div,
  dropout,
  embedding,
  equal,
  exp,
  expand,
  gather,
  gelu,
  geluTanh,
  greater,
  greaterEqual,
  layerNorm,
  less,
  lessEqual,
  linear,
  lmHeadCrossEntropy,
  lmHeadLogProbs,
  log,
  logSigmoid,
  logSoftmax,
  maskedMean,
  maskedVar,
  maskedWhiten,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  permute,
  pow,
  relu,
  reshape,
  rmsNorm,
  rsqrt,
  sampleTokens,
  select,
  sigmoid,
  sign,
  slice,
  softmax,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  sumTo,
  tanh,
  type Tensor,
  tokenLogProbs,
  transpose,
  unbind,
  unsqueeze,
  variance,
  where,
} from "../../core/mod.ts";

/** A case's parameters as the fixture stores them. */
export type CaseParams = Readonly<Record<string, unknown>>;

/** Runs one case: fixture inputs (in fixture order) and parameters in, one output tensor out. */
export type OpCase = (xs: Tensor[], p: CaseParams) => Tensor;

const num = (p: CaseParams, k: string) => p[k] as number;
const nums = (p: CaseParams, k: string) => p[k] as number[];
const optAxis = (p: CaseParams) => p.axis as number | number[] | undefined;
const reduceOpts = (p: CaseParams) => ({ axis: optAxis(p), keepDims: p.keepDims as boolean });

const cases: Record<string, OpCase> = {};

// ---- elementwise binary -------------------------------------------------------------------

const binaries = { add, sub, mul, div } as const;
for (const [op, f] of Object.entries(binaries)) {
  for (const variant of ["same", "row", "both", "scalarTensor", "leftBroadcast"]) {
    cases[`${op}/${variant}`] = ([a, b]) => f(a, b);
  }
  cases[`${op}/numberRight`] = ([a], p) => f(a, num(p, "c"));
  cases[`${op}/numberLeft`] = ([a], p) => f(num(p, "c"), a);
}

cases["pow/same"] = ([a, b]) => pow(a, b);
cases["pow/broadcast"] = ([a, b]) => pow(a, b);
cases["pow/numberExponent"] = ([a], p) => pow(a, num(p, "c"));
cases["pow/sqrtExponent"] = ([a], p) => pow(a, num(p, "c"));
cases["pow/numberBase"] = ([b], p) => pow(num(p, "c"), b);

for (const [op, f] of Object.entries({ maximum, minimum })) {
  cases[`${op}/same`] = ([a, b]) => f(a, b);
  cases[`${op}/broadcast`] = ([a, b]) => f(a, b);
  cases[`${op}/number`] = ([a], p) => f(a, num(p, "c"));
  cases[`${op}/ties`] = ([a, b]) => f(a, b);
}

for (const [op, f] of Object.entries({ greater, greaterEqual, less, lessEqual, equal })) {
  cases[`${op}/ties`] = ([a, b]) => f(a, b);
  cases[`${op}/broadcast`] = ([a, b]) => f(a, b);
  cases[`${op}/number`] = ([a], p) => f(a, num(p, "c"));
}

// ---- elementwise unary --------------------------------------------------------------------

const unaries = {
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  tanh,
  sigmoid,
  logSigmoid,
  relu,
  gelu,
  geluTanh,
  abs,
  square,
} as const;
for (const [op, f] of Object.entries(unaries)) cases[`${op}/basic`] = ([x]) => f(x);
for (const [op, f] of Object.entries({ tanh, sigmoid, logSigmoid, gelu, geluTanh })) {
  cases[`${op}/wide`] = ([x]) => f(x);
}
cases["sign/basic"] = ([x]) => sign(x);
cases["relu/atZero"] = ([x]) => relu(x);
cases["abs/atZero"] = ([x]) => abs(x);

const clampCase: OpCase = ([x], p) =>
  clamp(x, p.min as number | undefined, p.max as number | undefined);
for (const v of ["both", "minOnly", "maxOnly", "atBounds"]) cases[`clamp/${v}`] = clampCase;

cases["where/same"] = ([c, a, b]) => where(c, a, b);
cases["where/broadcast"] = ([c, a, b]) => where(c, a, b);
cases["where/numberB"] = ([c, a], p) => where(c, a, num(p, "c"));

// ---- reductions ---------------------------------------------------------------------------

const reductions = { sum, mean, max, min } as const;
for (const [op, f] of Object.entries(reductions)) {
  for (const v of ["all", "allKeep", "axis1", "lastKeep", "axes02", "axes02Keep"]) {
    cases[`${op}/${v}`] = ([x], p) => f(x, reduceOpts(p));
  }
}
cases["max/ties"] = ([x], p) => max(x, reduceOpts(p));
cases["min/ties"] = ([x], p) => min(x, reduceOpts(p));
for (const v of ["lastKeep", "all", "axes02", "population"]) {
  cases[`variance/${v}`] = ([x], p) =>
    variance(x, { ...reduceOpts(p), correction: p.correction as number | undefined });
}
cases["argmax/axis1"] = ([x], p) => argmax(x, num(p, "axis"), p.keepDims as boolean);
cases["argmax/ties"] = ([x], p) => argmax(x, num(p, "axis"), p.keepDims as boolean);
cases["argmax/lastKeep"] = ([x], p) => argmax(x, num(p, "axis"), p.keepDims as boolean);

// ---- matmul -------------------------------------------------------------------------------

const matmulCase: OpCase = ([a, b], p) =>
  matmul(a, b, { transA: p.transA as boolean, transB: p.transB as boolean });
for (const tag of ["NN", "NT", "TN", "TT"]) {
  for (const kind of ["2d", "batched", "3dAt2d"]) cases[`matmul/${kind}${tag}`] = matmulCase;
}
for (const v of ["broadcastBatch", "2dAt3d", "vectorLike"]) cases[`matmul/${v}`] = matmulCase;

// ---- shape ops ----------------------------------------------------------------------------

cases["reshape/basic"] = ([x], p) => reshape(x, nums(p, "shape"));
cases["reshape/ofTranspose"] = ([x], p) => reshape(transpose(x, 0, 2), nums(p, "shape"));
cases["permute/basic"] = ([x], p) => permute(x, nums(p, "perm"));
cases["permute/negative"] = ([x], p) => permute(x, nums(p, "perm"));
cases["transpose/default"] = ([x]) => transpose(x);
cases["transpose/axes02"] = ([x], p) => transpose(x, num(p, "a"), num(p, "b"));
cases["slice/basic"] = ([x], p) => slice(x, nums(p, "begin"), nums(p, "size"));
cases["slice/negativeBegin"] = ([x], p) => slice(x, nums(p, "begin"), nums(p, "size"));
cases["slice/ofTransposedReshape"] = ([x], p) =>
  slice(reshape(transpose(x, 0, 2), [4, 6]), nums(p, "begin"), nums(p, "size"));
cases["select/middle"] = ([x], p) => select(x, num(p, "axis"), num(p, "index"));
cases["select/negative"] = ([x], p) => select(x, num(p, "axis"), num(p, "index"));
cases["unbind/firstTimesLast"] = ([x], p) => {
  const parts = unbind(x, num(p, "axis"));
  return mul(parts[0], parts[2]);
};
cases["expand/basic"] = ([x], p) => expand(x, nums(p, "shape"));
cases["expand/middle"] = ([x], p) => expand(x, nums(p, "shape"));
cases["sumTo/basic"] = ([x], p) => sumTo(x, nums(p, "shape"));
cases["squeeze/all"] = ([x]) => squeeze(x);
cases["squeeze/axes"] = ([x], p) => squeeze(x, nums(p, "axes"));
cases["unsqueeze/middle"] = ([x], p) => unsqueeze(x, num(p, "axis"));
cases["unsqueeze/last"] = ([x], p) => unsqueeze(x, num(p, "axis"));
cases["contiguous/ofPermute"] = ([x], p) => contiguous(permute(x, nums(p, "perm")));
cases["concat/axis0"] = (xs, p) => concat(xs, num(p, "axis"));
cases["concat/lastThree"] = (xs, p) => concat(xs, num(p, "axis"));
cases["stack/axis0"] = (xs, p) => stack(xs, num(p, "axis"));
cases["stack/last"] = (xs, p) => stack(xs, num(p, "axis"));

// ---- fused NN ops -------------------------------------------------------------------------

cases["softmax/last"] = ([x]) => softmax(x);
cases["softmax/axis0"] = ([x], p) => softmax(x, num(p, "axis"));
cases["softmax/large"] = ([x]) => softmax(x);
cases["logSoftmax/last"] = ([x]) => logSoftmax(x);
cases["logSoftmax/axis1"] = ([x], p) => logSoftmax(x, num(p, "axis"));
cases["logSoftmax/large"] = ([x]) => logSoftmax(x);

const crossEntropyCase: OpCase = ([logits, targets], p) =>
  crossEntropy(logits, targets, {
    reduction: p.reduction as "mean" | "sum" | "none",
    ignoreIndex: p.ignoreIndex as number | undefined,
  });
for (const v of ["mean", "meanIgnored", "sumIgnored", "noneIgnored", "customIgnore"]) {
  cases[`crossEntropy/${v}`] = crossEntropyCase;
}

cases["layerNorm/basic"] = ([x, w, b]) => layerNorm(x, w, b);
cases["layerNorm/eps"] = ([x, w, b], p) => layerNorm(x, w, b, num(p, "eps"));
cases["rmsNorm/basic"] = ([x, w]) => rmsNorm(x, w);
cases["rmsNorm/eps"] = ([x, w], p) => rmsNorm(x, w, num(p, "eps"));
cases["gather/last"] = ([x, index], p) => gather(x, index, num(p, "axis"));
cases["gather/axis0"] = ([x, index], p) => gather(x, index, num(p, "axis"));
cases["gather/smallerIndex"] = ([x, index], p) => gather(x, index, num(p, "axis"));
cases["embedding/repeats"] = ([weight, ids]) => embedding(weight, ids);
cases["tokenLogProbs/basic"] = ([logits, labels]) => tokenLogProbs(logits, labels);

cases["linear/weightOutIn"] = ([x, w, b]) => linear(x, w, b);
cases["linear/conv1dInOut"] = ([x, w, b], p) => linear(x, w, b, { transB: p.transB as boolean });
cases["lmHeadLogProbs/basic"] = ([h, w, labels]) => lmHeadLogProbs(h, w, labels);
cases["lmHeadLogProbs/scaleIgnoreChunked"] = ([h, w, labels], p) =>
  lmHeadLogProbs(h, w, labels, {
    scale: num(p, "scale"),
    ignoreIndex: num(p, "ignoreIndex"),
    chunkRows: num(p, "chunkRows"),
  });
cases["lmHeadCrossEntropy/meanIgnoredChunked"] = ([h, w, labels], p) =>
  lmHeadCrossEntropy(h, w, labels, { chunkRows: num(p, "chunkRows") });
cases["attention/plain"] = ([q, k, v]) => attention(q, k, v);
cases["attention/causal"] = ([q, k, v], p) => attention(q, k, v, { causal: p.causal as boolean });
cases["attention/padMask"] = ([q, k, v, mask]) => attention(q, k, v, { mask });
cases["attention/causalPadScale"] = ([q, k, v, mask], p) =>
  attention(q, k, v, { causal: p.causal as boolean, mask, scale: num(p, "scale") });
cases["attention/leftPadCausal"] = ([q, k, v, mask], p) =>
  attention(q, k, v, { causal: p.causal as boolean, mask });
cases["attention/causalKvCache"] = ([q, k, v], p) =>
  attention(q, k, v, { causal: p.causal as boolean });

cases["maskedMean/all"] = ([x, m]) => maskedMean(x, m);
cases["maskedMean/axis1"] = ([x, m], p) => maskedMean(x, m, num(p, "axis"));
cases["maskedVar/unbiased"] = ([x, m]) => maskedVar(x, m);
cases["maskedVar/biased"] = ([x, m], p) => maskedVar(x, m, p.unbiased as boolean);
cases["maskedWhiten/shift"] = ([x, m]) => maskedWhiten(x, m);
cases["maskedWhiten/keepMean"] = ([x, m], p) => maskedWhiten(x, m, p.shiftMean as boolean);

for (const v of ["topK1", "topPTiny"]) {
  cases[`sampleTokens/${v}`] = ([logits], p) =>
    sampleTokens(logits, {
      temperature: p.temperature as number | undefined,
      topK: p.topK as number | undefined,
      topP: p.topP as number | undefined,
      seed: num(p, "seed"),
    });
}

cases["dropout/p0Training"] = ([x], p) =>
  dropout(x, num(p, "p"), { training: p.training as boolean });
cases["dropout/eval"] = ([x], p) => dropout(x, num(p, "p"), { training: p.training as boolean });

/** Every TypeScript golden case, by fixture name. */
export const opCases: Readonly<Record<string, OpCase>> = cases;

/** The op (API name) a case exercises: the part of its name before the slash. */
export function opOfCase(name: string): string {
  return name.slice(0, name.indexOf("/"));
}
