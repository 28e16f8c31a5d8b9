/**
 * Sampling with the tutorial's settings (`top_k=0`, `top_p=1.0`, `do_sample=True`, one response
 * length drawn per batch), shared by PPO rollouts, best-of-n and the side-by-side table, and the
 * text a reward model scores (query and response decoded together, as the tutorial does).
 *
 * @module
 */

import type { Generator } from "../../core/mod.ts";
import type { CausalLM, Tokenizer } from "../../models/mod.ts";
import type { LengthRange, SamplingSettings } from "./presets.ts";

/**
 * A length in `[range.min, range.max)` drawn from `generator` (TRL's `LengthSampler`, on a
 * seeded stream so that a resumed run draws the same lengths).
 *
 * @param range Bounds, max exclusive.
 * @param generator Source of the draw.
 */
export function drawLength(range: LengthRange, generator: Generator): number {
  return range.min + generator.int(range.max - range.min);
}

/**
 * Sample one response per query: the new tokens only, EOS kept when the model wrote it.
 *
 * @param model The policy (its adapters decide which model samples).
 * @param queries Query token rows.
 * @param settings Top-k, top-p, EOS handling.
 * @param maxNewTokens New tokens per row.
 * @param generator Source of the sampling draws.
 */
export async function sampleResponses(
  model: CausalLM,
  queries: readonly (readonly number[])[],
  settings: SamplingSettings,
  maxNewTokens: number,
  generator: Generator,
): Promise<number[][]> {
  const out = await model.generate(queries.map((q) => [...q]), {
    doSample: true,
    topK: settings.topK,
    topP: settings.topP,
    maxNewTokens,
    eosTokenId: settings.stopAtEos ? model.eosTokenId : null,
    generator,
  });
  out.tokens.forEach((r, i) => {
    if (r.length === 0) {
      throw new Error(`sampleResponses: row ${i} came back empty (maxNewTokens ${maxNewTokens})`);
    }
  });
  return out.tokens;
}

/**
 * The text a reward model scores: query and response decoded together, special tokens dropped.
 *
 * @param tokenizer The policy's tokenizer.
 * @param query Query token ids.
 * @param response Response token ids.
 */
export function sampleText(
  tokenizer: Tokenizer,
  query: readonly number[],
  response: readonly number[],
): string {
  return tokenizer.decode([...query, ...response], { skipSpecialTokens: true });
}
