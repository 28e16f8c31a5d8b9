/**
 * The TL;DR examples' data, checked and tokenized as trlX's `summarize_rlhf` scripts do:
 *
 * - SFT: text = prompt + label (the prompt ends with `TL;DR:`), cut to `max_length` from the
 *   left as the SFT script's tokenizer (`truncation_side = "left"`) cuts, so the summary survives
 *   and the start of the post goes;
 * - comparisons: text = prompt + "\n" + summary, each wrapped as `<|startoftext|>` … EOS and cut
 *   to `max_length` from the right (a pair whose summaries both fall past the cut is left
 *   identical, and counted);
 * - PPO prompts: the post before `TL;DR:` cut to `max_length − 5` tokens, then `\nTL;DR:`.
 *
 * Bad rows fail with the row's index: a prompt without `TL;DR:`, an empty summary, a comparison
 * whose chosen equals its rejected. The full preset applies trlX's own filter instead (it skips
 * pairs with equal summaries or a summary under five words) and says how many it skipped.
 *
 * @module
 */

import type { PromptCompletionExample } from "../../algorithms/sft/mod.ts";
import type { TokenRewardPair } from "../../reward/mod.ts";
import { tokenRewardRow, type TokenRewardTokenizer } from "../../reward/mod.ts";

/** The cue every TL;DR prompt ends with. */
export const TLDR_CUE = "TL;DR:";

/** An SFT row as `CarperAI/openai_summarize_tldr` stores it. */
export interface SftRow {
  /** Post ending in `TL;DR:`. */
  prompt: string;
  /** Reference summary. */
  label: string;
}

/** A comparison row as `CarperAI/openai_summarize_comparisons` stores it. */
export interface ComparisonRow {
  /** The post. */
  prompt: string;
  /** Preferred summary. */
  chosen: string;
  /** Other summary. */
  rejected: string;
}

/** A tokenizer as these helpers use it. */
export interface TldrTokenizer extends TokenRewardTokenizer {
  /** Text of token ids. */
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
}

/**
 * Check SFT rows: each prompt holds `TL;DR:` and each summary has a word.
 *
 * @param where Caller, for messages.
 * @param rows The rows.
 */
export function checkSftRows(where: string, rows: readonly SftRow[]): void {
  rows.forEach((row, i) => {
    if (typeof row.prompt !== "string" || !row.prompt.includes(TLDR_CUE)) {
      throw new Error(
        `${where}: SFT row ${i} has no '${TLDR_CUE}' in its prompt (${preview(row.prompt)}); ` +
          `TL;DR prompts end with '\\n${TLDR_CUE}'`,
      );
    }
    if (typeof row.label !== "string" || row.label.trim() === "") {
      throw new Error(
        `${where}: SFT row ${i} has an empty summary (label ${JSON.stringify(row.label)})`,
      );
    }
  });
}

/** Tokenized SFT examples and what tokenizing them did. */
export interface TokenizedSft {
  /** Prompt and completion ids (completion = summary + EOS). */
  examples: PromptCompletionExample[];
  /** Examples cut to `maxLength` (from the left: the start of the post went). */
  truncated: number;
}

/**
 * Tokenize SFT rows: prompt and summary (+ EOS) encoded separately, the whole cut to
 * `maxLength` tokens from the left, as the tutorial's SFT tokenizer cuts.
 *
 * @param rows Checked rows.
 * @param tokenizer The policy's tokenizer.
 * @param maxLength Longest example in tokens.
 */
export function tokenizeSftRows(
  rows: readonly SftRow[],
  tokenizer: TldrTokenizer,
  maxLength: number,
): TokenizedSft {
  const eos = tokenizer.eosTokenId ?? null;
  let truncated = 0;
  const examples = rows.map((row) => {
    let prompt = tokenizer.encode(row.prompt, { addSpecialTokens: false });
    let completion = tokenizer.encode(row.label, { addSpecialTokens: false });
    if (eos !== null) completion = [...completion, eos];
    const over = prompt.length + completion.length - maxLength;
    if (over > 0) {
      truncated++;
      const fromPrompt = Math.min(over, prompt.length);
      prompt = prompt.slice(fromPrompt);
      completion = completion.slice(over - fromPrompt);
    }
    return { prompt, completion };
  });
  return { examples, truncated };
}

/** A policy prompt and whether the post was cut to fit. */
export interface PolicyPrompt {
  /** `post + "\nTL;DR:"`, the post cut to fit. */
  text: string;
  /** Whether the post was cut. */
  truncated: boolean;
}

/**
 * The prompt a policy summarizes from, as trlX's `get_prompt_dataset` builds it: the text before
 * `TL;DR:`, cut to `maxLength − 5` tokens (room for the cue), decoded and stripped, then
 * `\nTL;DR:`, cut to `maxLength` again.
 *
 * @param prompt An SFT prompt (it must hold `TL;DR:`).
 * @param tokenizer The policy's tokenizer.
 * @param maxLength Longest prompt in tokens (trlX: seq_length − max_new_tokens).
 */
