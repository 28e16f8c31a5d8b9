/**
 * Registers the fused NN kernels (softmax, losses, layer and RMS norm, gathers, attention) on
 * the CPU.
 */

import type { Attrs } from "../../backend.ts";
import { registerCpuKernel } from "./register.ts";
import {
  logSoftmaxGradKernel,
  logSoftmaxKernel,
  softmaxGradKernel,
  softmaxKernel,
} from "./kernels/softmax.ts";
import {
  crossEntropyGradKernel,
  crossEntropyKernel,
  type Reduction,
  tokenLogProbsGradKernel,
  tokenLogProbsKernel,
} from "./kernels/cross_entropy.ts";
import { layerNormGradKernel, layerNormKernel } from "./kernels/layer_norm.ts";
import { rmsNormGradKernel, rmsNormKernel } from "./kernels/rms_norm.ts";
import {
  embeddingGradKernel,
  embeddingKernel,
  gatherKernel,
  scatterAddKernel,
} from "./kernels/gather.ts";
import { type AttentionAttrs, attentionGradKernel, attentionKernel } from "./kernels/attention.ts";

const num = (attrs: Attrs, key: string) => attrs[key] as number;
const reduction = (attrs: Attrs) => attrs.reduction as Reduction;

registerCpuKernel("softmax", ([x], [y], attrs) => softmaxKernel(x, y, num(attrs, "axis")));
registerCpuKernel("logSoftmax", ([x], [y], attrs) => logSoftmaxKernel(x, y, num(attrs, "axis")));
registerCpuKernel(
  "softmaxGrad",
  ([y, dy], [dx], attrs) => softmaxGradKernel(y, dy, dx, num(attrs, "axis")),
);
registerCpuKernel(
  "logSoftmaxGrad",
  ([y, dy], [dx], attrs) => logSoftmaxGradKernel(y, dy, dx, num(attrs, "axis")),
);

registerCpuKernel(
  "crossEntropy",
  ([logits, targets], [loss, lse], attrs) =>
    crossEntropyKernel(logits, targets, loss, lse, num(attrs, "ignoreIndex"), reduction(attrs)),
);
registerCpuKernel(
  "crossEntropyGrad",
  ([logits, targets, lse, dy], [dx], attrs) =>
    crossEntropyGradKernel(
      logits,
      targets,
      lse,
      dy,
      dx,
      num(attrs, "ignoreIndex"),
      reduction(attrs),
    ),
);
registerCpuKernel(
  "tokenLogProbs",
  ([logits, labels], [out, lse]) => tokenLogProbsKernel(logits, labels, out, lse),
);
registerCpuKernel(
  "tokenLogProbsGrad",
  ([logits, labels, lse, dy], [dx]) => tokenLogProbsGradKernel(logits, labels, lse, dy, dx),
);
registerCpuKernel(
  "layerNorm",
  ([x, weight, bias], [y, mean, rstd], attrs) =>
    layerNormKernel(x, weight, bias, y, mean, rstd, num(attrs, "eps")),
);
registerCpuKernel(
  "layerNormGrad",
  ([x, weight, mean, rstd, dy], [dx, dweight, dbias]) =>
    layerNormGradKernel(x, weight, mean, rstd, dy, dx, dweight, dbias),
);
registerCpuKernel(
  "rmsNorm",
  ([x, weight], [y, rstd], attrs) => rmsNormKernel(x, weight, y, rstd, num(attrs, "eps")),
);
registerCpuKernel(
  "rmsNormGrad",
  ([x, weight, rstd, dy], [dx, dweight]) => rmsNormGradKernel(x, weight, rstd, dy, dx, dweight),
);
registerCpuKernel(
  "gather",
  ([x, index], [out], attrs) => gatherKernel(x, index, out, num(attrs, "axis")),
);
registerCpuKernel(
  "scatterAdd",
  ([index, dy], [out], attrs) => scatterAddKernel(index, dy, out, num(attrs, "axis")),
);
registerCpuKernel("embedding", ([weight, ids], [out]) => embeddingKernel(weight, ids, out));
registerCpuKernel("embeddingGrad", ([ids, dy], [out]) => embeddingGradKernel(ids, dy, out));
registerCpuKernel("attention", (inputs, [out, lse], attrs, backend) => {
  const [q, k, v, mask] = inputs;
  const a = attrs as unknown as AttentionAttrs;
  attentionKernel(q, k, v, attrs.hasMask ? mask : null, out, lse, a, backend);
});
registerCpuKernel("attentionGrad", (inputs, [dq, dk, dv], attrs, backend) => {
  const [q, k, v] = inputs;
  const mask = attrs.hasMask ? inputs[3] : null;
  const [lse, dy] = inputs.slice(attrs.hasMask ? 4 : 3);
  const a = attrs as unknown as AttentionAttrs;
  attentionGradKernel(q, k, v, mask, lse, dy, dq, dk, dv, a, backend);
});
