/**
 * Leak tests: `memory()` (tensors, storages, bytes) must be exactly flat across training steps,
 * and a step that lets one tensor escape its scope must be caught by the same check.
 */

import assert from "node:assert/strict";
import {
  crossEntropy,
  Generator,
  keep,
  memory,
  type MemoryInfo,
  mul,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { Linear, ReLU, Sequential } from "../../core/nn/mod.ts";
import { AdamW, clipGradNorm } from "../../core/optim/mod.ts";

/** Runs `step` `n` times after one warm-up and throws at the first step that changes memory(). */
function assertFlatAcross(n: number, step: () => void): MemoryInfo {
  step(); // the warm-up allocates the optimizer's moments
  const base = memory();
  for (let i = 1; i <= n; i++) {
    step();
    const now = memory();
    assert.deepEqual(now, base, `memory() changed at step ${i}: ${JSON.stringify(now)} vs base`);
  }
  return base;
}

function setup(seed: number) {
  const g = new Generator(seed);
  const model = new Sequential(
    new Linear(6, 16, { generator: g }),
    new ReLU(),
    new Linear(16, 3, { generator: g }),
  );
  const x = keep(tensor(g.normal(8 * 6), [8, 6]));
  const targets = keep(tensor([0, 1, 2, 0, 1, 2, 0, 1], [8]));
  const opt = new AdamW(model.parameters(), { lr: 0.02 });
  const dispose = () => {
    opt.dispose();
    model.dispose();
    x.dispose();
    targets.dispose();
  };
  return { model, x, targets, opt, dispose };
}

Deno.test("memory() is exactly flat across 50 training steps", () => {
  const start = memory();
  const { model, x, targets, opt, dispose } = setup(1);
  const losses: number[] = [];
  assertFlatAcross(50, () =>
    tidy(() => {
      const loss = crossEntropy(model.forward(x), targets);
      loss.backward();
      clipGradNorm(model.parameters(), 1.0);
      opt.step();
      opt.zeroGrad();
      losses.push(loss.itemSync());
    }));
  assert.ok(
    losses[losses.length - 1] < 0.5 * losses[0],
    `the steps really train: loss ${losses[0]} → ${losses[losses.length - 1]}`,
  );
  dispose();
  assert.deepEqual(memory(), start, "disposing the model and optimizer frees everything");
});

Deno.test("a step that lets a tensor escape its scope is caught", () => {
  const { model, x, targets, opt, dispose } = setup(2);
  const escaped: Tensor[] = [];
  const leakyStep = () => {
    // Returning an extra tensor out of tidy hands it to the caller, who forgets to dispose it.
    const [, extra] = tidy(() => {
      const loss = crossEntropy(model.forward(x), targets);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return [loss.itemSync(), mul(loss, 2)] as const;
    });
    escaped.push(extra);
  };
  assert.throws(() => assertFlatAcross(5, leakyStep), /memory\(\) changed at step 1/);
  const before = memory();
  leakyStep();
  const after = memory();
  assert.equal(after.tensors - before.tensors, 1, "exactly one tensor escaped");
  assert.equal(after.bytes - before.bytes, 4, "one f32 scalar's worth of bytes");
  for (const t of escaped) t.dispose();
  dispose();
});
