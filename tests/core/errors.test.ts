// Bad input raises errors that name the op, the offending shapes or values, and the way out.

import assert from "node:assert/strict";
import {
  add,
  attention,
  clamp,
  concat,
  crossEntropy,
  div,
  dropout,
  embedding,
  expand,
  gather,
  layerNorm,
  log,
  maskedMean,
  maskedVar,
  matmul,
  memory,
  mul,
  ones,
  permute,
  reshape,
  scalar,
  setBackend,
  slice,
  softmax,
  squeeze,
  sum,
  tensor,
  tidy,
  tokenLogProbs,
  zeros,
} from "../../core/mod.ts";

Deno.test("errors: broadcasting mismatch names the op and both shapes", () => {
  const a = zeros([2, 3]), b = zeros([4]);
  assert.throws(() => add(a, b), /^Error: add: shapes \[2,3\] and \[4\] cannot be broadcast/);
  assert.throws(
    () => mul(zeros([2, 3, 4]), zeros([3, 1, 5])),
    /mul: shapes \[2,3,4\] and \[3,1,5\]/,
  );
});

Deno.test("errors: matmul inner dimensions and ranks", () => {
  assert.throws(
    () => matmul(zeros([2, 3]), zeros([4, 5])),
    /matmul: inner dimensions differ: \[2,3\] @ \[4,5\] \(3 vs 4\)/,
  );
  assert.throws(
    () => matmul(zeros([3, 2]), zeros([4, 5]), { transA: true }),
    /matmul: inner dimensions differ: \[3,2\]ᵀ @ \[4,5\] \(3 vs 4\)/,
  );
  assert.throws(() => matmul(zeros([3]), zeros([3, 2])), /matmul: operands need rank >= 2.*\[3\]/);
  assert.throws(
    () => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])),
    /matmul: shapes \[2\] and \[3\] cannot be broadcast/,
  );
});

Deno.test("errors: concat, stack-like shape mismatches and empty lists", () => {
  assert.throws(
    () => concat([zeros([2, 3]), zeros([2, 4])], 0),
    /concat: tensor 1 has shape \[2,4\], incompatible with \[2,3\] along axis 0/,
  );
  assert.throws(() => concat([]), /concat: needs at least one tensor/);
  assert.throws(() => concat([zeros([2, 3])], 2), /concat: axis 2 is out of range for .*rank 2/);
});

Deno.test("errors: reshape names the shapes and element counts", () => {
  assert.throws(
    () => reshape(zeros([2, 3]), [4, 2]),
    /reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]/,
  );
  assert.throws(
    () => reshape(zeros([2, 3]), [4, -1]),
    /reshape: cannot reshape \[2,3\] into \[4,-1\]/,
  );
});

Deno.test("errors: views out of range", () => {
  const x = zeros([2, 3]);
  assert.throws(() => slice(x, [0, 2], [2, 2]), /slice: axis 1: begin 2 size 2 is outside \[2,3\]/);
  assert.throws(() => slice(x, [0], [1]), /slice: begin \[0\] and size \[1\] must have one entry/);
  assert.throws(() => permute(x, [0, 0]), /permute: \[0,0\] is not a permutation .*\[2,3\]/);
  assert.throws(() => expand(zeros([2, 3]), [4, 3]), /expand: shapes \[2,3\] and \[4,3\]/);
  assert.throws(() => squeeze(x, [0]), /squeeze: axis 0 of \[2,3\] has size 2, not 1/);
  assert.throws(() => sum(x, { axis: 2 }), /sum: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => clamp(x, 1, 0), /clamp: min 1 is greater than max 0/);
});

Deno.test("errors: backward on a non-scalar without a seed names the shape", () => {
  const x = ones([2, 3], { requiresGrad: true });
  const y = mul(x, 2);
  assert.throws(
    () => y.backward(),
    /backward: tensor #\d+ has shape \[2,3\]; a non-scalar needs a seed gradient of the same shape/,
  );
  assert.throws(
    () => y.backward(ones([3, 2])),
    /backward: seed shape \[3,2\] does not match tensor shape \[2,3\]/,
  );
});

Deno.test("errors: use after dispose names the tensor and the op", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  w.name = "layer.weight";
  w.dispose();
  assert.throws(
    () => add(w, 1),
    /add: tensor #\d+ \[2\] 'layer\.weight' was used after dispose\(\)/,
  );
  assert.throws(() => w.toArraySync(), /toArraySync: tensor #\d+ \[2\] 'layer\.weight'/);
  const a = tensor([1, 2]);
  const b = tensor([3, 4]);
  b.dispose();
  assert.throws(() => mul(a, b), /mul \(input 1\): tensor #\d+ \[2\] was used after dispose/);
});

Deno.test("errors: backward through a disposed saved input names the op", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const h = mul(x, 3);
  const loss = sum(mul(h, h));
  h.dispose();
  assert.throws(() => loss.backward(), /backward of 'mul' \(saved input\): tensor #\d+ \[2\]/);
});

Deno.test("errors: backward after a scope freed the tape names the op", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const loss = tidy(() => sum(mul(x, x))); // the scope frees mul's output, which sum saved
  assert.throws(
    () => loss.backward(),
    /backward of 'sum' \(saved input\): tensor #\d+ \[2\] was used after dispose/,
  );
});

Deno.test("errors: a non-finite loss is refused, naming the value and the op", () => {
  const x = scalar(-1, { requiresGrad: true });
  assert.throws(
    () => log(x).backward(),
    /backward: the loss is NaN \(produced by op 'log'\); refusing to backpropagate/,
  );
  const y = scalar(0, { requiresGrad: true });
  assert.throws(() => div(1, y).backward(), /the loss is Infinity \(produced by op 'div'\)/);
  assert.equal(x.grad, null);
});