export function policyPrompt(
  prompt: string,
  tokenizer: TldrTokenizer,
  maxLength: number,
): PolicyPrompt {
  if (!prompt.includes(TLDR_CUE)) {
    throw new Error(`policyPrompt: no '${TLDR_CUE}' in the prompt (${preview(prompt)})`);
  }
  const post = tokenizer.encode(prompt.split(TLDR_CUE)[0], { addSpecialTokens: false });
  const room = Math.max(0, maxLength - 5);
  const truncated = post.length > room;
  const head = tokenizer.decode(post.slice(0, room), { skipSpecialTokens: true }).trim();
  const ids = tokenizer.encode(`${head}\n${TLDR_CUE}`, { addSpecialTokens: false });
  const text = tokenizer.decode(ids.slice(0, maxLength), { skipSpecialTokens: true }).trim();
  return { text, truncated };
}

/** How comparison rows are screened. */
export type ComparisonFilter =
  /** Bad rows are errors naming the row. */
  | "strict"
  /** trlX's filter: skip pairs with equal summaries or a summary under five words, and count. */
  | "trlx";

/** Comparisons as text, and what screening did. */
export interface ComparisonTexts {
  /** `prompt + "\n" + summary` for each member, with the post. */
  pairs: { chosen: string; rejected: string; prompt: string }[];
  /** Rows skipped by trlX's filter (0 when strict). */
  skipped: number;
}

/**
 * Check and join comparison rows: each member's text is `prompt + "\n" + summary`, as trlX's
 * `create_comparison_dataset` joins them, and must hold `TL;DR:`.
 *
 * @param where Caller, for messages.
 * @param rows The rows.
 * @param filter `strict` or trlX's filter.
 */
export function comparisonTexts(
  where: string,
  rows: readonly ComparisonRow[],
  filter: ComparisonFilter,
): ComparisonTexts {
  const pairs: ComparisonTexts["pairs"] = [];
  let skipped = 0;
  rows.forEach((row, i) => {
    const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
    if (filter === "trlx") {
      if (row.chosen === row.rejected || words(row.chosen) < 5 || words(row.rejected) < 5) {
        skipped++;
        return;
      }
    } else {
      for (const side of ["chosen", "rejected"] as const) {
        if (row[side].replace(TLDR_CUE, "").trim() === "") {
          throw new Error(`${where}: comparison ${i} has an empty ${side} summary`);
        }
      }
      if (row.chosen === row.rejected) {
        throw new Error(
          `${where}: comparison ${i} has the same chosen and rejected summary ` +
            `(${preview(row.chosen)}); a pair must differ`,
        );
      }
    }
    const chosen = `${row.prompt}\n${row.chosen}`, rejected = `${row.prompt}\n${row.rejected}`;
    if (!chosen.includes(TLDR_CUE) || !rejected.includes(TLDR_CUE)) {
      throw new Error(
        `${where}: comparison ${i} has no '${TLDR_CUE}' in its prompt or summaries ` +
          `(${preview(chosen)})`,
      );
    }
    pairs.push({ chosen, rejected, prompt: row.prompt });
  });
  return { pairs, skipped };
}

/** Tokenized comparisons and what tokenizing them did. */
export interface TokenizedComparisons {
  /** Scored token rows of each pair. */
  pairs: TokenRewardPair[];
  /** Members cut to `maxLength`. */
  truncated: number;
  /** Pairs whose two rows came out identical (both summaries past the cut). */
  identical: number;
}

/**
 * Tokenize joined comparison texts for the per-token reward model (`<|startoftext|>` prefix,
 * cut to `maxLength` with room for the EOS).
 *
 * @param pairs Joined texts.
 * @param tokenizer The reward model's tokenizer.
 * @param maxLength Longest model input (trlX: 550).
 * @param prefix Text before each member (trlX: `<|startoftext|>`).
 */
export function tokenizeComparisons(
  pairs: readonly { chosen: string; rejected: string }[],
  tokenizer: TldrTokenizer,
  maxLength: number,
  prefix: string,
): TokenizedComparisons {
  let truncated = 0, identical = 0;
  const out = pairs.map((p) => {
    const c = tokenRewardRow(tokenizer, p.chosen, { maxLength, prefix });
    const r = tokenRewardRow(tokenizer, p.rejected, { maxLength, prefix });
    truncated += Number(c.truncated) + Number(r.truncated);
    if (c.row.length === r.row.length && c.row.every((id, k) => id === r.row[k])) identical++;
    return { chosen: c.row, rejected: r.row };
  });
  return { pairs: out, truncated, identical };
}

/**
 * The summary part of a comparison member (`TL;DR: …` → `…`).
 *
 * @param summary A comparison summary.
 */
export function summaryText(summary: string): string {
  const at = summary.indexOf(TLDR_CUE);
  return (at >= 0 ? summary.slice(at + TLDR_CUE.length) : summary).trim();
}

function preview(text: unknown): string {
  const s = String(text);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}
