/**
 * Supervised fine-tuning of causal language models: the loss on completion tokens only (prompt
 * and padding labelled −100) or on the whole text, optional packing into fixed-length blocks,
 * evaluation loss and perplexity, metrics.jsonl, checkpoints and exact resume.
 *
 * @example
 * ```ts
 * import { SFTTrainer, tokenizeSftExamples } from "@tether/rlhf/sft";
 * const trainDataset = tokenizeSftExamples(
 *   [{ prompt: "the plot was", completion: " great." }],
 *   tokenizer,
 * );
 * const trainer = new SFTTrainer({ learningRate: 1e-3, batchSize: 8, maxSteps: 100 }, {
 *   model, // forward({ inputIds, attentionMask }) → { logits: [B, L, V] }
 *   trainDataset,
 *   tokenizer,
 * });
 * await trainer.train();
 * const { loss, perplexity } = await trainer.evaluate(heldOut);
 * ```
 * @module
 */

export {
  type SFTConfig,
  type SftEvalMetrics,
  SFTTrainer,
  type SFTTrainerParts,
} from "./trainer.ts";
export {
  IGNORE_INDEX,
  type LmRow,
  type LmRowOptions,
  packRows,
  type PromptCompletionExample,
  type SftExample,
  type SftTextExample,
  type TextExample,
  tokenizeSftExamples,
  toLmRows,
} from "./data.ts";
export {
  checkGenerationEval,
  evaluateGeneration,
  type GeneratingModel,
  type GenerationEvalResult,
  type SftGenerationEval,
} from "./generation_eval.ts";
export type { CausalLM } from "../common/trainer.ts";
export type { GenerateOptions, GenerateResult } from "../../models/generation.ts";
export { NonFiniteLossError } from "../common/nonfinite.ts";
export { readMetrics } from "../common/metrics.ts";
// Types the API mentions (Tensor, the shared trainer types and what they reference), so the docs
// resolve them.
export type * from "../../core/mod.ts";
export type * from "../common/mod.ts";
