/**
 * The fused LM-head log-prob path against the unfused one (full logits, then tokenLogProbs or
 * crossEntropy) on one backend: values and the gradients of hidden and weight within 1e-5 of
 * the larger magnitude, over several chunks and with ignored labels. Used by the cpu and webgpu
 * test files.
 */

import assert from "node:assert/strict";
import {
  crossEntropy,
  Generator,
  lmHeadCrossEntropy,
  lmHeadLogProbs,
  lmHeadLogProbsAndEntropy,
  logSoftmax,
  matmul,
  mul,
  neg,
  sum,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import { exp } from "../../core/mod.ts";

/** The tolerance the fused path is held to, relative to each tensor's largest magnitude. */
export const FUSED_TOLERANCE = 1e-5;

/** max |a − e| / max |e|. */
export function scaledError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  assert.equal(a.length, e.length);
  let scale = 0, worst = 0;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  return worst / Math.max(scale, 1e-30);
}

/** Inputs of one comparison: hidden [B, T, D], weight [V, D], labels [B, T], seed [B, T]. */
export interface LmHeadProblem {
  hidden: Float32Array;
  weight: Float32Array;
  labels: number[];
  seed: Float32Array;
  shape: [number, number, number];
  vocab: number;
}

/** A seeded problem; every third label of row 0 is −100 when `ignored`. */
export function lmHeadProblem(b: number, t: number, d: number, vocab: number): LmHeadProblem {
  const g = new Generator(7);
  return {
    hidden: Float32Array.from(g.normal(b * t * d, 0, 1)),
    weight: Float32Array.from(g.normal(vocab * d, 0, 0.5)),
    labels: Array.from({ length: b * t }, () => g.int(vocab)),
    seed: Float32Array.from(g.normal(b * t, 0, 1)),
    shape: [b, t, d],
    vocab,
  };
}

interface Result {
  out: Float32Array;
  dHidden: Float32Array;
  dWeight: Float32Array;
}

/** Runs `f` on fresh leaves and returns its output and the two gradients. */
export async function run(
  p: LmHeadProblem,
  backend: string,
  f: (h: Tensor, w: Tensor, labels: Tensor) => Tensor,
  labels: number[] = p.labels,
): Promise<Result> {
  const [b, t, d] = p.shape;
  const h = tensor(p.hidden, [b, t, d], { backend, requiresGrad: true });
  const w = tensor(p.weight, [p.vocab, d], { backend, requiresGrad: true });
  const y = tensor(labels, [b, t], { backend });
  const seed = tensor(p.seed, [b, t], { backend });
  const out = tidy(() => {
    const o = f(h, w, y);
    const loss = o.size === 1 ? o : sum(mul(o, seed));
    loss.backward();
    return o;
  });
  const r = {
    out: await out.toArray(),
    dHidden: await h.grad!.toArray(),
    dWeight: await w.grad!.toArray(),
  };
  for (const x of [h, w, y, seed, out]) x.dispose();
  return r;
}

/** Asserts two results agree within FUSED_TOLERANCE, naming the tensor that does not. */
export function assertClose(fused: Result, unfused: Result, what: string): void {
  for (const k of ["out", "dHidden", "dWeight"] as const) {
    const err = scaledError(fused[k], unfused[k]);
    assert.ok(err <= FUSED_TOLERANCE, `${what}: ${k} differs by ${err.toExponential(2)}`);
  }
}

/** The unfused reference: full logits (times `scale`), then tokenLogProbs. */
export function unfusedLogProbs(scale = 1) {
  return (h: Tensor, w: Tensor, y: Tensor) =>
    tokenLogProbs(
      scale === 1 ? matmul(h, w, { transB: true }) : mul(matmul(h, w, { transB: true }), scale),
      y,
    );
}

