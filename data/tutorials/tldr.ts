/**
 * OpenAI's TL;DR summarization data as published by CarperAI: the SFT set
 * (`CarperAI/openai_summarize_tldr`: `prompt`, `label`) and the human comparisons
 * (`CarperAI/openai_summarize_comparisons`: `prompt`, `chosen`, `rejected`).
 *
 * @module
 */

import { z } from "zod";
import type { RowSchema } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import { loadTutorial, type TutorialLoadOptions, type TutorialSource } from "./source.ts";

/** Where the TL;DR SFT set lives on the Hub. */
export const TLDR_SFT_SOURCE: TutorialSource = {
  id: "CarperAI/openai_summarize_tldr",
  config: "default",
};

/** Where the TL;DR comparisons live on the Hub. */
export const TLDR_COMPARISONS_SOURCE: TutorialSource = {
  id: "CarperAI/openai_summarize_comparisons",
  config: "default",
};

/** One SFT example: a Reddit post prompt and its reference summary. */
export interface TldrSftRow {
  /** Post with its `TL;DR:` cue. */
  prompt: string;
  /** Reference summary. */
  label: string;
}

/** One human comparison between two summaries of the same post. */
export interface TldrComparisonRow {
  /** Post with its `TL;DR:` cue. */
  prompt: string;
  /** Preferred summary. */
  chosen: string;
  /** Other summary. */
  rejected: string;
}

/** Schema of a TL;DR SFT row. */
export const tldrSftRowSchema: RowSchema<TldrSftRow> = z.object({
  prompt: z.string().min(1),
  label: z.string(),
});

/** Schema of a TL;DR comparison row. */
export const tldrComparisonRowSchema: RowSchema<TldrComparisonRow> = z.object({
  prompt: z.string().min(1),
  chosen: z.string(),
  rejected: z.string(),
});

/**
 * Load the TL;DR SFT set from a local file or the Hub.
 *
 * @param options Path, split (`train`/`valid`/`test`), limit and Hub settings.
 */
export function loadTldrSft(options: TutorialLoadOptions = {}): Promise<Dataset<TldrSftRow>> {
  return loadTutorial(TLDR_SFT_SOURCE, tldrSftRowSchema, options);
}

/**
 * Load the TL;DR comparisons from a local file or the Hub.
 *
 * @param options Path, split (`train`/`test`/`valid1`/`valid2`), limit and Hub settings.
 */
export function loadTldrComparisons(
  options: TutorialLoadOptions = {},
): Promise<Dataset<TldrComparisonRow>> {
  return loadTutorial(TLDR_COMPARISONS_SOURCE, tldrComparisonRowSchema, options);
}
