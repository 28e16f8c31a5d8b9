/**
 * The op suite, written once and run per backend: every case of tests/fixtures/op_golden.json
 * (PyTorch float64, from tools/gen_op_golden.py) runs through our op on the given backend, and its
 * output and every input gradient are compared with the fixture.
 *
 * Error metric, per tensor: max_i |a_i − e_i| / max(|e_i|, 0.01·max_j|e_j|, 1e-6). That is an
 * elementwise relative error, except that entries far smaller than the tensor's largest one (zeros
 * by cancellation, saturated tails) are judged against 1% of that scale instead of against ~0,
 * which no f32 computation could meet. A case passes when every tensor's error is <= the backend's
 * tolerance: 1e-4 by default (f32 backends); the f64 reference backend is held to 1e-9.
 */

import golden from "../fixtures/op_golden.json" with { type: "json" };
import {
  findKernel,
  type Kernel,
  kernelsFor,
  memory,
  registerKernel,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { type OpCase, opCases, opOfCase } from "./op_cases.ts";

/** A tensor as the fixture stores it. */
export interface GoldenTensor {
  /** Shape. */
  shape: number[];
  /** Values, row-major. */
  values: number[];
}

/** One fixture input. */
export interface GoldenInput extends GoldenTensor {
  /** The input's name in the PyTorch reference. */
  name: string;
  /** Whether the fixture holds a gradient for it. */
  grad: boolean;
}

/** One golden case. */
export interface GoldenCase {
  /** Parameters both sides read (axes, flags, number operands). */
  params: Record<string, unknown>;
  /** Inputs in call order. */
  inputs: GoldenInput[];
  /** The expected output. */
  output: GoldenTensor;
  /** The upstream gradient fed to backward, when any input takes a gradient. */
  seed?: GoldenTensor;
  /** Expected gradient per input (null for inputs without one). */
  grads?: (GoldenTensor | null)[];
  /** Why finite differences must skip this case (it sits on a kink). */
  noGradcheck?: string;
}

/** The fixture file. */
export interface GoldenFile {
  /** Generator script. */
  generator: string;
  /** PyTorch version that produced it. */
  torch: string;
  /** Masked-score value the attention reference used. */
  attentionMaskValue: number;
  /** Cases by name. */
  cases: Record<string, GoldenCase>;
}

/** The parsed fixture. */
export const goldenFile: GoldenFile = golden as unknown as GoldenFile;

/** Golden cases by name. */
export const goldenCases: Readonly<Record<string, GoldenCase>> = goldenFile.cases;

/** Tolerance of f32 backends (relative, see the metric above). */
export const F32_TOLERANCE = 1e-4;

/** Options of `defineOpSuite`. */
export interface OpSuiteOptions {
  /** Largest allowed error (metric above); default `F32_TOLERANCE`. */
  tolerance?: number;
  /** Reads a tensor back (default `t.toArray()`); cpu64 passes an f64 reader. */
  read?: (t: Tensor) => Promise<ArrayLike<number>> | ArrayLike<number>;
  /** Only run cases whose name matches (for debugging one op). */
  filter?: RegExp;
}

/** The error metric of this suite (see the module comment). */
export function goldenError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = Math.max(0.01 * scale, 1e-6);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

function fmt(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

function firstMismatch(a: ArrayLike<number>, e: ArrayLike<number>): string {
  let worstI = 0, worstD = -1;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (!(d <= worstD)) [worstI, worstD] = [i, Number.isNaN(d) ? Infinity : d];
  }
  return `largest difference at element ${worstI}: got ${a[worstI]}, expected ${e[worstI]}`;
}

/** Throws unless `actual` matches the golden tensor within `tolerance`. */
export function assertGolden(
  what: string,
  actualShape: readonly number[],
  actual: ArrayLike<number>,
  expected: GoldenTensor,
  tolerance: number,
): void {
  if (fmt(actualShape) !== fmt(expected.shape)) {
    throw new Error(`${what}: shape ${fmt(actualShape)}, expected ${fmt(expected.shape)}`);
  }
  const err = goldenError(actual, expected.values);
  if (!(err <= tolerance)) {
    throw new Error(
      `${what}: error ${err.toExponential(3)} exceeds ${tolerance} (${
        firstMismatch(actual, expected.values)
      })`,
    );
  }
}

/** The TS implementation of a fixture case, or a clear error naming the missing side. */
export function caseFn(name: string): OpCase {
  const fn = opCases[name];
  if (!fn) {
    throw new Error(
      `golden case '${name}' has no TypeScript implementation in tests/core/op_cases.ts`,
    );
  }
  return fn;
}

/** Runs one golden case on `backend` and checks its output, gradients and that nothing leaked. */
export async function runGoldenCase(
  name: string,
  backend: string,
  opts: OpSuiteOptions = {},
): Promise<void> {
  const c = goldenCases[name];
  const fn = caseFn(name);
  const tolerance = opts.tolerance ?? F32_TOLERANCE;
  const read = opts.read ?? ((t: Tensor) => t.toArray());
  const before = memory().tensors;

  // Forward and backward in one scope: intermediates go when it ends, out and inputs survive.
  const [out, ...xs] = tidy(() => {
    const xs = c.inputs.map((x) =>
      tensor(x.values, x.shape, { backend, requiresGrad: x.grad && c.seed !== undefined })
    );
    const out = fn(xs, c.params);
    if (c.seed) out.backward(tensor(c.seed.values, c.seed.shape, { backend }));
    return [out, ...xs];
  });
  try {
    if (out.backend.name !== backend) {
      throw new Error(`${name}: output is on '${out.backend.name}', expected '${backend}'`);
    }
    assertGolden(`${name} output`, out.shape, await read(out), c.output, tolerance);
    for (let i = 0; i < xs.length; i++) {
      const expected = c.grads?.[i];
      const g = xs[i].grad;
      const label = `${name} gradient of input ${i} '${c.inputs[i].name}'`;
      if (!expected) {
        if (g) throw new Error(`${label}: got a gradient where PyTorch has none`);
        continue;
      }
      if (!g) throw new Error(`${label}: no gradient reached it`);
      assertGolden(label, g.shape, await read(g), expected, tolerance);
    }
  } finally {
    out.dispose();
    for (const x of xs) x.dispose();
  }
  const after = memory().tensors;
  if (after !== before) {
    throw new Error(`${name}: ${after - before} tensor(s) leaked by the forward + backward`);
  }
}

/**
 * Registers the op suite for `backend`: one Deno test per golden case, plus the check that the
 * fixture and tests/core/op_cases.ts name the same cases.
 */
export function defineOpSuite(backend: string, opts: OpSuiteOptions = {}): void {
  Deno.test(`ops[${backend}]: fixture and TypeScript cases match`, () => {
    const fixture = new Set(Object.keys(goldenCases));
    const ours = new Set(Object.keys(opCases));
    const noTs = [...fixture].filter((n) => !ours.has(n));
    const noFixture = [...ours].filter((n) => !fixture.has(n));
    if (noTs.length || noFixture.length) {
      throw new Error(
        `fixture cases without a TS implementation: ${noTs.join(", ") || "none"}; ` +
          `TS cases without a fixture (rerun tools/gen_op_golden.py?): ` +
          `${noFixture.join(", ") || "none"}`,
      );
    }
  });
  for (const name of Object.keys(goldenCases)) {
    if (opts.filter && !opts.filter.test(name)) continue;
    Deno.test(`ops[${backend}]: ${name}`, () => runGoldenCase(name, backend, opts));
  }
}

/**
 * Kernels with no golden case of their own, each with the golden case whose forward + backward
 * must dispatch it (the coverage test checks that it does).
 */
export const INTERNAL_KERNELS: Readonly<Record<string, string>> = {
  stridedCopy: "reshape/ofTranspose",
  sliceGrad: "slice/basic",
  geluGrad: "gelu/basic",
  geluTanhGrad: "geluTanh/basic",
  clampGrad: "clamp/both",
  softmaxGrad: "softmax/last",
  logSoftmaxGrad: "logSoftmax/last",
  crossEntropyGrad: "crossEntropy/meanIgnored",
  tokenLogProbsGrad: "tokenLogProbs/basic",
  layerNormGrad: "layerNorm/basic",
  rmsNormGrad: "rmsNorm/basic",
  scatterAdd: "gather/last",
  embeddingGrad: "embedding/repeats",
  attentionGrad: "attention/causalPadScale",
};

/** Kernels that are not tensor ops (parameter updates), with the test that covers them. */
export const KERNELS_TESTED_ELSEWHERE: Readonly<Record<string, string>> = {
  adamw: "tests/core/optim.test.ts (AdamW steps against torch.optim)",
  sgd: "tests/core/optim.test.ts (SGD steps against torch.optim)",
  rmsprop: "tests/core/rmsprop.test.ts (RMSprop steps against torch.optim)",
  assign: "tests/core/optim.test.ts (in-place parameter and state writes)",
};

/** Extra allow-list entries a backend with kernels of its own passes to the coverage test. */
export interface CoverageOptions extends OpSuiteOptions {
  /** More internal kernels: kernel name → golden case that dispatches it. */
  internal?: Readonly<Record<string, string>>;
  /** More non-op kernels: kernel name → where they are tested. */
  elsewhere?: Readonly<Record<string, string>>;
}

/**
 * Registers the kernel coverage test for `backend`: every kernel registered there must be the op
 * of a golden case or an allow-listed kernel, and running all golden cases (forward and backward)
 * must dispatch every op kernel, each internal kernel through its named case.
 */
export function defineKernelCoverage(backend: string, opts: CoverageOptions = {}): void {
  Deno.test(`ops[${backend}]: every kernel is covered by a golden case`, async () => {
    const internal = { ...INTERNAL_KERNELS, ...opts.internal };
    const elsewhere = { ...KERNELS_TESTED_ELSEWHERE, ...opts.elsewhere };
    const kernels = kernelsFor(backend);
    const caseOps = new Set(Object.keys(goldenCases).map(opOfCase));
    const unlisted = kernels.filter((k) =>
      !caseOps.has(k) && !(k in internal) && !(k in elsewhere)
    );
    const stale = [...Object.keys(internal), ...Object.keys(elsewhere)].filter(
      (k) => !kernels.includes(k),
    );

    // Record which kernels each case dispatches by wrapping every kernel for the duration.
    const hits = new Map<string, Set<string>>();
    let current = "";
    const originals = new Map<string, Kernel>();
    for (const k of kernels) {
      const original = findKernel(k, backend)!;
      originals.set(k, original);
      registerKernel(k, backend, (inputs, outputs, attrs, b) => {
        hits.get(current)?.add(k);
        original(inputs, outputs, attrs, b);
      });
    }
    try {
      for (const name of Object.keys(goldenCases)) {
        current = name;
        hits.set(name, new Set());
        await runGoldenCase(name, backend, opts);
      }
    } finally {
      for (const [k, original] of originals) registerKernel(k, backend, original);
    }

    const problems: string[] = [];
    if (unlisted.length) {
      problems.push(
        `kernels with neither a golden case nor an allow-list entry: ${unlisted.join(", ")}`,
      );
    }
    if (stale.length) problems.push(`allow-listed kernels not registered: ${stale.join(", ")}`);
    for (const k of kernels) {
      if (caseOps.has(k)) {
        const own = [...hits].filter(([name, ks]) => opOfCase(name) === k && ks.has(k));
        if (!own.length) problems.push(`no '${k}/...' golden case dispatches the '${k}' kernel`);
      } else if (k in internal && !hits.get(internal[k])?.has(k)) {
        problems.push(`golden case '${internal[k]}' does not dispatch internal kernel '${k}'`);
      }
    }
    if (problems.length) throw new Error(problems.join("; "));
  });
}
