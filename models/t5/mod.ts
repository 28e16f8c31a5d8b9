/**
 * T5 / flan-T5 on the core: config, relative position buckets, attention, blocks, stacks,
 * `T5ForConditionalGeneration`, initialisation and checkpoint names.
 * @module
 */

export {
  T5_REQUIRED_FIELDS,
  type T5Activation,
  type T5Config,
  t5Config,
  t5ConfigJson,
} from "./config.ts";
export { relativePositionBucket, relativePositionBuckets } from "./relative_position.ts";
export { T5Attention, type T5AttentionOptions, type T5LayerOptions } from "./attention.ts";
export {
  T5DenseActDense,
  T5DenseGatedActDense,
  T5LayerCrossAttention,
  T5LayerFF,
  T5LayerSelfAttention,
} from "./layers.ts";
export { T5Block, type T5DecoderOutput, T5Stack } from "./stack.ts";
export { T5ForConditionalGeneration, type T5Options } from "./model.ts";
export { initT5Weights } from "./init.ts";
export { saveT5, t5CheckpointKey, type T5Like } from "./weights.ts";
export { T5_ARCHITECTURE } from "./architecture.ts";
