/**
 * Registers the fast kernels of the f32 `cpu` backend over its reference ones; `cpu64` keeps the
 * reference kernels, which the fast ones are tested against.
 */

import { registerKernel } from "../../../backend.ts";
import "../register.ts";
import "../register_nn.ts";
import { fastAttention, fastAttentionGrad } from "./attention.ts";
import {
  FAST_BINARY_OPS,
  fastBinary,
  fastGelu,
  fastGeluGrad,
  fastGeluTanh,
  fastGeluTanhGrad,
  fastLinear,
} from "./elementwise.ts";
import { fastLayerNorm, fastLayerNormGrad, fastRmsNorm, fastRmsNormGrad } from "./layer_norm.ts";
import { fastStridedCopy } from "./layout.ts";
import { fastMatmul } from "./matmul.ts";
import { fastSum } from "./reduce.ts";
import {
  fastCrossEntropy,
  fastCrossEntropyGrad,
  fastLogSoftmax,
  fastLogSoftmaxGrad,
  fastSoftmax,
  fastSoftmaxGrad,
  fastTokenLogProbs,
  fastTokenLogProbsGrad,
} from "./rows.ts";

registerKernel("matmul", "cpu", fastMatmul);
for (const op of FAST_BINARY_OPS) registerKernel(op, "cpu", fastBinary(op));
registerKernel("gelu", "cpu", fastGelu);
registerKernel("geluGrad", "cpu", fastGeluGrad);
registerKernel("geluTanh", "cpu", fastGeluTanh);
registerKernel("geluTanhGrad", "cpu", fastGeluTanhGrad);
registerKernel("softmax", "cpu", fastSoftmax);
registerKernel("logSoftmax", "cpu", fastLogSoftmax);
registerKernel("softmaxGrad", "cpu", fastSoftmaxGrad);
registerKernel("logSoftmaxGrad", "cpu", fastLogSoftmaxGrad);
registerKernel("crossEntropy", "cpu", fastCrossEntropy);
registerKernel("crossEntropyGrad", "cpu", fastCrossEntropyGrad);
registerKernel("tokenLogProbs", "cpu", fastTokenLogProbs);
registerKernel("tokenLogProbsGrad", "cpu", fastTokenLogProbsGrad);
registerKernel("layerNorm", "cpu", fastLayerNorm);
registerKernel("layerNormGrad", "cpu", fastLayerNormGrad);
registerKernel("rmsNorm", "cpu", fastRmsNorm);
registerKernel("rmsNormGrad", "cpu", fastRmsNormGrad);
registerKernel("stridedCopy", "cpu", fastStridedCopy);
registerKernel("sum", "cpu", fastSum);
registerKernel("linear", "cpu", fastLinear);
registerKernel("attention", "cpu", fastAttention);
registerKernel("attentionGrad", "cpu", fastAttentionGrad);
