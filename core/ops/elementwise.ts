/** Elementwise ops with NumPy broadcasting, and their gradient rules. */

import { engine, registerGrad } from "../engine.ts";
import { broadcastShapes } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { scalar } from "./create.ts";
import { sumTo } from "./shape.ts";

/** A tensor or a plain number (broadcast as a scalar on the other operand's backend). */
export type TensorLike = Tensor | number;

function lift(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, boolean, boolean] {
  if (typeof a === "number" && typeof b === "number") {
    throw new Error(`${op}: at least one operand must be a Tensor`);
  }
  const ref = (a instanceof Tensor ? a : b) as Tensor;
  ref.assertLive(op);
  const ta = typeof a === "number" ? scalar(a, { backend: ref.backend.name }) : a;
  const tb = typeof b === "number" ? scalar(b, { backend: ref.backend.name }) : b;
  return [ta, tb, ta !== a, tb !== b];
}

function binary(op: string, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, liftedA, liftedB] = lift(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const owned = [...(liftedA ? [ta] : []), ...(liftedB ? [tb] : [])];
  const noGrad = NO_GRADIENT.has(op);
  return engine.run(op, [ta, tb], {}, { outShapes: [shape], owned, noGrad })[0];
}

/** Ops whose output carries no gradient: they are never recorded on the tape. */
const NO_GRADIENT = new Set(["greater", "greaterEqual", "less", "lessEqual", "equal", "sign"]);

function unary(op: string, x: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  return engine.run(op, [x], attrs, { outShapes: [x.shape], noGrad: NO_GRADIENT.has(op) })[0];
}

/** a + b */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
/** a - b */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
/** a * b */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
/** a / b */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);
/** a ** b */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary("pow", a, b);
/** Elementwise max (gradient split evenly on ties, as in PyTorch). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("maximum", a, b);
/** Elementwise min (gradient split evenly on ties, as in PyTorch). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary("minimum", a, b);
/** 1 where a > b, else 0 (no gradient). */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary("greater", a, b);
/** 1 where a >= b, else 0 (no gradient). */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary("greaterEqual", a, b);
/** 1 where a < b, else 0 (no gradient). */
export const less = (a: TensorLike, b: TensorLike): Tensor => binary("less", a, b);
/** 1 where a <= b, else 0 (no gradient). */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary("lessEqual", a, b);
/** 1 where a == b, else 0 (no gradient). */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary("equal", a, b);

/** -x */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/** Natural log. */
export const log = (x: Tensor): Tensor => unary("log", x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/** Logistic sigmoid. */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** log(sigmoid(x)), computed without overflow. */
export const logSigmoid = (x: Tensor): Tensor => unary("logSigmoid", x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/** Exact GELU: x·Φ(x) (PyTorch `gelu`, BERT's activation). */
export const gelu = (x: Tensor): Tensor => unary("gelu", x);
/** Tanh-approximated GELU (GPT-2's `gelu_new`). */
export const geluTanh = (x: Tensor): Tensor => unary("geluTanh", x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/** sign(x) in {-1, 0, 1} (no gradient). */
export const sign = (x: Tensor): Tensor => unary("sign", x);
/** x * x */
export const square = (x: Tensor): Tensor => mul(x, x);

/** Clamps into [min, max]; pass undefined for an open side. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min !== undefined && max !== undefined && min > max) {
    throw new Error(`clamp: min ${min} is greater than max ${max}`);
  }
  return unary("clamp", x, { min: min ?? NaN, max: max ?? NaN });
}

/** Picks `a` where `cond` is non-zero, else `b` (all three broadcast). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  cond.assertLive("where");
  const backend = cond.backend.name;
  const ta = typeof a === "number" ? scalar(a, { backend }) : a;
  const tb = typeof b === "number" ? scalar(b, { backend }) : b;
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, ta.shape), tb.shape);
  const owned = [ta, tb].filter((t, i) => t !== [a, b][i]);
  return engine.run("where", [cond, ta, tb], {}, { outShapes: [shape], owned })[0];
}

// ---- gradient rules -------------------------------------------------------------------------

const grad2 = (
  op: string,
  f: (dy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null],
) =>
  registerGrad(op, ([dy], node) => {
    const [a, b] = node.inputs;
    const [da, db] = f(dy!, a, b, node.outputs[0]);
    return [da && sumTo(da, a.shape), db && sumTo(db, b.shape)];
  });

const wants = (t: Tensor) => t.requiresGrad || t.node !== null;

grad2("add", (dy) => [dy, dy]);
grad2("sub", (dy) => [dy, neg(dy)]);
grad2("mul", (dy, a, b) => [wants(a) ? mul(dy, b) : null, wants(b) ? mul(dy, a) : null]);
grad2("div", (dy, a, b, y) => [
  wants(a) ? div(dy, b) : null,
  wants(b) ? neg(div(mul(dy, y), b)) : null,
]);
grad2("pow", (dy, a, b, y) => [
  wants(a) ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
  // d/db a^b = a^b·ln a; defined as 0 where a == 0 (PyTorch does the same).
  wants(b) ? mul(dy, where(equal(a, 0), 0, mul(y, log(a)))) : null,
]);
for (const [op, cmp] of [["maximum", greater], ["minimum", less]] as const) {
  grad2(op, (dy, a, b) => {
    const share = add(cmp(a, b), mul(equal(a, b), 0.5));
    return [mul(dy, share), mul(dy, sub(1, share))];
  });
}

const grad1 = (op: string, f: (dy: Tensor, x: Tensor, y: Tensor) => Tensor) =>
  registerGrad(op, ([dy], node) => [f(dy!, node.inputs[0], node.outputs[0])]);

grad1("neg", (dy) => neg(dy));
grad1("exp", (dy, _x, y) => mul(dy, y));
grad1("log", (dy, x) => div(dy, x));
grad1("sqrt", (dy, _x, y) => div(mul(dy, 0.5), y));
grad1("rsqrt", (dy, _x, y) => mul(dy, mul(pow(y, 3), -0.5)));
grad1("tanh", (dy, _x, y) => mul(dy, sub(1, mul(y, y))));
grad1("sigmoid", (dy, _x, y) => mul(dy, mul(y, sub(1, y))));
grad1("logSigmoid", (dy, _x, y) => mul(dy, sub(1, exp(y))));
grad1("relu", (dy, x) => mul(dy, greater(x, 0)));
grad1("abs", (dy, x) => mul(dy, sign(x)));
grad1("gelu", (dy, x) => engine.run("geluGrad", [x, dy], {}, { outShapes: [x.shape] })[0]);
grad1(
  "geluTanh",
  (dy, x) => engine.run("geluTanhGrad", [x, dy], {}, { outShapes: [x.shape] })[0],
);
registerGrad("clamp", ([dy], node) => [
  engine.run("clampGrad", [node.inputs[0], dy!], node.attrs, { outShapes: [dy!.shape] })[0],
]);
registerGrad("where", ([dy], node) => {
  const [cond, a, b] = node.inputs;
  return [
    null,
    wants(a) ? sumTo(where(cond, dy!, 0), a.shape) : null,
    wants(b) ? sumTo(where(cond, 0, dy!), b.shape) : null,
  ];
});
