/**
 * CPU kernels of the optimizer update ops. All are in-place ops: they have no outputs and write
 * the parameter and its state buffers through the input storages (see `update_op.ts`).
 *
 * `adamw` — inputs [param, grad, expAvg, expAvgSq]; attrs lr, beta1, beta2, eps, weightDecay,
 * step (1-based, after increment) and decoupled (true: AdamW's `p *= 1 - lr·wd`; false: Adam's
 * L2 term `g += wd·p`). Follows torch 1.13's single-tensor Adam/AdamW step operation by operation.
 *
 * `sgd` — inputs [param, grad] or [param, grad, momentumBuffer]; attrs lr, momentum, dampening,
 * nesterov, weightDecay, first (true on the step that creates the momentum buffer, which torch
 * initialises to the gradient itself, undamped).
 *
 * `rmsprop` — inputs [param, grad, squareAvg], then gradAvg when centered, then momentumBuffer
 * when momentum > 0; attrs lr, alpha, eps, weightDecay, momentum, centered. Follows torch 1.13's
 * single-tensor RMSprop step operation by operation.
 */

import type { Attrs, KernelTensor } from "../backend.ts";
import { data } from "../backends/cpu/backend.ts";
import { registerCpuKernel } from "../backends/cpu/register.ts";
import { registerKernel } from "../backend.ts";
import { fastAdamw } from "../backends/cpu/fast/elementwise.ts";

const num = (attrs: Attrs, key: string) => attrs[key] as number;

function adamwKernel(inputs: readonly KernelTensor[], attrs: Attrs): void {
  const [p, g, m, v] = inputs.map(data);
  const lr = num(attrs, "lr"), beta1 = num(attrs, "beta1"), beta2 = num(attrs, "beta2");
  const eps = num(attrs, "eps"), wd = num(attrs, "weightDecay"), step = num(attrs, "step");
  const decoupled = !!attrs.decoupled;
  const decay = decoupled ? 1 - lr * wd : 1;
  const l2 = decoupled ? 0 : wd;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  for (let i = 0; i < p.length; i++) {
    const param = p[i] * decay;
    const grad = l2 !== 0 ? g[i] + l2 * p[i] : g[i];
    // Each state value is stored (and so rounded to the storage precision) before it is reused,
    // as torch's sequence of in-place ops does.
    m[i] = m[i] * beta1 + grad * (1 - beta1);
    v[i] = v[i] * beta2 + grad * grad * (1 - beta2);
    const denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
    p[i] = param - stepSize * (m[i] / denom);
  }
}

function sgdKernel(inputs: readonly KernelTensor[], attrs: Attrs): void {
  const [p, g, buf] = inputs.map(data);
  const lr = num(attrs, "lr"), momentum = num(attrs, "momentum");
  const dampening = num(attrs, "dampening"), wd = num(attrs, "weightDecay");
  const nesterov = !!attrs.nesterov, first = !!attrs.first;
  for (let i = 0; i < p.length; i++) {
    let d = wd !== 0 ? g[i] + wd * p[i] : g[i];
    if (buf) {
      buf[i] = first ? d : buf[i] * momentum + d * (1 - dampening);
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] = p[i] - lr * d;
  }
}

function rmspropKernel(inputs: readonly KernelTensor[], attrs: Attrs): void {
  const centered = !!attrs.centered, momentum = num(attrs, "momentum");
  const [p, g, sq] = inputs.slice(0, 3).map(data);
  const ga = centered ? data(inputs[3]) : null;
  const buf = momentum > 0 ? data(inputs[centered ? 4 : 3]) : null;
  const lr = num(attrs, "lr"), alpha = num(attrs, "alpha"), eps = num(attrs, "eps");
  const wd = num(attrs, "weightDecay");
  for (let i = 0; i < p.length; i++) {
    const d = wd !== 0 ? g[i] + wd * p[i] : g[i];
    // As in adamw: each state value is stored (rounded to the storage) before it is reused.
    sq[i] = sq[i] * alpha + d * d * (1 - alpha);
    let avg: number;
    if (ga) {
      ga[i] = ga[i] * alpha + d * (1 - alpha);
      avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
    } else {
      avg = Math.sqrt(sq[i]) + eps;
    }
    if (buf) {
      buf[i] = buf[i] * momentum + d / avg;
      p[i] = p[i] - lr * buf[i];
    } else {
      p[i] = p[i] - lr * (d / avg);
    }
  }
}

registerCpuKernel("adamw", (inputs, _outputs, attrs) => adamwKernel(inputs, attrs));
// The f32 backend's copy: the same arithmetic, split across threads for large parameters.
registerKernel("adamw", "cpu", fastAdamw);
registerCpuKernel("sgd", (inputs, _outputs, attrs) => sgdKernel(inputs, attrs));
registerCpuKernel("rmsprop", (inputs, _outputs, attrs) => rmspropKernel(inputs, attrs));
