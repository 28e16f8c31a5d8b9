/**
 * The hh examples' data: Anthropic's hh-rlhf pairs (prompt = every turn up to the last
 * `"\n\nAssistant:"`, chosen and rejected = the two final replies) from the Hub, or in the tiny
 * preset the SYNTHETIC preference set; tokenized for the trainers, with rows that do not fit
 * the preset's lengths skipped (as TRL's reward and SFT scripts filter) or cut (as TRL 0.7.4's
 * DPO collator does).
 *
 * @module
 */

import { loadHhRlhf, syntheticPreferenceSplit } from "../../data/mod.ts";
import type { PreferenceTriple } from "../../algorithms/dpo/mod.ts";
import type { PromptCompletionExample } from "../../algorithms/sft/mod.ts";
import type { Tokenizer } from "../../models/mod.ts";
import type { HhOverLength, HhPreset } from "./presets.ts";
import { completionIds, promptIds } from "./policy.ts";

/** A preference pair as text; completions exclude the prompt. */
export interface HhTextPair {
  /** Shared prompt. */
  prompt: string;
  /** Preferred completion. */
  chosen: string;
  /** Other completion. */
  rejected: string;
}

/** Training and held-out pairs as text. */
export interface HhTextSplit {
  /** Training pairs. */
  train: HhTextPair[];
  /** Held-out pairs. */
  test: HhTextPair[];
}

/**
 * Read the preset's pairs: hh-rlhf's `train` and `test` splits (rows without a shared prompt
 * skipped), or a SYNTHETIC train/test split with disjoint completions.
 *
 * @param preset Source and counts.
 * @param seed Seed of the synthetic set.
 */
export async function loadHhPairs(preset: HhPreset, seed: number): Promise<HhTextSplit> {
  if (preset.data === "synthetic") {
    const { train, test } = syntheticPreferenceSplit(preset.trainExamples, preset.testExamples, {
      seed,
      maxCompletionTokens: preset.syntheticCompletionTokens,
    });
    return { train: train.toArray(), test: test.toArray() };
  }
  const read = (split: string, limit: number) =>
    loadHhRlhf({ split, limit, invalidRows: "skip" }).then((d) => d.toArray());
  const train = await read("train", preset.trainExamples);
  const test = await read("test", preset.testExamples);
  return { train, test };
}

/** Pairs tokenized for DPO, with the text they came from. */
export interface TokenizedPairs {
  /** Triples the DPO trainer takes. */
  triples: PreferenceTriple[];
  /** The text of each kept triple. */
  texts: HhTextPair[];
  /** Pairs skipped for length. */
  skipped: number;
  /** Pairs cut to fit (`overLength: "truncate"`). */
  truncated: number;
  /** Pairs skipped because both replies are the same text (hh-rlhf has a few). */
  identical: number;
}

/**
 * Cut a tokenized pair to fit as TRL 0.7.4's `DPODataCollatorWithPadding` does with its default
 * `truncation_mode="keep_end"`: only when prompt + longer completion passes `maxLength` is the
 * prompt cut to its last `maxPromptLength` tokens, and if the row is still too long each
 * completion keeps its first `maxLength − maxPromptLength` (its EOS may go). A shorter row is
 * left whole, however long its prompt. Returns null when nothing had to be cut.
 *
 * @param triple Prompt, chosen and rejected ids.
 * @param limits `maxLength` and `maxPromptLength` (smaller).
 */
export function truncatePairTrl074(
  triple: PreferenceTriple,
  limits: { maxLength: number; maxPromptLength: number },
): PreferenceTriple | null {
  const { maxLength, maxPromptLength } = limits;
  if (!(maxPromptLength < maxLength)) {
    throw new Error(
      `truncatePairTrl074: maxPromptLength (${maxPromptLength}) must be below maxLength ` +
        `(${maxLength}), or no completion token would be left`,
    );
  }
  let { prompt, chosen, rejected } = triple;
  const longer = Math.max(chosen.length, rejected.length);
  if (prompt.length + longer <= maxLength) return null;
  prompt = prompt.slice(-maxPromptLength);
  if (prompt.length + longer > maxLength) {
    chosen = chosen.slice(0, maxLength - maxPromptLength);
    rejected = rejected.slice(0, maxLength - maxPromptLength);
  }
  return { prompt, chosen, rejected };
}

/**
 * Tokenize pairs (BOS + prompt; completions + EOS), skipping any whose two replies are the
 * same text (no preference to learn). Rows over the limits (a prompt over `maxPromptLength`, or
 * prompt + longer completion over `maxLength` tokens) are skipped, or with `overLength:
 * "truncate"` cut by {@link truncatePairTrl074} (a prompt cut from the left loses its BOS, as a
 * tokenizer-added one would in TRL).
 *
 * @param pairs Text pairs.
 * @param tokenizer The policy's tokenizer.
 * @param preset Length limits and what to do with longer rows (default: skip them).
 */
export function tokenizePairs(
  pairs: readonly HhTextPair[],
  tokenizer: Tokenizer,
  preset: Pick<HhPreset, "maxLength" | "maxPromptLength"> & { overLength?: HhOverLength },
): TokenizedPairs {
  const out: TokenizedPairs = { triples: [], texts: [], skipped: 0, truncated: 0, identical: 0 };
  for (const pair of pairs) {
    if (pair.chosen === pair.rejected) {
      out.identical++;
      continue;
    }
    let triple: PreferenceTriple = {
      prompt: promptIds(tokenizer, pair.prompt),
      chosen: completionIds(tokenizer, pair.chosen),
      rejected: completionIds(tokenizer, pair.rejected),
    };
    if (preset.overLength === "truncate") {
      const cut = truncatePairTrl074(triple, preset);
      if (cut) {
        triple = cut;
        out.truncated++;
      }
    } else {
      const { prompt, chosen, rejected } = triple;
      const longest = prompt.length + Math.max(chosen.length, rejected.length);
      if (prompt.length > preset.maxPromptLength || longest > preset.maxLength) {
        out.skipped++;
        continue;
      }
    }
    out.triples.push(triple);
    out.texts.push(pair);
  }
  return out;
}

/**
 * SFT examples from pairs: the prompt (masked out of the loss) and the chosen reply.
 *
 * @param tokenized Pairs from {@link tokenizePairs}.
 */
export function sftExamples(tokenized: TokenizedPairs): PromptCompletionExample[] {
  return tokenized.triples.map((t) => ({ prompt: t.prompt, completion: t.chosen }));
}

/**
 * Describe how many rows a split kept, for the console.
 *
 * @param name Split name.
 * @param tokenized Tokenized pairs.
 */
export function describeKept(name: string, tokenized: TokenizedPairs): string {
  const cut = tokenized.truncated > 0 ? `, ${tokenized.truncated} cut to fit` : "";
  const notes = [
    tokenized.skipped > 0 ? `${tokenized.skipped} too long` : "",
    tokenized.identical > 0 ? `${tokenized.identical} with identical replies` : "",
  ].filter(Boolean);
  return `${name}: ${tokenized.triples.length} pairs${cut}` +
    (notes.length > 0 ? ` (skipped ${notes.join(", ")})` : "");
}
