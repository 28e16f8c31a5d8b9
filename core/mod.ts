/**
 * Tether's tensor + autograd core: eager f32 tensors on a chosen backend, a tape for reverse-mode
 * gradients, explicit memory scopes, seeded randomness, `nn` building blocks and optimizers.
 *
 * @example
 * ```ts
 * import { add, mul, sum, tensor, tidy } from "@tether/rlhf/core";
 * const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
 * tidy(() => sum(mul(x, add(x, 1))).backward());
 * console.log(await x.grad!.toArray()); // 2x + 1
 * ```
 * @module
 */

import "./backends/cpu/register.ts";
import "./backends/cpu/register_nn.ts";
import "./backends/cpu/fast/register.ts";

export * from "./shape.ts";
export * from "./backend.ts";
export { Storage, Tensor } from "./tensor.ts";
export type { GradRule, TapeNode } from "./tensor.ts";
export {
  currentBackend,
  dispose,
  findGrad,
  isGradEnabled,
  keep,
  memory,
  type MemoryInfo,
  noGrad,
  registerGrad,
  setBackend,
  tidy,
} from "./engine.ts";
export { backward, type BackwardOptions } from "./autograd.ts";
export { checkpoint, type CheckpointOptions, checkpointWith } from "./checkpoint.ts";
export {
  formatProfile,
  type OpProfile,
  type OpTotals,
  profileOps,
  profileOpsAsync,
} from "./profile.ts";
export { defaultGenerator, Generator, type GeneratorState, manualSeed } from "./random.ts";
export * from "./ops/create.ts";
export * from "./ops/elementwise.ts";
export * from "./ops/reduce.ts";
export * from "./ops/shape.ts";
export * from "./ops/matmul.ts";
export * from "./ops/linear.ts";
export * from "./ops/softmax.ts";
export * from "./ops/cross_entropy.ts";
export * from "./ops/layer_norm.ts";
export * from "./ops/rms_norm.ts";
export * from "./ops/dropout.ts";
export * from "./ops/gather.ts";
export * from "./ops/attention.ts";
export * from "./ops/masked.ts";
export * as nn from "./nn/mod.ts";
export * as optim from "./optim/mod.ts";
export * from "./ops/sample.ts";
export * from "./backends/webgpu/mod.ts";
export * from "./backends/select.ts";
export * from "./ops/lm_head.ts";
