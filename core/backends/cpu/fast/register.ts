/**
 * Registers the fast kernels of the f32 `cpu` backend over its reference ones; `cpu64` keeps the
 * reference kernels, which the fast ones are tested against.
 */

import { registerKernel } from "../../../backend.ts";
import "../register.ts";
import "../register_nn.ts";
import { FAST_BINARY_OPS, fastBinary, fastGeluTanh, fastGeluTanhGrad } from "./elementwise.ts";
import { fastMatmul } from "./matmul.ts";
import {
  fastCrossEntropy,
  fastCrossEntropyGrad,
  fastLogSoftmax,
  fastSoftmax,
  fastTokenLogProbs,
  fastTokenLogProbsGrad,
} from "./rows.ts";

registerKernel("matmul", "cpu", fastMatmul);
for (const op of FAST_BINARY_OPS) registerKernel(op, "cpu", fastBinary(op));
registerKernel("geluTanh", "cpu", fastGeluTanh);
registerKernel("geluTanhGrad", "cpu", fastGeluTanhGrad);
registerKernel("softmax", "cpu", fastSoftmax);
registerKernel("logSoftmax", "cpu", fastLogSoftmax);
registerKernel("crossEntropy", "cpu", fastCrossEntropy);
registerKernel("crossEntropyGrad", "cpu", fastCrossEntropyGrad);
registerKernel("tokenLogProbs", "cpu", fastTokenLogProbs);
registerKernel("tokenLogProbsGrad", "cpu", fastTokenLogProbsGrad);
