/**
 * In-place kernels: the optimizer updates (`adamw`, `sgd`, `rmsprop`) and `assign`. They have no outputs;
 * the written inputs (parameter, state buffers) are bound read-write. Scalars such as the bias
 * corrections are computed on the host in f64, as the CPU kernel does, and passed as f32.
 */

import type { Kernel } from "../../../backend.ts";
import { Params, type WebGPUBackend } from "../backend.ts";
import { buf, header, linearEntry } from "./common.ts";

const WG = 256;
const num = (attrs: Readonly<Record<string, unknown>>, key: string) => attrs[key] as number;

// Params: 0 n, 1 param, 2 grad, 3 expAvg, 4 expAvgSq offsets, 5 decay, 6 l2, 7 beta1,
// 8 1 − beta1, 9 beta2, 10 1 − beta2, 11 step size, 12 sqrt of the second bias correction, 13 eps.
const adamwWgsl = () =>
  header(["G"], ["P", "M", "V"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let ip = pu(1u) + gi;
  let im = pu(3u) + gi;
  let iv = pu(4u) + gi;
  let p0 = P[ip];
  let grad = G[pu(2u) + gi] + pf(6u) * p0;
  let m = M[im] * pf(7u) + grad * pf(8u);
  let v = V[iv] * pf(9u) + grad * grad * pf(10u);
  M[im] = m;
  V[iv] = v;
  P[ip] = p0 * pf(5u) - pf(11u) * (m / (sqrt(v) / pf(12u) + pf(13u)));`,
  );

/** AdamW / Adam step on inputs [param, grad, expAvg, expAvgSq] (see core/optim/kernels.ts). */
export const adamwKernel: Kernel = ([p, g, m, v], _outputs, attrs, backend) => {
  const b = backend as WebGPUBackend;
  const lr = num(attrs, "lr"), beta1 = num(attrs, "beta1"), beta2 = num(attrs, "beta2");
  const wd = num(attrs, "weightDecay"), step = num(attrs, "step");
  const decoupled = !!attrs.decoupled;
  const params = new Params().u(p.size, p.offset, g.offset, m.offset, v.offset).f(
    decoupled ? 1 - lr * wd : 1,
    decoupled ? 0 : wd,
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    lr / (1 - beta1 ** step),
    Math.sqrt(1 - beta2 ** step),
    num(attrs, "eps"),
  );
  b.dispatch(
    "adamw",
    adamwWgsl,
    [buf(g)],
    [buf(p), buf(m), buf(v)],
    params,
    b.grid(p.size, WG),
    true,
  );
};

// Params: 0 n, 1 param, 2 grad, 3 buffer offsets, 4 lr, 5 momentum, 6 1 − dampening,
// 7 weight decay, 8 nesterov, 9 first step.
const sgdWgsl = (withBuffer: boolean) => () =>
  header(["G"], withBuffer ? ["P", "B"] : ["P"]) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let ip = pu(1u) + gi;
  var d = G[pu(2u) + gi] + pf(7u) * P[ip];
  ${
      withBuffer
        ? `let ib = pu(3u) + gi;
  let nb = select(B[ib] * pf(5u) + d * pf(6u), d, pu(9u) == 1u);
  B[ib] = nb;
  d = select(nb, d + pf(5u) * nb, pu(8u) == 1u);`
        : ""
    }
  P[ip] = P[ip] - pf(4u) * d;`,
  );

/** SGD step on inputs [param, grad] or [param, grad, momentumBuffer]. */
export const sgdKernel: Kernel = (inputs, _outputs, attrs, backend) => {
  const b = backend as WebGPUBackend;
  const [p, g, mb] = inputs;
  const params = new Params().u(p.size, p.offset, g.offset, mb?.offset ?? 0).f(
    num(attrs, "lr"),
    num(attrs, "momentum"),
    1 - num(attrs, "dampening"),
    num(attrs, "weightDecay"),
  ).u(attrs.nesterov ? 1 : 0, attrs.first ? 1 : 0);
  b.dispatch(
    mb ? "sgd:momentum" : "sgd",
    sgdWgsl(!!mb),
    [buf(g)],
    mb ? [buf(p), buf(mb)] : [buf(p)],
    params,
    b.grid(p.size, WG),
    true,
  );
};

// Params: 0 n, 1 param, 2 grad, 3 squareAvg, 4 gradAvg, 5 momentum buffer offsets, 6 lr,
// 7 alpha, 8 1 − alpha, 9 eps, 10 weight decay, 11 momentum.
const rmspropWgsl = (centered: boolean, withMomentum: boolean) => () =>
  header(
    ["G"],
    ["P", "S", ...(centered ? ["A"] : []), ...(withMomentum ? ["B"] : [])],
  ) + linearEntry(
    WG,
    `  if (gi >= pu(0u)) { return; }
  let ip = pu(1u) + gi;
  let is = pu(3u) + gi;
  let d = G[pu(2u) + gi] + pf(10u) * P[ip];
  let s = S[is] * pf(7u) + d * d * pf(8u);
  S[is] = s;
  ${
      centered
        ? `let ia = pu(4u) + gi;
  let a = A[ia] * pf(7u) + d * pf(8u);
  A[ia] = a;
  let avg = sqrt(s - a * a) + pf(9u);`
        : `let avg = sqrt(s) + pf(9u);`
    }
  ${
      withMomentum
        ? `let ib = pu(5u) + gi;
  let b = B[ib] * pf(11u) + d / avg;
  B[ib] = b;
  P[ip] = P[ip] - pf(6u) * b;`
        : `P[ip] = P[ip] - pf(6u) * (d / avg);`
    }`,
  );

/** RMSprop step on [param, grad, squareAvg, gradAvg?, momentumBuffer?] (see core/optim/kernels.ts). */
export const rmspropKernel: Kernel = (inputs, _outputs, attrs, backend) => {
  const b = backend as WebGPUBackend;
  const centered = !!attrs.centered, momentum = num(attrs, "momentum");
  const [p, g, s] = inputs;
  const a = centered ? inputs[3] : undefined;
  const mb = momentum > 0 ? inputs[centered ? 4 : 3] : undefined;
  const alpha = num(attrs, "alpha");
  const params = new Params().u(
    p.size,
    p.offset,
    g.offset,
    s.offset,
    a?.offset ?? 0,
    mb?.offset ?? 0,
  )
    .f(num(attrs, "lr"), alpha, 1 - alpha, num(attrs, "eps"), num(attrs, "weightDecay"), momentum);
  const written = [buf(p), buf(s), ...(a ? [buf(a)] : []), ...(mb ? [buf(mb)] : [])];
  b.dispatch(
    `rmsprop${centered ? ":centered" : ""}${mb ? ":momentum" : ""}`,
    rmspropWgsl(centered, !!mb),
    [buf(g)],
    written,
    params,
    b.grid(p.size, WG),
    true,
  );
};

/** Copies src into dst's storage (inputs [dst, src]). */
export const assignKernel: Kernel = ([dst, src], _outputs, _attrs, backend) => {
  (backend as WebGPUBackend).copy(buf(src), src.offset, buf(dst), dst.offset, dst.size);
};