/** The unfused entropy −Σ p log p of the full logits. */
export async function unfusedEntropy(p: LmHeadProblem, backend: string): Promise<Float32Array> {
  const [b, t, d] = p.shape;
  const h = tensor(p.hidden, [b, t, d], { backend });
  const w = tensor(p.weight, [p.vocab, d], { backend });
  const e = tidy(() => {
    const lp = logSoftmax(matmul(h, w, { transB: true }));
    return neg(sum(mul(exp(lp), lp), { axis: -1 }));
  });
  const out = await e.toArray();
  for (const x of [h, w, e]) x.dispose();
  return out;
}

/** Registers the comparisons for `backend` through `define` (Deno.test or gpuTest). */
export function defineLmHeadSuite(
  backend: string,
  define: (name: string, fn: () => Promise<void>) => void,
): void {
  // 3 × 37 rows over chunks of 16: seven chunks, the last one short.
  const p = lmHeadProblem(3, 37, 24, 500);

  define(
    `lmHeadLogProbs[${backend}]: matches full logits + tokenLogProbs over 7 chunks`,
    async () => {
      const fused = await run(p, backend, (h, w, y) => lmHeadLogProbs(h, w, y, { chunkRows: 16 }));
      assertClose(fused, await run(p, backend, unfusedLogProbs()), "chunked");
      const whole = await run(p, backend, (h, w, y) => lmHeadLogProbs(h, w, y));
      assertClose(whole, await run(p, backend, unfusedLogProbs()), "one chunk");
    },
  );

  define(`lmHeadLogProbs[${backend}]: temperature scale and ignored labels`, async () => {
    const labels = p.labels.map((v, i) => (i % 5 === 2 ? -100 : v));
    const scale = 1 / 0.7;
    const fused = await run(
      p,
      backend,
      (h, w, y) => lmHeadLogProbs(h, w, y, { scale, ignoreIndex: -100, chunkRows: 10 }),
      labels,
    );
    // Unfused: ignored rows scored on label 0 and multiplied by 0.
    const keep = labels.map((v) => (v === -100 ? 0 : 1));
    const unfused = await run(
      p,
      backend,
      (h, w, y) =>
        mul(
          unfusedLogProbs(scale)(
            h,
            w,
            tensor(labels.map((v) => Math.max(v, 0)), y.shape, { backend }),
          ),
          tensor(keep, y.shape, { backend }),
        ),
      labels,
    );
    assertClose(fused, unfused, "scale + ignoreIndex");
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === -100) assert.equal(Math.abs(fused.out[i]), 0);
    }
  });

  define(`lmHeadCrossEntropy[${backend}]: matches crossEntropy on the full logits`, async () => {
    const labels = p.labels.map((v, i) => (i % 7 === 0 ? -100 : v));
    for (const reduction of ["mean", "sum", "none"] as const) {
      const fused = await run(
        p,
        backend,
        (h, w, y) => lmHeadCrossEntropy(h, w, y, { reduction, chunkRows: 20 }),
        labels,
      );
      const unfused = await run(
        p,
        backend,
        (h, w, y) => crossEntropy(matmul(h, w, { transB: true }), y, { reduction }),
        labels,
      );
      assertClose(fused, unfused, `reduction ${reduction}`);
    }
  });

  define(`lmHeadLogProbsAndEntropy[${backend}]: entropy of the full distribution`, async () => {
    const [b, t, d] = p.shape;
    const h = tensor(p.hidden, [b, t, d], { backend });
    const w = tensor(p.weight, [p.vocab, d], { backend });
    const y = tensor(p.labels, [b, t], { backend });
    const { logprobs, entropy } = lmHeadLogProbsAndEntropy(h, w, y, { chunkRows: 16 });
    const err = scaledError(await entropy.toArray(), await unfusedEntropy(p, backend));
    assert.ok(err <= FUSED_TOLERANCE, `entropy differs by ${err.toExponential(2)}`);
    const lp = await logprobs.toArray();
    const ref = tidy(() => unfusedLogProbs()(h, w, y));
    assert.ok(scaledError(lp, await ref.toArray()) <= FUSED_TOLERANCE);
    for (const x of [h, w, y, logprobs, entropy, ref]) x.dispose();
  });
}
