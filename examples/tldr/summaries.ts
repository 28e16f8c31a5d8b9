/**
 * Summaries written by a policy: each held-out post becomes a prompt as trlX builds it (the post
 * cut to leave room, then `\nTL;DR:`), and the policy continues it greedily, as the SFT
 * evaluation and the side-by-side table read it.
 *
 * @module
 */

import type { GenerateOptions, GenerateResult } from "../../models/mod.ts";
import { policyPrompt, type SftRow, type TldrTokenizer } from "./data.ts";

/** A model that writes continuations. */
export interface SummaryWriter {
  /** Batched generation from unpadded prompts. */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult>;
  /** Evaluation mode. */
  eval(): unknown;
  /** Training mode. */
  train(): unknown;
  /** Whether the model is in training mode. */
  readonly training: boolean;
}

/** Prompts per generate call. */
const BATCH = 16;

/**
 * Token ids of the prompts the policy summarizes from (`maxLength − maxNewTokens` tokens at
 * most), and how many posts were cut to fit.
 *
 * @param rows Held-out rows.
 * @param tokenizer The policy's tokenizer.
 * @param settings Lengths.
 */
export function summaryPrompts(
  rows: readonly SftRow[],
  tokenizer: TldrTokenizer,
  settings: { maxLength: number; maxNewTokens: number },
): { ids: number[][]; truncated: number } {
  let truncated = 0;
  const ids = rows.map((row) => {
    const p = policyPrompt(row.prompt, tokenizer, settings.maxLength - settings.maxNewTokens);
    if (p.truncated) truncated++;
    return tokenizer.encode(p.text, { addSpecialTokens: false });
  });
  return { ids, truncated };
}

/**
 * Greedy summaries of held-out posts, decoded without special tokens and trimmed.
 *
 * @param model The policy.
 * @param tokenizer Its tokenizer.
 * @param rows Held-out rows.
 * @param settings Lengths.
 */
export async function generateSummaries(
  model: SummaryWriter,
  tokenizer: TldrTokenizer,
  rows: readonly SftRow[],
  settings: { maxLength: number; maxNewTokens: number },
): Promise<string[]> {
  const { ids } = summaryPrompts(rows, tokenizer, settings);
  const out: string[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < ids.length; start += BATCH) {
      const { tokens } = await model.generate(ids.slice(start, start + BATCH), {
        maxNewTokens: settings.maxNewTokens,
      });
      for (const t of tokens) out.push(tokenizer.decode(t, { skipSpecialTokens: true }).trim());
    }
  } finally {
    if (wasTraining) model.train();
  }
  return out;
}
