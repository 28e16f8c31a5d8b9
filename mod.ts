/**
 * Tether: RLHF research in TypeScript on Deno. A tensor + autograd core with CPU and WebGPU
 * backends, Hugging Face checkpoints, and independent modules for PPO, DPO, ReST, best-of-n,
 * Bradley–Terry reward models and SFT.
 *
 * This entry re-exports the core; each module also has its own entry point
 * (`@tether/rlhf/core`, `@tether/rlhf/data`, ...).
 * @module
 */

export * from "./core/mod.ts";
