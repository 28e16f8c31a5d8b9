/**
 * Reward-model pairs as TRL 0.28's `RewardTrainer` prepares them: token ids, text (`chosen` /
 * `rejected`, with an optional `prompt` put in front of each) or conversations (lists of
 * `{ role, content }`, the prompt's turns first, rendered by the tokenizer's chat template).
 * Plain text is encoded with the tokenizer's special tokens and ends with EOS (when the tokenizer
 * has one; BERT's `[SEP]` already ends the text); a pair with a side longer than `maxLength`
 * tokens is dropped (TRL filters them out) and counted.
 *
 * @module
 */

import { allRows, checkTokenRow, type Rows } from "../algorithms/common/batching.ts";
import {
  type ChatMessage,
  type DataReport,
  DataTally,
  encodeChat,
  isConversation,
  isTokenIds,
  type TextTokenizer,
  textTokenizer,
} from "../algorithms/common/text_rows.ts";

/** One tokenized preference pair (TRL's `input_ids_chosen` / `input_ids_rejected` / `margin`). */
export interface RewardPair {
  /** Token ids of the preferred text. */
  chosen: number[];
  /** Token ids of the other text. */
  rejected: number[];
  /** How much r_chosen should exceed r_rejected by; when one pair has it, all must. */
  margin?: number;
}

/** A preference pair as TRL's datasets hold it: strings or conversations. */
export interface RewardTextRow {
  /** Put in front of both texts (text or conversation), when given. */
  prompt?: string | ChatMessage[];
  /** The preferred text or conversation. */
  chosen: string | ChatMessage[];
  /** The other text or conversation. */
  rejected: string | ChatMessage[];
  /** Optional margin, carried over. */
  margin?: number;
}

/** A row {@link RewardTrainer} takes: token ids or text. */
export type RewardRow = RewardPair | RewardTextRow;

/**
 * Tokenize one text row as TRL 0.28's `RewardTrainer` does (see the module notes).
 *
 * @param where Trainer, dataset and row, for messages.
 * @param row The row.
 * @param tokenizer The tokenizer (with `applyChatTemplate` for conversations).
 */
export function tokenizeRewardRow(
  where: string,
  row: RewardTextRow,
  tokenizer: TextTokenizer,
): RewardPair {
  const out = (chosen: number[], rejected: number[]): RewardPair =>
    row.margin === undefined ? { chosen, rejected } : { chosen, rejected, margin: row.margin };
  if (isConversation(row.chosen) && isConversation(row.rejected)) {
    const prompt = row.prompt === undefined ? [] : row.prompt;
    if (!Array.isArray(prompt) || (prompt.length > 0 && !isConversation(prompt))) {
      throw new Error(`${where}: prompt must be a conversation like chosen and rejected`);
    }
    return out(
      encodeChat(where, tokenizer, [...prompt, ...row.chosen]),
      encodeChat(where, tokenizer, [...prompt, ...row.rejected]),
    );
  }
  if (typeof row.chosen !== "string" || typeof row.rejected !== "string") {
    throw new Error(
      `${where}: chosen and rejected must both be strings, both conversations ` +
        `([{ role, content }]) or both token ids`,
    );
  }
  if (row.prompt !== undefined && typeof row.prompt !== "string") {
    throw new Error(`${where}: prompt must be a string like chosen and rejected`);
  }
  // A tokenizer without EOS (BERT's: its [SEP] ends the text) adds nothing.
  const eos = tokenizer.eosTokenId ?? undefined;
  const encode = (text: string) => {
    const ids = tokenizer.encode((row.prompt ?? "") + text);
    return eos === undefined || ids[ids.length - 1] === eos ? ids : [...ids, eos];
  };
  return out(encode(row.chosen), encode(row.rejected));
}

/**
 * Training pairs of a dataset (token ids or text), with the counts of what was dropped; margins
 * must be on every pair or none.
 *
 * @param where Trainer name, e.g. `RewardTrainer`.
 * @param dataset The dataset's name, e.g. `trainDataset`.
 * @param rows Token pairs or text rows.
 * @param maxLength Longest side kept, in tokens (null: no limit).
 * @param tokenizer Needed for text rows.
 */
export function rewardPairs(
  where: string,
  dataset: string,
  rows: Rows<RewardRow>,
  maxLength: number | null,
  tokenizer?: unknown,
): { pairs: RewardPair[]; report: DataReport } {
  const tally = new DataTally(dataset);
  const pairs: RewardPair[] = [];
  let tok: TextTokenizer | undefined;
  let withMargin = -1, withoutMargin = -1;
  allRows(rows).forEach((row, i) => {
    const at = `${where}: ${dataset} pair ${i}`;
    if (!row || typeof row !== "object") {
      throw new Error(`${at}: expected { chosen, rejected }, got ${row}`);
    }
    let pair: RewardPair;
    if (isTokenIds(row.chosen) && isTokenIds(row.rejected)) pair = row as RewardPair;
    else {
      tok ??= textTokenizer(`${where}: ${dataset}`, tokenizer);
      if (i === 0) tally.format = isConversation(row.chosen) ? "chat" : "text";
      pair = tokenizeRewardRow(at, row as RewardTextRow, tok);
    }
    for (const side of ["chosen", "rejected"] as const) {
      checkTokenRow(`${at} ${side}`, pair[side]);
      if (pair[side].length === 0) throw new Error(`${at} ${side} is empty`);
    }
    if (pair.margin === undefined) withoutMargin = i;
    else if (typeof pair.margin !== "number" || !Number.isFinite(pair.margin)) {
      throw new Error(`${at} margin is ${pair.margin}; a margin must be a finite number`);
    } else withMargin = i;
    const longest = Math.max(pair.chosen.length, pair.rejected.length);
    if (maxLength !== null && longest > maxLength) {
      tally.row({ kept: false, cause: `a side longer than maxLength ${maxLength}` });
      return;
    }
    tally.row({ kept: true, truncations: [] });
    pairs.push(pair);
  });
  if (withMargin >= 0 && withoutMargin >= 0) {
    throw new Error(
      `${where}: ${dataset} pair ${withMargin} has a margin but pair ${withoutMargin} does ` +
        `not; give every pair a margin or none`,
    );
  }
  return { pairs, report: tally.report() };
}
