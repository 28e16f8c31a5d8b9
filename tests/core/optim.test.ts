import assert from "node:assert/strict";
import golden from "../fixtures/train_golden.json" with { type: "json" };
import { assertClose, TOL, values } from "./golden_close.ts";
import { add, memory, type Tensor, tensor, tidy } from "../../core/mod.ts";
import {
  Adam,
  AdamW,
  clipGradNorm,
  constantScheduleWithWarmup,
  cosineScheduleWithWarmup,
  LambdaLR,
  linearScheduleWithWarmup,
  type Optimizer,
  SGD,
} from "../../core/optim/mod.ts";

const BACKENDS = ["cpu", "cpu64"] as const;

type Case = (typeof golden.optimizers)["adamw"];
type SgdCase = (typeof golden.optimizers)["sgd_nesterov"];

function runCase(
  backend: string,
  c: Case | SgdCase,
  make: (p: Tensor) => Optimizer<Record<string, unknown>>,
  what: string,
): { p: Tensor; opt: Optimizer<Record<string, unknown>> } {
  const p = tensor(c.param.values, c.param.shape, { backend, requiresGrad: true });
  const storage = p.storage;
  const opt = make(p);
  c.grads.forEach((g, i) => {
    p.grad = tensor(g, c.param.shape, { backend });
    opt.step();
    opt.zeroGrad();
    assertClose(values(p), c.steps[i], TOL[backend as "cpu"], `${what} step ${i + 1}`);
  });
  assert.equal(p.storage, storage, `${what}: the parameter must be updated in its own storage`);
  return { p, opt };
}

for (const backend of BACKENDS) {
  Deno.test(`AdamW matches torch over three steps (${backend})`, () => {
    const c = golden.optimizers.adamw;
    const h = c.hyper;
    const { p, opt } = runCase(backend, c, (p) =>
      new AdamW([p], {
        lr: h.lr,
        betas: [h.betas[0], h.betas[1]],
        eps: h.eps,
        weightDecay: h.weight_decay,
      }), "AdamW");
    const st = opt.stateOf(p)!;
    assert.equal(st.step, 3);
    assertClose(values(st.buffers.expAvg), c.exp_avg, TOL[backend], "AdamW exp_avg");
    assertClose(values(st.buffers.expAvgSq), c.exp_avg_sq, TOL[backend], "AdamW exp_avg_sq");
    opt.dispose();
    p.dispose();
  });

  Deno.test(`Adam with L2 weight decay matches torch over three steps (${backend})`, () => {
    const c = golden.optimizers.adam;
    const h = c.hyper;
    const { p, opt } = runCase(backend, c, (p) =>
      new Adam([p], {
        lr: h.lr,
        betas: [h.betas[0], h.betas[1]],
        eps: h.eps,
        weightDecay: h.weight_decay,
      }), "Adam");
    assertClose(values(opt.stateOf(p)!.buffers.expAvgSq), c.exp_avg_sq, TOL[backend], "Adam v");
    opt.dispose();
    p.dispose();
  });

  for (const name of ["sgd_nesterov", "sgd_dampening", "sgd_plain"] as const) {
    Deno.test(`SGD (${name}) matches torch over three steps (${backend})`, () => {
      const c = golden.optimizers[name] as SgdCase;
      const h = c.hyper;
      const { p, opt } = runCase(backend, c, (p) =>
        new SGD([p], {
          lr: h.lr,
          momentum: h.momentum,
          dampening: h.dampening,
          nesterov: h.nesterov,
          weightDecay: h.weight_decay,
        }), name);
      const buf = opt.stateOf(p)!.buffers.momentumBuffer;
      if (h.momentum === 0) assert.equal(buf, undefined, "plain SGD keeps no momentum buffer");
      else assertClose(values(buf), c.momentum_buffer!, TOL[backend], `${name} momentum`);
      opt.dispose();
      p.dispose();
    });
  }

  Deno.test(`clipGradNorm matches torch.nn.utils.clip_grad_norm_ (${backend})`, () => {
    const g = golden.clip_grad_norm;
    for (const c of g.cases) {
      const ps = g.grads.map((e) =>
        tensor(new Array(e.values.length).fill(0), e.shape, { backend })
      );
      ps.forEach((p, i) => {
        p.requiresGrad = true;
        p.grad = tensor(g.grads[i].values, g.grads[i].shape, { backend });
      });
      const normType = c.norm_type === "inf" ? Infinity : c.norm_type as number;
      const total = clipGradNorm(ps, c.max_norm, normType);
      const what = `clip (max ${c.max_norm}, norm ${c.norm_type})`;
      assertClose(values(total), [c.total_norm], TOL[backend], `${what} total`);
      ps.forEach((p, i) => assertClose(values(p.grad!), c.clipped[i], TOL[backend], what));
      total.dispose();
      ps.forEach((p) => p.dispose());
    }
  });
}

