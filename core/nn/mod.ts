/**
 * Neural-network building blocks: the `Module` base (dotted Hugging Face parameter names, state
 * dicts, train/eval) and layers with torch's layouts and initialisations.
 * @module
 */

export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDictInput,
} from "./module.ts";
export { Conv1D, type InitOptions, Linear, type LinearOptions } from "./linear.ts";
export { Embedding } from "./embedding.ts";
export { LayerNorm, type LayerNormOptions } from "./layer_norm.ts";
export { RMSNorm, type RMSNormOptions } from "./rms_norm.ts";
export { Dropout } from "./dropout.ts";
export { GELU, ReLU, Sigmoid, Tanh } from "./activation.ts";
export { type Layer, Sequential } from "./sequential.ts";
export { assign } from "./assign.ts";
export {
  type BlockResult,
  dropoutGenerators,
  inferenceScope,
  runBlock,
  type RunBlockOptions,
} from "./blocks.ts";