Deno.test("errors: mixing backends names both and the fix", () => {
  const a = zeros([2], { backend: "cpu" }), b = zeros([2], { backend: "cpu64" });
  assert.throws(
    () => add(a, b),
    /add: inputs live on different backends \('cpu' and 'cpu64'\); move them with toBackend\(\)/,
  );
  assert.throws(
    () => matmul(zeros([2, 2]), zeros([2, 2], { backend: "cpu64" })),
    /matmul: inputs live on different backends/,
  );
  assert.throws(() => setBackend("tpu"), /backend 'tpu' is not registered \(registered: .*cpu/);
});

Deno.test("errors: item and requireGrad misuse", () => {
  assert.throws(
    () => zeros([2]).itemSync(),
    /itemSync: tensor #\d+ has shape \[2\], not one element/,
  );
  const y = mul(ones([2], { requiresGrad: true }), 2);
  assert.throws(
    () => y.requireGrad(),
    /requireGrad: tensor #\d+ was produced by 'mul'; only leaves/,
  );
});

Deno.test("errors: tidy refuses async functions and frees on throw", async () => {
  const before = memory().tensors;
  assert.throws(() => tidy(() => Promise.resolve(1)), /tidy: the function returned a Promise/);
  assert.throws(() =>
    tidy(() => {
      zeros([3]);
      throw new Error("boom");
    }), /boom/);
  assert.equal(memory().tensors, before);
  await Promise.resolve();
});

// ---- index inputs of the NN ops -------------------------------------------------------------

Deno.test("errors: gather rejects out-of-range and non-finite indices, naming them", () => {
  const x = zeros([2, 5]);
  assert.throws(
    () => gather(x, tensor([[0, 5]]), 1),
    /gather: index 5 at position \[0,1\] is not an integer in \[0, 5\)/,
  );
  assert.throws(
    () => gather(x, tensor([[NaN, 1]]), 1),
    /gather: index NaN at position \[0,0\] is not an integer in \[0, 5\)/,
  );
  assert.throws(() => gather(x, tensor([[1.5]]), 1), /gather: index 1\.5 at position \[0,0\]/);
  assert.throws(
    () => gather(x, tensor([0, 1]), 1),
    /gather: index \[2\] must have the rank of x \[2,5\]/,
  );
});

Deno.test("errors: embedding rejects ids outside the table, naming V", () => {
  const w = zeros([4, 3]);
  assert.throws(
    () => embedding(w, tensor([[1, 4]])),
    /embedding: id 4 at position \[0,1\] is not an integer in \[0, 4\); the table has V = 4 rows/,
  );
  assert.throws(() => embedding(w, tensor([-1])), /embedding: id -1 at position \[0\]/);
  assert.throws(() => embedding(w, tensor([Infinity])), /embedding: id Infinity/);
  assert.throws(
    () => embedding(zeros([4]), tensor([0])),
    /embedding: weight must be \[V, D\], got \[4\]/,
  );
});

Deno.test("errors: crossEntropy and tokenLogProbs reject bad targets, naming them", () => {
  const logits = zeros([3, 5]);
  assert.throws(
    () => crossEntropy(logits, tensor([0, 7, 1])),
    /crossEntropy: target 7 at position \[1\] is not an integer in \[0, 5\) and is not ignoreIndex -100/,
  );
  assert.throws(
    () => crossEntropy(logits, tensor([0, NaN, 1])),
    /crossEntropy: target NaN at position \[1\]/,
  );
  assert.throws(
    () => crossEntropy(logits, tensor([0, -100, -1]), { ignoreIndex: -100 }),
    /crossEntropy: target -1 at position \[2\]/,
  );
  assert.throws(
    () => crossEntropy(logits, tensor([0, 1])),
    /crossEntropy: logits \[3,5\] need targets of shape \[3\].*got \[2\]/,
  );
  assert.throws(
    () => crossEntropy(logits, tensor([0, 1, 2]), { reduction: "avg" as "mean" }),
    /crossEntropy: reduction 'avg' is not one of/,
  );
  assert.throws(
    () => tokenLogProbs(logits, tensor([0, 1, 5])),
    /tokenLogProbs: label 5 at position \[2\]/,
  );
});

Deno.test("errors: fused NN ops name their shape requirements", () => {
  assert.throws(
    () => layerNorm(zeros([2, 4]), ones([3]), zeros([4])),
    /layerNorm: x \[2,4\] normalizes its last axis, so weight and bias must be \[4\], got weight \[3\]/,
  );
  assert.throws(() => softmax(scalar(1)), /softmax: needs a tensor of rank >= 1/);
  const q = zeros([1, 2, 3, 4]);
  assert.throws(
    () => attention(q, q, q, { mask: ones([1, 2]) }),
    /attention: mask must be \[B, Tk\] = \[1,3\], got \[1,2\]/,
  );
  assert.throws(
    () => attention(zeros([2, 3, 4]), q, q),
    /attention: q, k and v must be \[B, H, T, D\]/,
  );
  assert.throws(
    () => maskedMean(zeros([2, 3]), ones([3, 2])),
    /maskedMean: mask \[3,2\] must have the shape of values \[2,3\]/,
  );
  assert.throws(() => maskedVar(zeros([2, 3]), zeros([2, 3])), /maskedVar: the mask sums to zero/);
  assert.throws(() => dropout(zeros([2]), 1.5), /dropout: p must be in \[0, 1\], got 1\.5/);
});
