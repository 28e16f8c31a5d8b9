/** Registers the WGSL kernels under the `webgpu` backend name (no GPU is touched here). */

import { registerKernel } from "../../backend.ts";
import {
  BINARY,
  binaryKernel,
  clampGradKernel,
  clampKernel,
  UNARY,
  unaryKernel,
  whereKernel,
} from "./kernels/elementwise.ts";
import { argmaxKernel, maxKernel, sumKernel } from "./kernels/reduce.ts";
import { concatKernel, sliceGradKernel, stridedCopyKernel } from "./kernels/layout.ts";
import { matmulKernel } from "./kernels/matmul.ts";
import {
  logSoftmaxGradKernel,
  logSoftmaxKernel,
  softmaxGradKernel,
  softmaxKernel,
} from "./kernels/softmax.ts";
import {
  crossEntropyGradKernel,
  crossEntropyKernel,
  tokenLogProbsGradKernel,
  tokenLogProbsKernel,
} from "./kernels/cross_entropy.ts";
import { layerNormGradKernel, layerNormKernel } from "./kernels/layer_norm.ts";
import {
  embeddingGradKernel,
  embeddingKernel,
  gatherKernel,
  scatterAddKernel,
} from "./kernels/gather.ts";
import { attentionGradKernel, attentionKernel } from "./kernels/attention.ts";
import { adamwKernel, assignKernel, rmspropKernel, sgdKernel } from "./kernels/optim.ts";
import { sampleTokensKernel } from "./kernels/sample.ts";

/** The registry name of the WebGPU backend. */
export const WEBGPU = "webgpu";

let registered = false;

/** Registers every WebGPU kernel once. */
export function registerWebGPUKernels(): void {
  if (registered) return;
  registered = true;
  for (const op of Object.keys(UNARY)) registerKernel(op, WEBGPU, unaryKernel(op));
  for (const op of Object.keys(BINARY)) registerKernel(op, WEBGPU, binaryKernel(op));
  registerKernel("where", WEBGPU, whereKernel);
  registerKernel("clamp", WEBGPU, clampKernel);
  registerKernel("clampGrad", WEBGPU, clampGradKernel);
  registerKernel("sum", WEBGPU, sumKernel);
  registerKernel("max", WEBGPU, maxKernel);
  registerKernel("argmax", WEBGPU, argmaxKernel);
  registerKernel("stridedCopy", WEBGPU, stridedCopyKernel);
  registerKernel("concat", WEBGPU, concatKernel);
  registerKernel("sliceGrad", WEBGPU, sliceGradKernel);
  registerKernel("matmul", WEBGPU, matmulKernel);
  registerKernel("softmax", WEBGPU, softmaxKernel);
  registerKernel("logSoftmax", WEBGPU, logSoftmaxKernel);
  registerKernel("softmaxGrad", WEBGPU, softmaxGradKernel);
  registerKernel("logSoftmaxGrad", WEBGPU, logSoftmaxGradKernel);
  registerKernel("crossEntropy", WEBGPU, crossEntropyKernel);
  registerKernel("crossEntropyGrad", WEBGPU, crossEntropyGradKernel);
  registerKernel("tokenLogProbs", WEBGPU, tokenLogProbsKernel);
  registerKernel("tokenLogProbsGrad", WEBGPU, tokenLogProbsGradKernel);
  registerKernel("layerNorm", WEBGPU, layerNormKernel);
  registerKernel("layerNormGrad", WEBGPU, layerNormGradKernel);
  registerKernel("gather", WEBGPU, gatherKernel);
  registerKernel("scatterAdd", WEBGPU, scatterAddKernel);
  registerKernel("embedding", WEBGPU, embeddingKernel);
  registerKernel("embeddingGrad", WEBGPU, embeddingGradKernel);
  registerKernel("attention", WEBGPU, attentionKernel);
  registerKernel("attentionGrad", WEBGPU, attentionGradKernel);
  registerKernel("adamw", WEBGPU, adamwKernel);
  registerKernel("sgd", WEBGPU, sgdKernel);
  registerKernel("rmsprop", WEBGPU, rmspropKernel);
  registerKernel("assign", WEBGPU, assignKernel);
  registerKernel("sampleTokens", WEBGPU, sampleTokensKernel);
}
