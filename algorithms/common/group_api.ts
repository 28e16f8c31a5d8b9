/**
 * The part of the GRPO and RLOO APIs they share (the group trainer, its parts and results, and
 * what those mention), re-exported by both entry points.
 *
 * @module
 */

export {
  type GroupAdvantages,
  type GroupPolicy,
  type GroupPrompt,
  type GroupRewards,
  type GroupRollout,
  type GroupSampling,
  type GroupStats,
  type GroupTokenizer,
  GroupTrainer,
  type GroupTrainerParts,
  type GroupTrainerState,
  type GroupTrainOptions,
} from "./group_trainer.ts";
export {
  GROUP_CONFIG,
  GROUP_TRL_NAMES,
  type GroupConfigFields,
  type GroupConfigInput,
  type GroupConfigValues,
  type GroupSizes,
} from "./group_config.ts";
export { nanMean, nanStd } from "./groups.ts";
export {
  type NamedRewardFunction,
  type OnlineRewardFunction,
  type RewardContext,
  type RewardFunction,
  type ScoredRewards,
} from "./reward_functions.ts";
export type { AdapterSwitch, Reference, ReferenceKind } from "./reference.ts";
export type { LogitsModel, PolicyModel } from "./rollout.ts";
export type { OnlineLoopResult, OnlineQuery } from "./online_loop.ts";
export type { MinibatchLoss } from "./online_update.ts";
export type { TrainerScheduler } from "./trainer.ts";
export { NonFiniteLossError } from "./nonfinite.ts";
// Types the API mentions, so the page resolves them (their own pages are common's and report's).
export type { Rows } from "./batching.ts";
export type { ConfigInput, ConfigParser, SnakeCased } from "./config_schema.ts";
export type { ProgressEvent, ProgressSink } from "../../common/progress.ts";
export type { ReportTarget } from "../../report/run_files.ts";
export type { SampleRow } from "../../report/samples.ts";
export type { Hyperparams, Optimizer } from "../../core/optim/mod.ts";
// What those types mention in turn, so this page resolves every type it shows.
export type { LrSchedulerType } from "./args.ts";
export type { CheckpointScheduler } from "./checkpoint.ts";
export type {
  ConfigNames,
  ObjectSchema,
  SnakeCase,
  TrlNameTable,
  UnsupportedSetting,
} from "./config_schema.ts";
export type { TokenLogprobsOptions } from "./rollout.ts";
export type { Attrs, Backend, BackendCounters, BackendLimits } from "../../core/backend.ts";
export type { OptimizerStateDict, ParamGroup, ParamState } from "../../core/optim/optimizer.ts";
export type { SchedulerState } from "../../core/optim/schedule.ts";
export type { Shape } from "../../core/shape.ts";
export type { Storage, TapeNode } from "../../core/tensor.ts";