Deno.test("LR schedules match transformers' multipliers under torch's LambdaLR", () => {
  for (const c of golden.schedules) {
    const groups = c.base_lrs.map((lr) => ({
      params: [tensor([0], [1], { requiresGrad: true })],
      lr,
    }));
    const opt = new SGD(groups, { lr: 1 });
    const a = c.args as { warmup: number; total?: number; num_cycles?: number };
    const sched = c.kind === "linear"
      ? linearScheduleWithWarmup(opt, a.warmup, a.total!)
      : c.kind === "cosine"
      ? cosineScheduleWithWarmup(opt, a.warmup, a.total!, a.num_cycles)
      : constantScheduleWithWarmup(opt, a.warmup);
    const what = `${c.kind} ${JSON.stringify(a)}`;
    c.lrs.forEach((expected, step) => {
      if (step > 0) sched.step();
      assert.equal(sched.lastStep, step);
      assertClose(sched.lastLr(), expected, { rtol: 1e-12, atol: 1e-15 }, `${what} step ${step}`);
    });
    groups.forEach((g) => g.params[0].dispose());
  }
});

Deno.test("the optimizer keeps parameter identity and memory flat across steps", () => {
  const p = tensor([1, -2, 3, -4], [2, 2], { requiresGrad: true });
  const { storage, id } = p;
  const opt = new AdamW([p], { lr: 0.1 });
  const step = () => {
    p.grad = tensor([0.5, 0.5, -0.5, -0.5], [2, 2]);
    opt.step();
    opt.zeroGrad();
  };
  step();
  const before = memory();
  for (let i = 0; i < 10; i++) step();
  assert.deepEqual(memory(), before);
  assert.equal(p.storage, storage);
  assert.equal(p.id, id);
  assert.equal(p.grad, null);
  // Positive gradients lower the first two values, negative ones raise the last two.
  const v = values(p);
  assert.ok(v[0] < 1 && v[1] < -2 && v[2] > 3 && v[3] > -4, `unexpected update ${v}`);
  opt.dispose();
  p.dispose();
});

Deno.test("parameters without a gradient are skipped and keep no state", () => {
  const a = tensor([1, 2], [2], { requiresGrad: true });
  const b = tensor([3, 4], [2], { requiresGrad: true });
  const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
  a.grad = tensor([1, 1], [2]);
  opt.step();
  assert.deepEqual(values(a), [0.5, 1.5]);
  assert.deepEqual(values(b), [3, 4]);
  assert.equal(opt.stateOf(b), undefined);
  assert.equal(opt.stateOf(a)!.step, 1);
  opt.dispose();
  a.dispose();
  b.dispose();
});

Deno.test("parameter groups carry their own hyperparameters", () => {
  const a = tensor([1], [1], { requiresGrad: true });
  const b = tensor([1], [1], { requiresGrad: true });
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1 });
  a.grad = tensor([1], [1]);
  b.grad = tensor([1], [1]);
  opt.step();
  assertClose(values(a), [0.9], TOL.cpu, "group 0");
  assertClose(values(b), [0.99], TOL.cpu, "group 1");
  assert.equal(opt.paramGroups[1].momentum, 0, "unset fields take the defaults");
  opt.dispose();
  a.dispose();
  b.dispose();
});

