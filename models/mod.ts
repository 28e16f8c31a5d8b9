/**
 * Models: resolving model files (a local folder, the shared Hugging Face cache, or a download
 * into it), reading and writing checkpoints (safetensors, sharded safetensors,
 * `pytorch_model.bin` through a restricted unpickler) as plain f32 host arrays, checkpoint key
 * conventions, and tokenizers.
 *
 * @example
 * ```ts
 * import { loadConfig, loadStateDict, loadTokenizer, normalizeGpt2Keys } from "@tether/rlhf/models";
 * // The examples' tiny GPT-2; a Hub id such as "openai-community/gpt2" is read the same way.
 * const path = "examples/assets/tiny-imdb/policy";
 * const config = await loadConfig(path);
 * const weights = normalizeGpt2Keys(await loadStateDict(path));
 * const tokenizer = await loadTokenizer(path);
 * console.log(config.n_layer, weights.get("wte.weight")!.shape, tokenizer.encode("great"));
 * ```
 * @module
 */

export { hfHome, hubCacheDir, hubSettings } from "./hub/env.ts";
export type { HubOptions, HubSettings, ProgressSink } from "./hub/env.ts";
export { describeError, HubError } from "./hub/errors.ts";
export type { HubErrorKind } from "./hub/errors.ts";
export { isRepoId, openModel } from "./hub/repo.ts";
export type { FileOptions, ModelFiles } from "./hub/repo.ts";
export { isCommitHash, repoCacheDir } from "./hub/cache.ts";
export { hubFileUrl } from "./hub/download.ts";

export { numelOf } from "./io/host.ts";
export type { HostArray, HostTensor, StateDict, StoredDType } from "./io/host.ts";
export { bf16BitsToF32, f16BitsToF32 } from "./io/dtype.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsFile,
  streamHostSafetensors,
  streamSafetensors,
  writeSafetensors,
} from "./io/safetensors.ts";
export type {
  ReadTensorsOptions,
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsSource,
} from "./io/safetensors.ts";
export { decodeTorchCheckpoint, readTorchCheckpoint, TorchCheckpointFile } from "./io/torch_bin.ts";
export type { ReadTorchOptions } from "./io/torch_bin.ts";
export { UnsafePickleError } from "./io/pickle.ts";
export {
  CHECKPOINT_FILES,
  findCheckpointFile,
  loadConfig,
  loadStateDict,
  openCheckpoint,
  saveCheckpoint,
} from "./io/checkpoint.ts";
export {
  type CheckpointReader,
  readAll,
  stateDictReader,
  type TensorEntry,
  type TensorSink,
} from "./io/tensor_stream.ts";
export { RandomAccessFile } from "./io/read_file.ts";
export type { CheckpointContents, LoadStateDictOptions } from "./io/checkpoint.ts";
export {
  diffKeys,
  gpt2KeysForSave,
  gpt2WeightNames,
  isGpt2MaskBuffer,
  normalizeGpt2Keys,
  stripPrefix,
  tieLmHead,
} from "./io/keys.ts";
export {
  byteLevelBpeTokenizerJson,
  saveTokenizer,
  wordLevelTokenizerJson,
  wordPieceTokenizerJson,
} from "./io/tokenizer_files.ts";
export type { AddedTokenJson, TokenizerJson, WordLevelOptions } from "./io/tokenizer_files.ts";

export { createTokenizer, loadTokenizer, Tokenizer } from "./tokenizer.ts";
export type {
  BatchEncodeOptions,
  BatchEncoding,
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  LoadTokenizerOptions,
} from "./tokenizer.ts";

export * as bert from "./bert/mod.ts";
export * from "./sequence_classifier.ts";
export {
  applyClassificationFunction,
  type ClassificationFunction,
  type ClassifierTokenizer,
  type ClassifyOptions,
  configLabels,
  defaultClassificationFunction,
  type LabelScore,
  loadTextClassifier,
  type LoadTextClassifierOptions,
  TextClassifier,
  type TextClassifierOptions,
} from "./text_classification.ts";

