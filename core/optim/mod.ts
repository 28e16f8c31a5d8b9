/**
 * Optimizers with torch.optim semantics (AdamW, Adam, SGD, RMSprop), global-norm gradient
 * clipping and learning-rate schedules. Updates run as registered in-place ops (`adamw`, `sgd`,
 * `rmsprop`), so parameters keep their identity and storage across steps.
 * @module
 */

export {
  type Hyperparams,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
} from "./optimizer.ts";
export { Adam, type AdamHyperparams, type AdamOptions, AdamW } from "./adam.ts";
export { SGD, type SgdHyperparams, type SgdOptions } from "./sgd.ts";
export { RMSprop, type RmspropHyperparams, type RmspropOptions } from "./rmsprop.ts";
export { clipGradNorm } from "./clip_grad.ts";
export {
  constantSchedule,
  constantScheduleWithWarmup,
  cosineScheduleWithWarmup,
  LambdaLR,
  linearScheduleWithWarmup,
  type LrLambda,
  lrLambdas,
  type SchedulerState,
} from "./schedule.ts";
export {
  CosineAnnealingLR,
  type CosineAnnealingOptions,
  LinearLR,
  type LinearLROptions,
} from "./torch_schedulers.ts";
export { runInPlace } from "./update_op.ts";
