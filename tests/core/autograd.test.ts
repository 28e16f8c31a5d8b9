// The tape: accumulation, noGrad/detach, retainGraph, deep graphs, views, and memory scopes.

import assert from "node:assert/strict";
import {
  add,
  detach,
  dispose,
  exp,
  greater,
  keep,
  memory,
  mul,
  noGrad,
  ones,
  permute,
  reshape,
  select,
  slice,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  transpose,
  where,
} from "../../core/mod.ts";

const values = (t: Tensor | null) => {
  assert.ok(t, "expected a gradient");
  return [...t.toArraySync()];
};

function assertClose(actual: number[], expected: number[], tol = 1e-5) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) <= tol, `element ${i}: ${a} vs ${expected[i]}`)
  );
}

Deno.test("autograd: gradients accumulate across backward calls until zeroGrad", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  tidy(() => sum(mul(x, x)).backward());
  assert.deepEqual(values(x.grad), [2, 4, 6]);
  tidy(() => sum(mul(x, 3)).backward());
  assert.deepEqual(values(x.grad), [5, 7, 9]);
  x.zeroGrad();
  assert.equal(x.grad, null);
  x.dispose();
});

Deno.test("autograd: pass-through rules (add, sub) inside a chain keep their gradients alive", () => {
  // Regression: the rule of sub returned dy itself, which backward then disposed.
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  tidy(() => sum(mul(sub(x, 1), 2)).backward());
  assert.deepEqual(values(x.grad), [2, 2, 2]);
  const a = tensor([0, 1], undefined, { requiresGrad: true });
  const b = tensor([1, 0], undefined, { requiresGrad: true });
  tidy(() => sum(mul(add(exp(a), exp(b)), 2)).backward());
  assertClose(values(a.grad), [2, 2 * Math.E]);
  assertClose(values(b.grad), [2 * Math.E, 2]);
  const c = tensor([1, 2], undefined, { requiresGrad: true });
  tidy(() => sum(mul(add(c, c), add(c, 1))).backward()); // d/dc 2c(c+1) = 4c + 2
  assert.deepEqual(values(c.grad), [6, 10]);
  for (const t of [x, a, b, c]) t.dispose();
});

Deno.test("autograd: noGrad records nothing and its results do not propagate", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const frozen = noGrad(() => mul(x, 3));
  assert.equal(frozen.node, null);
  assert.equal(frozen.requiresGrad, false);
  assert.throws(() => sum(frozen).backward(), /does not require grad and was not produced/);
  // d/dx [2x · (3x held constant)] = 6x, not 12x.
  tidy(() => sum(mul(mul(x, 2), frozen)).backward());
  assert.deepEqual(values(x.grad), [6, 12]);
  x.dispose();
  frozen.dispose();
});

Deno.test("autograd: detach shares storage, cuts the tape and can become its own leaf", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const h = mul(x, 3);
  const d = detach(h);
  assert.equal(d.storage, h.storage);
  assert.equal(d.node, null);
  assert.equal(d.requiresGrad, false);
  tidy(() => sum(mul(mul(x, 2), d)).backward());
  assert.deepEqual(values(x.grad), [6, 12]);
  d.requireGrad();
  tidy(() => sum(mul(d, d)).backward());
  assert.deepEqual(values(d.grad), [6, 12]);
  h.dispose();
  assert.deepEqual(values(d), [3, 6], "storage outlives the detached tensor's source");
  for (const t of [x, d]) t.dispose();
});

Deno.test("autograd: retainGraph allows a second pass; without it the tape is released", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const before = memory().tensors;
  // The scope must hold the backward passes: it frees the tape's intermediates when it ends.
  tidy(() => {
    const loss = sum(mul(exp(x), x));
    loss.backward(undefined, { retainGraph: true });
    assert.ok(loss.node, "the tape is still there");
    loss.backward();
    assert.equal(loss.node, null);
    assert.throws(() => loss.backward(), /already freed by an earlier backward\(\).*retainGraph/);
  });
  const once = [1, 2].map((v) => Math.exp(v) * (v + 1));
  assertClose(values(x.grad), once.map((g) => 2 * g), 1e-4);
  x.zeroGrad();
  assert.equal(memory().tensors, before);
  x.dispose();
});

