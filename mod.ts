/**
 * Tether: RLHF research in TypeScript on Deno. A tensor + autograd core with CPU and WebGPU
 * backends, Hugging Face checkpoints, and independent modules for PPO, GRPO, RLOO, DPO, ReST,
 * best-of-n, Bradley–Terry reward models and SFT.
 *
 * This entry re-exports the core, `computeRouge` and the online trainers; each module also has its
 * own entry point (`@tether/rlhf/core`, `@tether/rlhf/eval`, `@tether/rlhf/grpo`, ...).
 * @module
 */

export * from "./core/mod.ts";
export {
  computeRouge,
  type RougeAggregate,
  type RougeOptions,
  type RougeScore,
  type RougeScores,
} from "./eval/mod.ts";
export {
  GRPOConfig,
  type GRPOConfigInput,
  type GRPOConfigValues,
  GRPOTrainer,
} from "./algorithms/grpo/mod.ts";
export {
  RLOOConfig,
  type RLOOConfigInput,
  type RLOOConfigValues,
  RLOOTrainer,
} from "./algorithms/rloo/mod.ts";
export type {
  AdapterSwitch,
  GroupConfigInput,
  GroupConfigValues,
  GroupPolicy,
  GroupPrompt,
  GroupRewards,
  GroupRollout,
  GroupSampling,
  GroupSizes,
  GroupStats,
  GroupTokenizer,
  GroupTrainerParts,
  GroupTrainerState,
  GroupTrainOptions,
  LogitsModel,
  MinibatchLoss,
  NamedRewardFunction,
  OnlineLoopResult,
  OnlineRewardFunction,
  PolicyModel,
  Reference,
  ReferenceKind,
  RewardContext,
  ScoredRewards,
  TrainerScheduler,
} from "./algorithms/grpo/mod.ts";
export { GroupTrainer } from "./algorithms/grpo/mod.ts";
export {
  parseTrlxConfig,
  train,
  type TrlxConfig,
  type TrlxConfigInput,
  type TrlxEvaluation,
  type TrlxGenerateOptions,
  type TrlxRewardContext,
  type TrlxRewardFn,
  type TrlxTrainer,
  type TrlxTrainOptions,
} from "./algorithms/ppo_trlx/mod.ts";
