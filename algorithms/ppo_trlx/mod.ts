/**
 * trlX's PPO numerics (CarperAI/trlx, the library of the go_emotions and TL;DR tutorials), beside
 * TRL's in `../ppo`: the same clipped losses and KL controllers, but GAE and whitening on
 * response-aligned right-padded minibatches (padding included), `vf_coef` 1, reward clipping and
 * running / reference score scaling, rewards placed on trlX's slice, the k3 KL estimate for the
 * controller, and trlX's statistic names. Pure functions and small stateful helpers; the training
 * loop is built on them. The config is trlX's own layout (`parseTrlxConfig`), with its optimizer and
 * scheduler by name (`trlxOptimizer`, `trlxScheduler`). `train({ rewardFn, prompts, evalPrompts,
 * config })` runs the whole of trlX's PPO on text, for causal and seq2seq policies.
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { getAdvantagesAndReturns, trlxPpoLoss } from "./mod.ts";
 * const values = tensor([[0.1, 0.2, 0]]), rewards = tensor([[0, 1, 0]]);
 * const { advantages, returns } = getAdvantagesAndReturns(values, rewards, { gamma: 1, lam: 0.95 });
 * ```
 * @module
 */

export { whiten, type WhitenOptions } from "./whiten.ts";
export {
  getAdvantagesAndReturns,
  type TrlxAdvantageOptions,
  type TrlxAdvantages,
} from "./advantages.ts";
export {
  type TrlxLossConfig,
  type TrlxLossInputs,
  type TrlxLossOutput,
  trlxPpoLoss,
} from "./loss.ts";
export {
  type TrlxBatchMoments,
  TrlxRunningMoments,
  type TrlxRunningMomentsState,
} from "./running_moments.ts";
export {
  AdaptiveKlController,
  FixedKlController,
  type KlController,
  trlxKlController,
  type TrlxKlSettings,
} from "./kl_controller.ts";
export {
  type TrlxProcessedScores,
  type TrlxSampleScore,
  type TrlxScaleReward,
  TrlxScoreScaler,
  type TrlxScoreScalerState,
  type TrlxScoreSettings,
} from "./scores.ts";
export {
  trlxKlStats,
  trlxRolloutStats,
  trlxSliceEnds,
  trlxSliceRows,
  type TrlxTokenRewardInputs,
  type TrlxTokenRewards,
  trlxTokenRewards,
} from "./token_rewards.ts";
export {
  checkTrlxKwargs,
  defaultPpoConfig,
  parseTrlxConfig,
  TRLX_OPTIMIZERS,
  TRLX_SCHEDULERS,
  type TrlxConfig,
  TrlxConfigError,
  type TrlxConfigInput,
  type TrlxConfigIssue,
  type TrlxGenKwargs,
  type TrlxMethodConfig,
  type TrlxModelConfig,
  type TrlxOptimizerConfig,
  type TrlxPeftConfig,
  type TrlxSchedulerConfig,
  type TrlxTokenizerConfig,
  type TrlxTrainConfig,
} from "./config.ts";
export { trlxOptimizer, trlxScheduler } from "./optim.ts";
export {
  genOptions,
  train,
  TRLX_SEQ2SEQ_SEP,
  type TrlxEvaluation,
  type TrlxGenerateOptions,
  type TrlxRewardContext,
  type TrlxRewardFn,
  type TrlxTrainer,
  type TrlxTrainOptions,
} from "./train.ts";
export {
  type TrlxAfterStep,
  type TrlxElement,
  TrlxPpoTrainer,
  type TrlxStepRecord,
  type TrlxTrainerState,
} from "./trainer.ts";
export {
  freezeTrlxLayers,
  loadTrlxPolicy,
  type LoadTrlxPolicyOptions,
  type TrlxArch,
  type TrlxForwardInput,
  TrlxPolicy,
  trlxValueHead,
} from "./policy.ts";
export {
  disposeTrlxBatch,
  hostLogprobsAndValues,
  padRows,
  type TrlxBatch,
  trlxBatch,
  trlxLogprobsAndValues,
} from "./batch.ts";
// Types the API mentions, so this page resolves them (their own pages are core's, models' and
// common's).
export type { Generator, GeneratorState, Tensor } from "../../core/mod.ts";
export type { Attrs, Backend, BackendCounters, BackendLimits } from "../../core/backend.ts";
export type { Shape } from "../../core/shape.ts";
export type { Storage, TapeNode } from "../../core/tensor.ts";
export type {
  BatchEncodeOptions,
  BatchEncoding,
  CachedLayer,
  CausalLM,
  CausalLMInput,
  CausalLMOutput,
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  GenerateOptions,
  GenerateResult,
  LanguageModelInfo,
  Seq2SeqCache,
  Seq2SeqEncoderOutput,
  Seq2SeqLM,
  Seq2SeqLMInput,
  Seq2SeqLMOutput,
  Tokenizer,
} from "../../models/mod.ts";
export type { TokenMatrix } from "../../models/bert/inputs.ts";
export type {
  LoadStateDictOptions,
  LoadStateDictResult,
  StateDictInput,
} from "../../core/nn/module.ts";
export type { Layer } from "../../core/nn/sequential.ts";

export type { Module, Sequential } from "../../core/nn/mod.ts";
export type { ProgressEvent, ProgressSink } from "../../common/progress.ts";
export type { ReportTarget } from "../../report/run_files.ts";
export type { SampleRow } from "../../report/samples.ts";
export type { Reference, ReferenceKind } from "../common/reference.ts";
export type { LogitsModel, TokenLogprobsOptions } from "../common/rollout.ts";
export type {
  Hyperparams,
  LambdaLR,
  Optimizer,
  OptimizerStateDict,
  ParamGroup,
  ParamState,
  SchedulerState,
} from "../../core/optim/mod.ts";
