/**
 * What the trainers share: settings (one config rule for every trainer: Tether's names, their
 * snake_case spellings and TRL's names; unknown keys refused), text rows and their counts, the
 * training loop, `metrics.jsonl`, the progress line,
 * atomic checkpoints with exact resume, locked run folders, the non-finite loss guard; and for
 * online RL the rollout module (packing, `tokenLogprobs`, KL estimators), the `Reference` type,
 * the minibatch update, the one online loop, and the reward-function signature.
 *
 * @module
 */

export {
  type AdamBetaHalves,
  DEFAULT_TRAINING_ARGS,
  type LrSchedulerType,
  OPTIMIZER_NAMES,
  type OptimizerName,
  resolveTrainingArgs,
  type TrainerConfigInput,
  TRAINING_ARGS_CONFIG,
  TRAINING_ARGS_TRL_NAMES,
  type TrainingArgs,
  type TrainingArgsInput,
  UNSUPPORTED_TRAINING_ARGS,
} from "./args.ts";
export {
  ConfigError,
  type ConfigInput,
  type ConfigNames,
  type ConfigParser,
  describeValue,
  type ObjectSchema,
  type SnakeCase,
  snakeCase,
  type SnakeCased,
  strictConfig,
  type TrlNameTable,
  type UnsupportedSetting,
} from "./config_schema.ts";
export {
  type ChatMessage,
  dataMetrics,
  type DataReport,
  DataTally,
  encodeChat,
  formatDataReport,
  isConversation,
  isTokenIds,
  logDataReports,
  renderChat,
  requireRows,
  type TextTokenizer,
  textTokenizer,
} from "./text_rows.ts";
export {
  allRows,
  checkTokenRow,
  epochPermutation,
  MicroBatchOrder,
  type PaddedRows,
  padRight,
  rowAt,
  type Rows,
} from "./batching.ts";
export {
  CHECKPOINT_MANIFEST,
  type CheckpointContents,
  type CheckpointModel,
  type CheckpointOptimizer,
  type CheckpointScheduler,
  type CheckpointTargets,
  hasCheckpoint,
  loadCheckpoint,
  type LoadedCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
export {
  type MetricsRecord,
  MetricsWriter,
  type MetricsWriterOptions,
  readMetrics,
} from "./metrics.ts";
export { assertFiniteLoss, NonFiniteLossError } from "./nonfinite.ts";
export {
  byChunks,
  entropyFromLogits,
  gatherRows,
  type LogitsModel,
  type PackedRollout,
  packRollout,
  type PolicyModel,
  sequenceKl,
  type SequenceKlOptions,
  shiftedLogprobs,
  type TokenLogprobs,
  tokenLogprobs,
  type TokenLogprobsOptions,
} from "./rollout.ts";
export { type FullKlInputs, KL_MODES, type KlEstimator, type KlPenalty, klPenalty } from "./kl.ts";
export {
  type AdapterSwitch,
  type ParameterizedModel,
  Reference,
  type ReferenceKind,
  type ReferenceParts,
  resolveReference,
} from "./reference.ts";
export {
  type MinibatchLoss,
  type MinibatchPlan,
  type MinibatchResult,
  type MinibatchUpdate,
  runMinibatches,
  type StepOptimizer,
} from "./online_update.ts";
export {
  ONLINE_CHECKPOINT_DIR,
  type OnlineLoopOptions,
  type OnlineLoopResult,
  type OnlineQuery,
  onlineStatsLine,
  type OnlineStepContext,
  type OnlineStepInfo,
  type OnlineTrainer,
  runOnlineLoop,
  trainableParameters,
} from "./online_loop.ts";
export {
  keywordReward,
  lengthReward,
  type NamedRewardFunction,
  nameRewardFunctions,
  type OnlineRewardFunction,
  type RewardContext,
  type RewardFunction,
  type ScoredRewards,
  scoreTexts,
  scoreWithRewardFunctions,
  weightedRewards,
} from "./reward_functions.ts";
export {
  acquireRunLock,
  describeHolder,
  type LockHolder,
  openRunDir,
  RUN_INFO_FILE,
  RUN_LOCK_FILE,
  type RunDir,
  RunDirError,
  type RunDirMode,
  type RunDirOptions,
  type RunDirProblem,
  type RunInfo,
  RunLock,
} from "./run_dir.ts";
export { type PathAction, PathError, withPath } from "../../common/fs_errors.ts";
export {
  Progress,
  type ProgressSink,
  stderrSink as stderrProgressSink,
  type TrainingProgressOptions,
} from "../../common/progress.ts";
export {
  decodeTensorFile,
  encodeTensorFile,
  type HostValues,
  hostValuesOf,
  tensorFromHost,
} from "./tensor_file.ts";
export {
  type CausalLM,
  defaultOptimizer,
  makeScheduler,
  type MicroBatchResult,
  prefixed,
  type TrainableModel,
  type TrainCallOptions,
  TrainerBase,
  type TrainerParts,
  type TrainerScheduler,
  type TrainOutput,
} from "./trainer.ts";
// Optimizer types the trainers' parts mention (core exports them under the `optim` namespace).
export type {
  Hyperparams,
  LambdaLR,
  LrLambda,
  Optimizer,
  OptimizerStateDict,
  ParamGroup,
  ParamGroupInput,
  ParamsInput,
  ParamState,
  SchedulerState,
} from "../../core/optim/mod.ts";
