/**
 * GPT-2 on the core: config, trunk, language-model and sequence-classification models, and
 * checkpoint loading/saving with Hugging Face's names.
 * @module
 */

export {
  type Gpt2Activation,
  type GPT2Config,
  gpt2Config,
  gpt2ConfigJson,
  innerSize,
} from "./config.ts";
export { type BlockOptions, GPT2Attention, type LayerPast } from "./attention.ts";
export {
  type CausalLMOutput,
  GPT2Block,
  type GPT2Input,
  GPT2LMHeadModel,
  GPT2MLP,
  GPT2Model,
  type GPT2ModelOptions,
  type GPT2Options,
  LMHead,
  type PastKeyValues,
} from "./model.ts";
export {
  type GPT2ClassifierInput,
  type GPT2ClassifierOutput,
  GPT2ForSequenceClassification,
} from "./sequence_classification.ts";
export { GPT2_ARCHITECTURE } from "./architecture.ts";
export {
  describeGpt2,
  gpt2CheckpointKey,
  gpt2HostWeights,
  type Gpt2Like,
  isLoraName,
  loadGpt2Weights,
  type LoadGpt2WeightsOptions,
  type LoadGpt2WeightsResult,
  saveGpt2,
  skipGpt2InitDraws,
} from "./weights.ts";
