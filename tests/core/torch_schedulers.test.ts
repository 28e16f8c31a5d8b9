// CosineAnnealingLR and LinearLR against the learning rates torch 1.13's own schedulers set
// (tests/fixtures/optim/torch_schedulers.json, from tools/gen_torch_schedulers.py).

import assert from "node:assert/strict";
import { zeros } from "../../core/mod.ts";
import { CosineAnnealingLR, LinearLR, SGD } from "../../core/optim/mod.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/optim/torch_schedulers.json", import.meta.url)),
);

for (const c of fixture.cases) {
  Deno.test(`${c.name} ${JSON.stringify(c.kwargs)} matches torch's lr at every step`, () => {
    const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: c.lr });
    const sched = c.name === "cosine_annealing"
      ? new CosineAnnealingLR(opt, { tMax: c.kwargs.T_max, etaMin: c.kwargs.eta_min })
      : new LinearLR(opt, {
        startFactor: c.kwargs.start_factor,
        endFactor: c.kwargs.end_factor,
        totalIters: c.kwargs.total_iters,
      });
    (c.lrs as number[]).forEach((expected, step) => {
      if (step > 0) sched.step();
      const got = sched.lastLr()[0];
      // torch's recursion and our closed form agree to rounding.
      assert.ok(
        Math.abs(got - expected) <= 1e-12 * Math.abs(c.lr),
        `step ${step}: ${got} vs torch ${expected}`,
      );
    });
    // Resuming from the step count alone lands on the same lr.
    const opt2 = new SGD([zeros([1], { requiresGrad: true })], { lr: c.lr });
    const sched2 = c.name === "cosine_annealing"
      ? new CosineAnnealingLR(opt2, { tMax: c.kwargs.T_max, etaMin: c.kwargs.eta_min })
      : new LinearLR(opt2, {
        startFactor: c.kwargs.start_factor,
        endFactor: c.kwargs.end_factor,
        totalIters: c.kwargs.total_iters,
      });
    sched2.loadStateDict(sched.stateDict());
    assert.equal(sched2.lastLr()[0], sched.lastLr()[0]);
  });
}

Deno.test("CosineAnnealingLR and LinearLR reject bad settings by name", () => {
  const opt = () => new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1 });
  assert.throws(() => new CosineAnnealingLR(opt(), { tMax: 0 }), /tMax \(T_max\) must be > 0/);
  assert.throws(() => new LinearLR(opt(), { startFactor: 0 }), /startFactor \(start_factor\)/);
  assert.throws(() => new LinearLR(opt(), { totalIters: 1.5 }), /totalIters \(total_iters\)/);
});
