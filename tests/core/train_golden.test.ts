/**
 * One training step of a small MLP against PyTorch 1.13 (tools/gen_train_golden.py): logits,
 * cross-entropy loss, every parameter gradient, the parameters after one AdamW step, and the
 * loss after it. Run on the f64 reference backend (to ~1e-10) and on the f32 backend (to 1e-4).
 */

import assert from "node:assert/strict";
import golden from "../fixtures/train_golden.json" with { type: "json" };
import { assertClose, TOL, values } from "./golden_close.ts";
import { crossEntropy, tensor, tidy } from "../../core/mod.ts";
import { GELU, Linear, Sequential } from "../../core/nn/mod.ts";
import { AdamW } from "../../core/optim/mod.ts";

const g = golden.mlp_step;
type Named = Record<string, { shape: number[]; values: number[] }>;

for (const backend of ["cpu64", "cpu"] as const) {
  Deno.test(`an MLP training step matches PyTorch: loss, logits, grads, AdamW (${backend})`, () => {
    const tol = TOL[backend];
    const { in: nIn, hidden, out } = g.sizes;
    const model = new Sequential(
      new Linear(nIn, hidden, { backend }),
      new GELU("tanh"),
      new Linear(hidden, out, { backend }),
    );
    const initial = new Map(
      Object.entries(g.params as Named).map((
        [k, e],
      ) => [k, tensor(e.values, e.shape, { backend })]),
    );
    model.loadStateDict(initial);
    for (const t of initial.values()) t.dispose();

    const x = tensor(g.x.values, g.x.shape, { backend });
    const targets = tensor(g.targets, [g.targets.length], { backend });
    const h = g.adamw;
    const opt = new AdamW(model.parameters(), {
      lr: h.lr,
      betas: [h.betas[0], h.betas[1]],
      eps: h.eps,
      weightDecay: h.weight_decay,
    });

    tidy(() => {
      const logits = model.forward(x);
      const loss = crossEntropy(logits, targets);
      assertClose(values(logits), g.logits.values, tol, "logits");
      assertClose(values(loss), [g.loss], tol, "loss");
      loss.backward();
    });
    const grads = g.grads as Named;
    const names = model.namedParameters().map(([n]) => n);
    assert.deepEqual(names, Object.keys(grads), "torch's parameter names and order");
    for (const [name, p] of model.namedParameters()) {
      assert.ok(p.grad, `${name} has a gradient`);
      assertClose(values(p.grad), grads[name].values, tol, `grad ${name}`);
    }

    opt.step();
    opt.zeroGrad();
    const after = g.params_after as Named;
    for (const [name, p] of model.namedParameters()) {
      assertClose(values(p), after[name].values, tol, `${name} after AdamW`);
    }
    tidy(() => {
      const loss = crossEntropy(model.forward(x), targets);
      assertClose(values(loss), [g.loss_after], tol, "loss after the step");
      assert.ok(g.loss_after < g.loss, "the golden step lowers the loss");
    });

    opt.dispose();
    model.dispose();
    x.dispose();
    targets.dispose();
  });
}
