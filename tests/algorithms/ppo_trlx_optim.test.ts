// trlX's optimizer and scheduler by name: the kwargs reach the core's optimizers under torch's
// meaning, and an AdamW built from a trlX config steps exactly as one built directly.

import assert from "node:assert/strict";
import { mul, sum, tensor, tidy } from "../../core/mod.ts";
import { AdamW, SGD } from "../../core/optim/mod.ts";
import { parseTrlxConfig } from "../../algorithms/ppo_trlx/config.ts";
import { trlxOptimizer, trlxScheduler } from "../../algorithms/ppo_trlx/optim.ts";

Deno.test("trlX optimizer: default_ppo_config's AdamW steps exactly as core AdamW with its kwargs", async () => {
  const config = parseTrlxConfig({});
  const make = () => tensor([0.5, -1.25, 2], undefined, { requiresGrad: true });
  const a = make(), b = make();
  const viaConfig = trlxOptimizer([a], config.optimizer);
  const direct = new AdamW([b], { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 1e-6 });
  assert.ok(viaConfig instanceof AdamW);
  const sched = trlxScheduler(viaConfig, config.scheduler);
  for (let step = 0; step < 3; step++) {
    for (const [p, opt] of [[a, viaConfig], [b, direct]] as const) {
      tidy(() => sum(mul(p, p)).backward());
      opt.step();
      opt.zeroGrad();
    }
    sched.step();
    // eta_min = lr: the cosine schedule never moves the lr.
    assert.equal(sched.lastLr()[0], 3e-5);
  }
  assert.deepEqual(await a.toArray(), await b.toArray());
  assert.notDeepEqual(await a.toArray(), [0.5, -1.25, 2]);
});

Deno.test("trlX optimizer: sgd and adam kwargs map to torch's meaning; torch defaults fill the rest", () => {
  const p = [tensor([1], undefined, { requiresGrad: true })];
  const sgd = trlxOptimizer(p, {
    name: "sgd",
    kwargs: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01 },
  });
  assert.ok(sgd instanceof SGD);
  const g = sgd.paramGroups[0];
  assert.deepEqual([g.lr, g.momentum, g.nesterov, g.weightDecay, g.dampening], [
    0.1,
    0.9,
    true,
    0.01,
    0,
  ]);
  const adam = trlxOptimizer(p, { name: "adam", kwargs: { lr: 1e-4 } });
  const h = adam.paramGroups[0];
  assert.deepEqual([h.lr, h.betas, h.eps, h.weightDecay], [1e-4, [0.9, 0.999], 1e-8, 0]);
  assert.throws(
    () => trlxOptimizer(p, { name: "adamw", kwargs: { lr: 1e-4, amsgrad: true } }),
    /optimizer\.kwargs\.amsgrad/,
  );
});

Deno.test("trlX scheduler: linear with torch's defaults (1/3 → 1 over 5 steps)", () => {
  const opt = trlxOptimizer([tensor([1], undefined, { requiresGrad: true })], {
    name: "adamw",
    kwargs: { lr: 3e-3 },
  });
  const sched = trlxScheduler(opt, { name: "linear", kwargs: {} });
  const lrs = [sched.lastLr()[0]];
  for (let i = 0; i < 6; i++) {
    sched.step();
    lrs.push(sched.lastLr()[0]);
  }
  // The multiplier climbs by (1 − 1/3)/5 = 2/15 a step: 5/15, 7/15, …, 15/15, then stays.
  const expected = [5, 7, 9, 11, 13, 15, 15].map((k) => (k / 15) * 3e-3);
  lrs.forEach((lr, i) => assert.ok(Math.abs(lr - expected[i]) < 1e-15, `${i}: ${lr}`));
});
