/**
 * Tether: RLHF research in TypeScript on Deno. A tensor + autograd core with CPU and WebGPU
 * backends, Hugging Face checkpoints, and independent modules for PPO, DPO, ReST, best-of-n,
 * Bradley–Terry reward models and SFT.
 *
 * This entry re-exports the core and `computeRouge`; each module also has its own entry point
 * (`@tether/rlhf/core`, `@tether/rlhf/data`, `@tether/rlhf/eval`, ...).
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