Deno.test("autograd: a 20,000-op chain backpropagates without recursion", () => {
  const x = tensor([1.5], undefined, { requiresGrad: true });
  tidy(() => {
    let y = x;
    for (let i = 0; i < 20_000; i++) y = add(y, x);
    sum(y).backward();
  });
  assert.deepEqual(values(x.grad), [20_001]);
  x.dispose();
});

Deno.test("autograd: a slice of a reshape of a transpose routes gradients to the right elements", () => {
  // x[i,j,k] = 100i + 10j + k with shape [2,3,4]; t = xᵀ(0,2) is [4,3,2]; r = reshape(t, [4,6])
  // holds r[a, 2b + c] = x[c, b, a]; s = r[1:3, 2:5].
  const xs = Array.from({ length: 24 }, (_, n) => n);
  const x = tensor(xs, [2, 3, 4], { requiresGrad: true });
  const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  tidy(() => {
    const s = slice(reshape(transpose(x, 0, 2), [4, 6]), [1, 2], [2, 3]);
    sum(mul(s, w)).backward();
  });
  const expected = new Array(24).fill(0);
  for (let a = 1; a < 3; a++) {
    for (let col = 2; col < 5; col++) {
      const b = Math.floor(col / 2), c = col % 2;
      expected[c * 12 + b * 4 + a] += (a - 1) * 3 + (col - 2) + 1;
    }
  }
  assert.deepEqual(values(x.grad), expected);
  x.dispose();
  w.dispose();
});

Deno.test("autograd: overlapping views of one tensor accumulate into it", () => {
  const x = tensor([1, 2, 3, 4], undefined, { requiresGrad: true });
  tidy(() => {
    const a = sum(slice(x, [0], [3]));
    const b = mul(sum(slice(x, [1], [3])), 2);
    const c = mul(sum(select(reshape(x, [2, 2]), 1, 0)), 10); // 10 (x[0] + x[2])
    add(add(a, b), c).backward();
  });
  assert.deepEqual(values(x.grad), [11, 3, 13, 2]);
  const y = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  tidy(() => {
    const p = permute(y, [1, 0]); // [3,2], a view
    sum(mul(p, p)).backward();
  });
  assert.deepEqual(values(y.grad), [2, 4, 6, 8, 10, 12]);
  x.dispose();
  y.dispose();
});

Deno.test("tidy: frees intermediates, keeps returned and kept tensors, nests", () => {
  const start = memory();
  const x = ones([4]);
  let kept: Tensor | null = null;
  const out = tidy(() => {
    const a = mul(x, 2);
    kept = keep(add(a, 1));
    const inner = tidy(() => add(mul(a, a), 1)); // survives the inner scope only by return
    return { result: add(inner, a), list: [sum(a)] };
  });
  assert.equal(memory().tensors, start.tensors + 4); // x, kept, result, list[0]
  assert.deepEqual(values(out.result), [7, 7, 7, 7]);
  assert.deepEqual(values(kept), [3, 3, 3, 3]);
  for (const t of [x, kept!, out.result, ...out.list]) t.dispose();
  assert.deepEqual(memory(), start);
});

Deno.test("memory: flat across repeated forward/backward steps", () => {
  const w = tensor([0.5, -0.25, 1], [3], { requiresGrad: true });
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const step = () => {
    tidy(() => sum(mul(exp(mul(x, w)), 0.1)).backward());
    w.zeroGrad();
  };
  step();
  const after1 = memory();
  for (let i = 0; i < 5; i++) step();
  assert.deepEqual(memory(), after1);
  w.dispose();
  x.dispose();
});

Deno.test("memory: a `using` declaration disposes at the end of its block", () => {
  const before = memory().tensors;
  {
    using t = ones([8]);
    assert.equal(memory().tensors, before + 1);
    assert.equal(t.size, 8);
  }
  assert.equal(memory().tensors, before);
});

Deno.test("autograd: number operands are freed with their op, recorded or not, outside any scope", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const before = memory().tensors;
  const m = mul(x, 2), g = greater(x, 1.5), w = where(g, m, 1), y = sum(w);
  y.backward();
  dispose([m, g, w, y]);
  // Only x.grad remains: the lifted 2, 1.5 and 1 went with their tape nodes.
  assert.equal(memory().tensors, before + 1);
  const plain = noGrad(() => where(greater(x, 0), 0, 1));
  dispose(plain);
  assert.equal(memory().tensors, before + 2, "the comparison's own output is the caller's");
  x.dispose();
});
