/**
 * BERT-family encoders for sequence classification (DistilBERT, BERT, RoBERTa) with
 * transformers' module trees and weight names, so Hugging Face checkpoints load one to one.
 *
 * @module
 */

export {
  configNumLabels,
  type EncoderConfig,
  type EncoderType,
  encoderType,
  type HiddenAct,
  parseEncoderConfig,
  type RawConfig,
  SUPPORTED_ENCODER_TYPES,
  withNumLabels,
} from "./config.ts";
export {
  EncoderForSequenceClassification,
  type EncoderModelOptions,
  type SequenceClassifierOutput,
} from "./classifier.ts";
export {
  type EncoderBatch,
  type EncoderTensors,
  encoderTensors,
  type TokenMatrix,
} from "./inputs.ts";
export {
  DistilBertEmbeddings,
  DistilBertForSequenceClassification,
  DistilBertModel,
  FFN,
  MultiHeadSelfAttention,
  sinusoidalTable,
  TransformerBlock,
} from "./distilbert.ts";
export {
  BertAttention,
  BertEmbeddings,
  BertForSequenceClassification,
  BertLayer,
  BertModel,
  BertResidualOutput,
  BertSelfAttention,
  positionsAfterPadding,
} from "./bert.ts";
export { RobertaClassificationHead, RobertaForSequenceClassification } from "./roberta.ts";
export {
  loadEncoderWeights,
  type LoadEncoderWeightsOptions,
  type LoadEncoderWeightsReport,
} from "./load.ts";
export { PaddedEmbedding } from "./padded_embedding.ts";
export { initParameter, initWeights, type LayerBuild, SkipInit } from "./init.ts";
export { type AttentionDropout, mergeHeads, selfAttention, splitHeads } from "./attention.ts";
export { hiddenActivation } from "./activation.ts";
