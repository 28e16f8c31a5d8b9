// f64 finite-difference gradient checks for every differentiable golden case (the same case list
// as the op suite, on cpu64), plus the checks that the harness itself can fail.

import assert from "node:assert/strict";
import { registerGrad, type Tensor } from "../../core/mod.ts";
import { type Kernel, registerKernel } from "../../core/backend.ts";
import { engine } from "../../core/engine.ts";
import { data } from "../../core/backends/cpu/backend.ts";
import { gradcheck, GRADCHECK_DEFAULTS } from "./gradcheck.ts";
import { caseFn, goldenCases } from "./op_suite.ts";
import { opOfCase } from "./op_cases.ts";

const differentiable = Object.entries(goldenCases).filter(([, c]) => c.inputs.some((x) => x.grad));

Deno.test("gradcheck: every op with a gradient has at least one smooth case", () => {
  const ops = new Set(differentiable.map(([n]) => opOfCase(n)));
  const smooth = new Set(
    differentiable.filter(([, c]) => !c.noGradcheck).map(([n]) => opOfCase(n)),
  );
  assert.deepEqual([...ops].filter((op) => !smooth.has(op)), []);
});

for (const [name, c] of differentiable) {
  if (c.noGradcheck) continue; // on a kink by design; the golden pins PyTorch's convention there
  Deno.test(`gradcheck[cpu64]: ${name}`, () => {
    const fn = caseFn(name);
    const report = gradcheck(
      (xs) => fn(xs, c.params),
      c.inputs.map((x) => ({ values: x.values, shape: x.shape, grad: x.grad, name: x.name })),
      { seed: name.length },
    );
    const wanted = c.inputs.reduce((n, x) => n + (x.grad ? x.values.length : 0), 0);
    assert.equal(report.checked, wanted);
  });
}

// ---- the harness can fail ------------------------------------------------------------------

// A test-only op y = x³ on cpu64 whose gradient rule is chosen per test.
const cubeKernel: Kernel = ([x], [out]) => {
  const X = data(x), O = data(out);
  for (let i = 0; i < O.length; i++) O[i] = X[i] ** 3;
};
registerKernel("gradcheckCube", "cpu64", cubeKernel);
let cubeGradScale = 1;
registerGrad("gradcheckCube", ([dy], node) => {
  const x = node.inputs[0];
  const d = engine.run("gradcheckCubeGrad", [x, dy!], { scale: cubeGradScale }, {
    outShapes: [x.shape],
  });
  return d;
});
registerKernel("gradcheckCubeGrad", "cpu64", ([x, dy], [out], attrs) => {
  const X = data(x), D = data(dy), O = data(out);
  for (let i = 0; i < O.length; i++) O[i] = 3 * X[i] ** 2 * D[i] * (attrs.scale as number);
});
const cube = (xs: Tensor[]) =>
  engine.run("gradcheckCube", [xs[0]], {}, { outShapes: [xs[0].shape] })[0];
const cubeInput = [{ values: [0.5, -1.25, 2, 0.75, -0.3, 1.1], shape: [2, 3] }];

Deno.test("gradcheck: passes a correct rule", () => {
  cubeGradScale = 1;
  const r = gradcheck(cube, cubeInput);
  assert.equal(r.checked, 6);
  assert.ok(r.worstRatio < 0.1, `worst ratio ${r.worstRatio}`);
});

Deno.test("gradcheck: rejects a rule that is off by one part in 10^5", () => {
  cubeGradScale = 1 + 1e-5;
  try {
    assert.throws(() => gradcheck(cube, cubeInput), /gradcheck: gradient mismatch at input 0/);
  } finally {
    cubeGradScale = 1;
  }
});

Deno.test("gradcheck: rejects an op whose forward rounds to f32 on the f64 backend", () => {
  // Rounding noise of ~1e-7 divided by eps = 1e-6 swamps the difference quotient.
  registerKernel("gradcheckCube", "cpu64", ([x], [out]) => {
    const X = data(x), O = data(out);
    for (let i = 0; i < O.length; i++) O[i] = Math.fround(X[i] ** 3);
  });
  try {
    assert.throws(() => gradcheck(cube, cubeInput), /gradient mismatch/);
  } finally {
    registerKernel("gradcheckCube", "cpu64", cubeKernel);
  }
});

Deno.test("gradcheck: states its tolerances", () => {
  assert.deepEqual(GRADCHECK_DEFAULTS, { eps: 1e-6, rtol: 1e-6, atol: 1e-8 });
});