export * from "./gpt2/mod.ts";
export * from "./llama/mod.ts";
export * from "./opt/mod.ts";
export type {
  CausalLM,
  CausalLMInput,
  CausalLMOutput,
  LanguageModelInfo,
  Seq2SeqCache,
  Seq2SeqEncoderOutput,
  Seq2SeqLM,
  Seq2SeqLMInput,
  Seq2SeqLMOutput,
} from "./contract.ts";
export { architectureFor, type ArchitectureRow, type BuildOptions } from "./architecture.ts";
export {
  CAUSAL_LM_ARCHITECTURES,
  type CausalArchitecture,
  causalArchitecture,
  causalLoraTargets,
  type LoadCausalClassifierOptions,
  loadCausalLM,
  loadCausalLMForSequenceClassification,
  type LoadCausalLMOptions,
  type LoadGpt2ClassifierOptions,
  loadGpt2ForSequenceClassification,
  loadGpt2LMHeadModel,
} from "./causal_lm.ts";
export {
  CausalLMBase,
  type HasConfigJson,
  hostWeights,
  saveModel,
  withDefaults,
} from "./causal_base.ts";
export { adoptChildren, CausalLMWithValueHead, configJsonOf } from "./with_value_head.ts";
export {
  CausalLMForSequenceClassification,
  type ClassifierInput,
  type ClassifierOutput,
  type SequenceClassificationOptions,
} from "./for_sequence_classification.ts";
export {
  HEAD_PREFIXES,
  isLoraName,
  loadWeights,
  type LoadWeightsOptions,
  type LoadWeightsResult,
  planWeights,
  type WeightPlan,
} from "./load_weights.ts";
export { causalInputs, type CausalTensors, keepLast, positionsFromMask } from "./inputs.ts";
export {
  type GenerationDefaults,
  generationDefaults,
  loadGenerationDefaults,
} from "./generation_config.ts";
export {
  type CachedLayer,
  generate,
  type GenerateOptions,
  type GenerateResult,
  type GenerativeModel,
  sampleRow,
} from "./generation.ts";
export { beamSearch, type BeamSearchResult } from "./beam_search.ts";
export {
  type NextTokenLogProbs,
  nextTokenLogProbs,
  type NextTokenLogProbsOptions,
  outputHead,
  type ScoredModel,
} from "./next_token_logprobs.ts";
export {
  lastTokenIndex,
  lastTokenScores,
  ScoreHead,
  type ScoreHeadOptions,
  ValueHead,
  type ValueHeadOptions,
} from "./heads.ts";
export {
  applyLora,
  type ApplyLoraOptions,
  loadLora,
  LoraAdapters,
  type LoraConfig,
  loraConfigFromPeft,
  saveLora,
} from "./lora.ts";

// Encoder-decoder models: T5, the seq2seq model_type table, generation and value head.
export * from "./t5/mod.ts";
export {
  loadSeq2SeqLM,
  type LoadSeq2SeqLMOptions,
  SEQ2SEQ_LM_ARCHITECTURES,
} from "./seq2seq_lm.ts";
export { EncoderBoundDecoder, generateSeq2Seq } from "./seq2seq_generation.ts";
export { Seq2SeqLMWithValueHead } from "./seq2seq_value_head.ts";
export {
  loadStateDictWeights,
  type StateDictWeightsOptions,
  type StateDictWeightsResult,
} from "./state_dict_weights.ts";

// Types of the core that model signatures mention (their own pages are core's), so this page
// resolves them without listing the core's functions.
export type { Generator, Tensor } from "../core/mod.ts";
export type {
  Conv1D,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  LoadStateDictResult,
  Module,
  RMSNorm,
  StateDictInput,
} from "../core/nn/mod.ts";
export type { ProgressEvent } from "../common/progress.ts";
export type { LoadStateDictOptions as ModuleLoadStateDictOptions } from "../core/nn/mod.ts";
// What those types mention in turn, so this page resolves every type it shows.
export type { Attrs, Backend, BackendCounters, BackendLimits } from "../core/backend.ts";
export type { GeneratorState } from "../core/random.ts";
export type { Shape } from "../core/shape.ts";
export type { Storage, TapeNode } from "../core/tensor.ts";
