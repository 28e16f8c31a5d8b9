/**
 * Supervised fine-tuning of causal language models: the loss on completion tokens only (prompt
 * and padding labelled −100) or on the whole text, optional packing into fixed-length blocks,
 * evaluation loss and perplexity, metrics.jsonl, checkpoints and exact resume.
 *
 * `SFTTrainer` takes TRL's config names and TRL's datasets: `text`, `prompt` / `completion`, or
 * `messages` rendered by the tokenizer's chat template, tokenized as TRL does; or token ids.
 *
 * @example
 * ```ts
 * import { SFTTrainer } from "@tether/rlhf/sft";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const trainer = new SFTTrainer({ learning_rate: 1e-3, max_steps: 4 }, {
 *   model,
 *   trainDataset: [
 *     { prompt: "the plot was", completion: " great fun." }, // loss on the completion only
 *     { text: "the acting was superb." }, // loss on every token
 *   ],
 *   tokenizer,
 * });
 * await trainer.train();
 * const { loss, perplexity } = await trainer.evaluate([{ text: "the plot was great fun." }]);
 * console.log(loss.toFixed(3), perplexity.toFixed(2));
 * ```
 * @module
 */

export {
  SFT_CONFIG,
  type SFTConfig,
  type SFTConfigInput,
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
  type SftRow,
  type SftRowOptions,
  sftRows,
  type SftTextExample,
  type SftTextRow,
  type TextExample,
  tokenizeSftExamples,
  tokenizeSftRow,
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
