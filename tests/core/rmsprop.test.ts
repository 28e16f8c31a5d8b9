// optim.RMSprop against the parameters and state torch 1.13's own RMSprop leaves after each step
// (tests/fixtures/optim/torch_rmsprop.json, from tools/gen_rmsprop_fixture.py), on both CPU
// backends, and its state dict resuming a run exactly.

import assert from "node:assert/strict";
import { tensor } from "../../core/mod.ts";
import { AdamW, RMSprop, type RmspropOptions } from "../../core/optim/mod.ts";
import { assertClose, TOL, values } from "./golden_close.ts";

interface TorchCase {
  kwargs: Record<string, number | boolean>;
  hyper: {
    lr: number;
    alpha: number;
    eps: number;
    weight_decay: number;
    momentum: number;
    centered: boolean;
  };
  param: { shape: number[]; values: number[] };
  grads: number[][];
  steps: number[][];
  state: { square_avg: number[]; momentum_buffer?: number[]; grad_avg?: number[] }[];
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/optim/torch_rmsprop.json", import.meta.url)),
) as { cases: Record<string, TorchCase> };

/** torch's keyword arguments as Tether's options (only those the case passed). */
function options(kwargs: TorchCase["kwargs"]): RmspropOptions {
  const names: Record<string, keyof RmspropOptions> = { weight_decay: "weightDecay" };
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [names[k] ?? k, v]));
}

const BUFFERS = [
  ["square_avg", "squareAvg"],
  ["grad_avg", "gradAvg"],
  ["momentum_buffer", "momentumBuffer"],
] as const;

for (const backend of ["cpu", "cpu64"] as const) {
  for (const [name, c] of Object.entries(fixture.cases)) {
    Deno.test(`RMSprop (${name}) matches torch over ${c.grads.length} steps (${backend})`, () => {
      const p = tensor(c.param.values, c.param.shape, { backend, requiresGrad: true });
      const storage = p.storage;
      const opt = new RMSprop([p], options(c.kwargs));
      // The defaults filled in are torch's.
      const g = opt.paramGroups[0];
      assert.deepEqual(
        [g.lr, g.alpha, g.eps, g.weightDecay, g.momentum, g.centered],
        [
          c.hyper.lr,
          c.hyper.alpha,
          c.hyper.eps,
          c.hyper.weight_decay,
          c.hyper.momentum,
          c.hyper.centered,
        ],
      );
      c.grads.forEach((grad, i) => {
        p.grad = tensor(grad, c.param.shape, { backend });
        opt.step();
        opt.zeroGrad();
        assertClose(values(p), c.steps[i], TOL[backend], `${name} step ${i + 1}`);
        const st = opt.stateOf(p)!;
        assert.equal(st.step, i + 1);
        for (const [torchName, ours] of BUFFERS) {
          const expected = c.state[i][torchName];
          if (expected === undefined) {
            assert.equal(st.buffers[ours], undefined, `${name}: no ${ours} buffer`);
          } else {
            assertClose(values(st.buffers[ours]), expected, TOL[backend], `${name} ${ours}`);
          }
        }
      });
      assert.equal(p.storage, storage, "the parameter must be updated in its own storage");
      opt.dispose();
      p.dispose();
    });
  }
}

Deno.test("an RMSprop state dict (centered, momentum) resumes training exactly", () => {
  const c = fixture.cases.centered_momentum;
  const opts = options(c.kwargs);
  const backend = "cpu64";
  const grad = (i: number) => tensor(c.grads[i], c.param.shape, { backend });
  const p = tensor(c.param.values, c.param.shape, { backend, requiresGrad: true });
  const opt = new RMSprop([p], opts);
  for (const i of [0, 1]) {
    p.grad = grad(i);
    opt.step();
    opt.zeroGrad();
  }
  const sd = opt.stateDict();
  const s = sd.state.get(0)!;
  assert.deepEqual(Object.keys(s.buffers).sort(), ["gradAvg", "momentumBuffer", "squareAvg"]);
  const saved = {
    param: values(p),
    step: s.step,
    buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, t]) => [k, values(t)])),
    group: sd.paramGroups[0],
  };
  opt.dispose();
  p.dispose();

  // A fresh optimizer with other settings takes the saved ones back, then steps twice.
  const q = tensor(saved.param, c.param.shape, { backend, requiresGrad: true });
  const resumed = new RMSprop([q], { lr: 123, centered: true, momentum: 0.1 });
  const buffers = Object.fromEntries(
    Object.entries(saved.buffers).map(([k, v]) => [k, tensor(v, c.param.shape, { backend })]),
  );
  resumed.loadStateDict({
    state: new Map([[0, { step: saved.step, buffers }]]),
    paramGroups: [saved.group],
  });
  for (const t of Object.values(buffers)) t.dispose();
  assert.equal(resumed.paramGroups[0].lr, c.hyper.lr);
  for (const i of [2, 3]) {
    q.grad = grad(i);
    resumed.step();
    resumed.zeroGrad();
    assertClose(values(q), c.steps[i], TOL[backend], `resumed step ${i + 1}`);
  }
  assert.equal(resumed.stateOf(q)!.step, 4);
  resumed.dispose();
  q.dispose();
});

Deno.test("RMSprop refuses bad hyperparameters, naming them", () => {
  const p = tensor([1], [1], { requiresGrad: true });
  assert.throws(
    () => new RMSprop([p], { lr: -1 }),
    /RMSprop \(group 0\): lr must be a number >= 0, got -1/,
  );
  assert.throws(() => new RMSprop([p], { alpha: -0.5 }), /alpha must be a number >= 0, got -0.5/);
  assert.throws(
    () => new RMSprop([p], { momentum: NaN }),
    /momentum must be a number >= 0, got NaN/,
  );
  assert.throws(
    () => new RMSprop([p], { centered: 1 as unknown as boolean }),
    /centered must be true or false, got 1/,
  );
  p.dispose();
});

Deno.test("a state dict saved by another optimizer is refused, naming both", () => {
  const p = tensor([1, 2], [2], { requiresGrad: true });
  const adam = new AdamW([p]);
  p.grad = tensor([0.5, -0.5], [2]);
  adam.step();
  const rms = new RMSprop([p]);
  assert.throws(
    () => rms.loadStateDict(adam.stateDict() as never),
    /RMSprop\.loadStateDict: group 0 was saved with hyperparameter 'betas', which RMSprop does not have; was the state saved by another optimizer\?/,
  );
  assert.equal(rms.stateOf(p), undefined, "nothing was changed");
  adam.dispose();
  rms.dispose();
  p.zeroGrad();
  p.dispose();
});
