/**
 * PPO for language models with TRL 0.7.4's `PPOTrainer.step` semantics: per-token KL penalty
 * against a reference model, GAE, whitened advantages, clipped policy and value losses, adaptive
 * or fixed KL control, and TRL's statistic names.
 *
 * @example
 * ```ts
 * import { PPOConfig, PPOTrainer } from "@tether/rlhf/ppo";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 with a fresh value head; any causal LM or Hub id works.
 * const path = "examples/assets/tiny-imdb/policy";
 * const config = new PPOConfig({ learningRate: 1.41e-5, batchSize: 2, miniBatchSize: 1 });
 * const trainer = new PPOTrainer(config, {
 *   model: await loadCausalLM(path, { valueHead: true }), // forward → { logits, values }
 *   tokenizer: await loadTokenizer(path),
 * }); // a full fine-tune: the trainer keeps a frozen copy as the reference
 * const stats = await trainer.step([[5, 9], [7, 3, 4]], [[17, 2, 30], [4, 8]], [1, -0.5]);
 * console.log(stats["objective/kl"], stats["ppo/returns/mean"]);
 * ```
 *
 * Or let {@link trainPPO} run the loop (batches → generate → reward → step) with metrics.jsonl,
 * checkpoints and `resume`.
 * @module
 */

export {
  makePPOConfig,
  PPO_CONFIG,
  PPO_DEFAULTS,
  PPO_TRL_NAMES,
  PPOConfig,
  type PPOConfigInput,
  type PPOConfigValues,
} from "./config.ts";
export {
  type PpoOptimizer,
  type PPOStats,
  PPOTrainer,
  type PPOTrainerParts,
  type PPOTrainerState,
} from "./trainer.ts";
export {
  PPO_CHECKPOINT_DIR,
  type PPOLoopOptions,
  type PPOLoopResult,
  type PPOQuery,
  type PPOStepContext,
  type PPOStepInfo,
  statsLine,
  trainPPO,
} from "./loop.ts";
export { scalarStats } from "./stats.ts";
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
} from "../common/rollout.ts";
export {
  type AdapterSwitch,
  type ParameterizedModel,
  Reference,
  type ReferenceKind,
  type ReferenceParts,
  resolveReference,
} from "../common/reference.ts";
export { KL_MODES, type KlEstimator } from "../common/kl.ts";
// What the loop's options and errors mention.
export { NonFiniteLossError } from "../common/nonfinite.ts";
export type { CheckpointModel } from "../common/checkpoint.ts";
export type { Rows } from "../common/batching.ts";
export type { ProgressSink } from "../../common/progress.ts";
export {
  computeRewards,
  type FullKlInputs,
  type KlPenalty,
  klPenalty,
  lastTokenOneHot,
  type TokenRewards,
} from "./rewards.ts";
export { type AdvantageOptions, type Advantages, computeAdvantages } from "./advantages.ts";
export { ppoLoss, type PpoLossConfig, type PpoLossInputs, type PpoLossOutput } from "./loss.ts";
export { AdaptiveKlController, FixedKlController, type KlController } from "./kl_controller.ts";
export { type BatchMoments, RunningMoments } from "./running_moments.ts";
// Types the PPO API mentions, so its page resolves them (their own pages are core's, report's,
// and common's).
export type { Generator, GeneratorState, Tensor } from "../../core/mod.ts";
export type { ReportTarget } from "../../report/run_files.ts";
export type { ProgressEvent } from "../../common/progress.ts";
export type { ConfigInput, ConfigParser, SnakeCased } from "../common/config_schema.ts";
// What those types mention in turn, so this page resolves every type it shows.
export type {
  ConfigNames,
  ObjectSchema,
  SnakeCase,
  TrlNameTable,
  UnsupportedSetting,
} from "../common/config_schema.ts";
export type { Attrs, Backend, BackendCounters, BackendLimits } from "../../core/backend.ts";
export type { Shape } from "../../core/shape.ts";
export type { Storage, TapeNode } from "../../core/tensor.ts";
