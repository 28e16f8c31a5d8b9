// The fused, chunked LM-head log-probs on the CPU backends: equal to the unfused path within
// 1e-5, never holding a [rows, V] tensor, gradients only where wanted, no leaks.

import assert from "node:assert/strict";
import {
  argmax,
  exp,
  lmHeadLogProbs,
  lmHeadTokenStats,
  logSoftmax,
  matmul,
  memory,
  mul,
  neg,
  profileOps,
  sum,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { defineLmHeadSuite, lmHeadProblem, run, unfusedLogProbs } from "./lm_head_suite.ts";

for (const backend of ["cpu", "cpu64"]) defineLmHeadSuite(backend, Deno.test);

Deno.test("lmHeadLogProbs: forward + backward never hold a [rows, V] tensor", () => {
  const p = lmHeadProblem(4, 50, 16, 2000);
  const rows = 200, logitsBytes = rows * p.vocab * 4;
  const measure = (fused: boolean) =>
    profileOps(() => {
      const h = tensor(p.hidden, [4, 50, 16], { requiresGrad: true });
      const w = tensor(p.weight, [p.vocab, 16]);
      const y = tensor(p.labels, [4, 50]);
      tidy(() => {
        const lp = fused ? lmHeadLogProbs(h, w, y, { chunkRows: 20 }) : unfusedLogProbs()(h, w, y);
        sum(mul(lp, 1)).backward();
      });
      for (const x of [h, w, y]) x.dispose();
    }).profile.peakLiveBytes;
  const fused = measure(true), unfused = measure(false);
  // One chunk's logits (20 × 2000) and their gradient, the weight and the small tensors.
  assert.ok(fused < logitsBytes / 2, `fused peak ${fused} B vs logits ${logitsBytes} B`);
  assert.ok(unfused >= logitsBytes, `the unfused path must hold the logits (${unfused} B)`);
});

Deno.test("lmHeadLogProbs: a frozen head gets no gradient; nothing leaks", async () => {
  const p = lmHeadProblem(2, 9, 8, 30);
  const before = memory();
  const h = tensor(p.hidden.subarray(0, 2 * 9 * 8), [2, 9, 8], { requiresGrad: true });
  const w = tensor(p.weight.subarray(0, 30 * 8), [30, 8]);
  const y = tensor(p.labels.slice(0, 18), [2, 9]);
  tidy(() => sum(lmHeadLogProbs(h, w, y, { chunkRows: 4 })).backward());
  assert.equal(w.grad, null);
  assert.ok(h.grad);
  for (const x of [h, w, y]) x.dispose();
  assert.deepEqual(memory(), before);
  // The comparison helper itself leaves nothing behind either.
  await run(p, "cpu", (hh, ww, yy) => lmHeadLogProbs(hh, ww, yy));
  assert.deepEqual(memory(), before);
});

Deno.test("lmHeadLogProbs: bad shapes, labels and options name the problem", () => {
  const h = tensor(new Float32Array(12), [2, 3, 2]);
  const w = tensor(new Float32Array(10), [5, 2]);
  const y = tensor([[0, 1, 2], [3, 4, 0]]);
  assert.throws(
    () => lmHeadLogProbs(h, tensor(new Float32Array(15), [5, 3]), y),
    /weight must be \[V, D\]/,
  );
  assert.throws(() => lmHeadLogProbs(h, w, tensor([[0, 1]])), /labels must have hidden's shape/);
  assert.throws(
    () => lmHeadLogProbs(h, w, tensor([[0, 1, 5], [0, 0, 0]])),
    /label 5 at position \[0,2\]/,
  );
  assert.throws(
    () => lmHeadLogProbs(h, w, y, { chunkRows: 0 }),
    /chunkRows must be a positive integer/,
  );
  assert.throws(() => lmHeadLogProbs(h, w, y, { scale: 0 }), /scale must be a finite non-zero/);
  for (const x of [h, w, y]) x.dispose();
});

Deno.test("lmHeadTokenStats: argmax and entropy per row equal the full logits', chunk by chunk", () => {
  const p = lmHeadProblem(3, 7, 8, 40);
  const h = tensor(p.hidden.subarray(0, 3 * 7 * 8), [3, 7, 8]);
  const w = tensor(p.weight.subarray(0, 40 * 8), [40, 8]);
  const y = tensor(p.labels.slice(0, 21), [3, 7]);
  tidy(() => {
    const r = lmHeadTokenStats(h, w, y, { argmax: true, entropy: true, chunkRows: 5, scale: 1.3 });
    const logits = mul(matmul(h, w, { transB: true }), 1.3);
    assert.deepEqual(r.argmax!.toArraySync(), argmax(logits, -1).toArraySync());
    const lp = logSoftmax(logits);
    const want = neg(sum(mul(exp(lp), lp), { axis: -1 })).toArraySync();
    const got = r.entropy!.toArraySync();
    got.forEach((v, i) =>
      assert.ok(Math.abs(v - want[i]) <= 1e-5, `entropy ${i}: ${v} vs ${want[i]}`)
    );
    assert.equal(lmHeadTokenStats(h, w, y).argmax, undefined, "only when asked for");
  });
  for (const x of [h, w, y]) x.dispose();
});