Deno.test("an AdamW state dict resumes training exactly", () => {
  const c = golden.optimizers.adamw;
  const h = c.hyper;
  const opts = {
    lr: h.lr,
    betas: [h.betas[0], h.betas[1]] as [number, number],
    eps: h.eps,
    weightDecay: h.weight_decay,
  };
  const grad = (i: number) => tensor(c.grads[i], c.param.shape, { backend: "cpu64" });
  // Two steps, then save the parameter values and the optimizer state as plain numbers.
  const p = tensor(c.param.values, c.param.shape, { backend: "cpu64", requiresGrad: true });
  const opt = new AdamW([p], opts);
  for (const i of [0, 1]) {
    p.grad = grad(i);
    opt.step();
    opt.zeroGrad();
  }
  const sd = opt.stateDict();
  const saved = {
    param: values(p),
    step: sd.state.get(0)!.step,
    m: values(sd.state.get(0)!.buffers.expAvg),
    v: values(sd.state.get(0)!.buffers.expAvgSq),
    lr: sd.paramGroups[0].lr,
  };
  assert.equal(saved.step, 2);
  opt.dispose();
  p.dispose();

  // A fresh parameter and optimizer (different lr, to see it restored) load them and step once.
  const q = tensor(saved.param, c.param.shape, { backend: "cpu64", requiresGrad: true });
  const resumed = new AdamW([q], { ...opts, lr: 123 });
  const m = tensor(saved.m, c.param.shape, { backend: "cpu64" });
  const v = tensor(saved.v, c.param.shape, { backend: "cpu64" });
  resumed.loadStateDict({
    state: new Map([[0, { step: saved.step, buffers: { expAvg: m, expAvgSq: v } }]]),
    paramGroups: [{ ...sd.paramGroups[0], lr: saved.lr }],
  });
  m.dispose();
  v.dispose();
  q.grad = grad(2);
  resumed.step();
  assertClose(values(q), c.steps[2], TOL.cpu64, "resumed step 3");
  resumed.dispose();
  q.dispose();
});

Deno.test("loadStateDict rejects a state of the wrong shape without changing anything", () => {
  const p = tensor([1, 2, 3], [3], { requiresGrad: true });
  const opt = new AdamW([p]);
  const bad = tensor([0, 0], [2]);
  assert.throws(
    () =>
      opt.loadStateDict({
        state: new Map([[0, { step: 5, buffers: { expAvg: bad } }]]),
        paramGroups: opt.stateDict().paramGroups,
      }),
    /buffer 'expAvg' of parameter #\d+ \[3\] \(index 0\) has shape \[2\]/,
  );
  assert.equal(opt.stateOf(p), undefined);
  bad.dispose();
  opt.dispose();
  p.dispose();
});

Deno.test("optimizers reject bad hyperparameters and non-leaf parameters, naming them", () => {
  const p = tensor([1], [1], { requiresGrad: true });
  assert.throws(() => new AdamW([p], { lr: -1 }), /AdamW \(group 0\): lr must be >= 0, got -1/);
  assert.throws(() => new Adam([p], { betas: [0.9, 1] }), /betas\[1\] must be in \[0, 1\), got 1/);
  assert.throws(
    () => new SGD([p], { lr: 0.1, nesterov: true }),
    /nesterov needs momentum > 0 and dampening 0/,
  );
  assert.throws(() => new SGD([p, p], { lr: 0.1 }), /appears more than once/);
  assert.throws(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  tidy(() => {
    const derived = add(p, 1);
    assert.throws(() => new SGD([derived], { lr: 0.1 }), /produced by op 'add'; optimizers/);
  });
  p.dispose();
});

Deno.test("a step with a gradient of the wrong shape names the parameter", () => {
  const p = tensor([1, 2], [2], { requiresGrad: true });
  p.name = "fc.bias";
  const opt = new SGD([p], { lr: 0.1 });
  p.grad = tensor([1, 2, 3], [3]);
  assert.throws(() => opt.step(), /gradient of parameter 'fc.bias' \[2\] has shape \[3\]/);
  opt.dispose();
  p.dispose();
});

Deno.test("a scheduler's state dict restores its step and lrs", () => {
  const p = tensor([0], [1], { requiresGrad: true });
  const opt = new SGD([p], { lr: 1 });
  const sched = new LambdaLR(opt, (s) => 1 / (s + 1));
  for (let i = 0; i < 3; i++) sched.step();
  const saved = sched.stateDict();
  const opt2 = new SGD([p], { lr: 5 });
  const sched2 = new LambdaLR(opt2, (s) => 1 / (s + 1));
  sched2.loadStateDict(saved);
  assert.equal(sched2.lastStep, 3);
  assert.deepEqual(sched2.lastLr(), [0.25]);
  p.dispose();
});
