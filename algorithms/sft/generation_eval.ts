/**
 * Generation-based evaluation for SFT: the model writes a completion for each eval prompt
 * (greedy by default), the completions are decoded and scored against references with ROUGE as
 * `evaluate` computes it, and the result is named as the Hugging Face Trainer names
 * `compute_metrics` output: `eval_rouge1`, `eval_rouge2`, `eval_rougeL`, `eval_rougeLsum`, plus
 * `eval_gen_len` (mean generated tokens, as `Seq2SeqTrainer` reports).
 *
 * @module
 */

import { computeRouge, DEFAULT_ROUGE_TYPES } from "../../eval/mod.ts";
import type { GenerateOptions, GenerateResult } from "../../models/generation.ts";
import { checkTokenRow } from "../common/batching.ts";

/** A model that can write completions (every causal LM of this library can). */
export interface GeneratingModel {
  /** Batched generation from unpadded prompts of token ids. */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult>;
  /** Evaluation mode (dropout off). */
  eval?(): unknown;
  /** Training mode. */
  train?(): unknown;
}

/** What {@link SftGenerationEval} needs: prompts, references, a decoder and the settings. */
export interface SftGenerationEval {
  /** Token ids of each eval prompt (e.g. a post ending in `TL;DR:`). */
  prompts: readonly (readonly number[])[];
  /** The reference completion of each prompt (text). */
  references: readonly string[];
  /** Text of generated token ids (special tokens dropped), e.g. `tokenizer.decode`. */
  decode: (ids: number[]) => string;
  /** Most new tokens per completion (default 48). */
  maxNewTokens?: number;
  /** Sample instead of greedy decoding (default false). */
  doSample?: boolean;
  /** Sampling temperature, top-k, top-p (with `doSample`). */
  temperature?: number;
  /** Top-k filter (0 = off). */
  topK?: number;
  /** Nucleus filter (1 = off). */
  topP?: number;
  /** Seed of sampling and of the ROUGE bootstrap (default 42). */
  seed?: number;
  /** Stop token (default: the model's EOS). */
  eosTokenId?: number | null;
  /** Prompts per generate call (default 16). */
  batchSize?: number;
  /** ROUGE types (default rouge1, rouge2, rougeL, rougeLsum). */
  rougeTypes?: readonly string[];
  /** Porter-stem before matching (default false, as `evaluate`). */
  useStemmer?: boolean;
}

/** Completions of the eval prompts and their ROUGE. */
export interface GenerationEvalResult {
  /** `eval_<type>` → ROUGE F-measure (bootstrap mid, as `evaluate`), and `eval_gen_len`. */
  metrics: Record<string, number>;
  /** The decoded completions, in prompt order. */
  predictions: string[];
}

/**
 * Check a generation-eval setting; errors name the field.
 *
 * @param where Caller, for messages.
 * @param g The setting.
 */
export function checkGenerationEval(where: string, g: SftGenerationEval): void {
  if (g.prompts.length === 0) throw new Error(`${where}: generationEval.prompts is empty`);
  if (g.prompts.length !== g.references.length) {
    throw new Error(
      `${where}: generationEval has ${g.prompts.length} prompts but ${g.references.length} ` +
        `references; give one reference per prompt`,
    );
  }
  g.prompts.forEach((p, i) => {
    checkTokenRow(`${where}: generationEval prompt ${i}`, p);
    if (p.length === 0) throw new Error(`${where}: generationEval prompt ${i} is empty`);
  });
  g.references.forEach((r, i) => {
    if (typeof r !== "string" || r.trim() === "") {
      throw new Error(`${where}: generationEval reference ${i} is empty; ROUGE needs a summary`);
    }
  });
  if (typeof g.decode !== "function") {
    throw new Error(`${where}: generationEval.decode must be a function (ids → text)`);
  }
}

/**
 * Generate a completion for every prompt in eval mode and score them with ROUGE.
 *
 * @param model The model.
 * @param g Prompts, references, decoder and settings.
 */
export async function evaluateGeneration(
  model: GeneratingModel,
  g: SftGenerationEval,
): Promise<GenerationEvalResult> {
  const size = g.batchSize ?? 16;
  const seed = g.seed ?? 42;
  const predictions: string[] = [];
  let generated = 0;
  model.eval?.();
  try {
    for (let start = 0; start < g.prompts.length; start += size) {
      const batch = g.prompts.slice(start, start + size).map((p) => [...p]);
      const { tokens } = await model.generate(batch, {
        maxNewTokens: g.maxNewTokens ?? 48,
        doSample: g.doSample ?? false,
        temperature: g.temperature,
        topK: g.topK,
        topP: g.topP,
        seed: seed + start,
        ...(g.eosTokenId !== undefined ? { eosTokenId: g.eosTokenId } : {}),
      });
      for (const t of tokens) {
        generated += t.length;
        predictions.push(g.decode(t));
      }
    }
  } finally {
    model.train?.();
  }
  const types = g.rougeTypes ?? DEFAULT_ROUGE_TYPES;
  const rouge = computeRouge(predictions, [...g.references], {
    rougeTypes: types,
    useStemmer: g.useStemmer ?? false,
    seed,
  });
  const metrics: Record<string, number> = {};
  for (const type of types) metrics[`eval_${type}`] = rouge[type];
  metrics.eval_gen_len = generated / predictions.length;
  return { metrics, predictions };
}
