/**
 * What the trainers share: settings, the training loop, `metrics.jsonl`, the progress line,
 * atomic checkpoints with exact resume, locked run folders, and the non-finite loss guard.
 *
 * @module
 */

export {
  DEFAULT_TRAINING_ARGS,
  type LrSchedulerType,
  resolveTrainingArgs,
  type TrainingArgs,
} from "./args.ts";
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
// Types the API mentions (Tensor, optimizers and what they reference), so the docs resolve them.
export type * from "../../core/mod.ts";
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
