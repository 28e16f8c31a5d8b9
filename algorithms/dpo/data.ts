/**
 * DPO rows as TRL 0.28 prepares them: text (`prompt` / `chosen` / `rejected` strings),
 * conversations (lists of `{ role, content }`, rendered by the tokenizer's chat template), an
 * implicit prompt (the shared start of `chosen` and `rejected`, extracted), or token ids. Text is
 * tokenized without special tokens and plain-text completions end with EOS; then the prompt keeps
 * its last `maxPromptLength` tokens, each completion its first `maxCompletionLength`, and each
 * prompt + completion row at most `maxLength` tokens, cut by `truncationMode` (`keep_end` cuts
 * from the start, `keep_start` from the end). A pair left without a scored completion token, or
 * whose two rows became identical, is dropped; every cut and drop is counted.
 *
 * @module
 */

import { allRows, checkTokenRow, type Rows } from "../common/batching.ts";
import {
  type ChatMessage,
  type DataReport,
  DataTally,
  isConversation,
  isTokenIds,
  renderChat,
  type TextTokenizer,
  textTokenizer,
} from "../common/text_rows.ts";
import { LABEL_PAD_TOKEN_ID } from "./logps.ts";

/** One tokenized preference triple; completions exclude the prompt. */
export interface PreferenceTriple {
  /** Prompt token ids (start with BOS so the first completion token is scored). */
  prompt: number[];
  /** Preferred completion token ids. */
  chosen: number[];
  /** Dispreferred completion token ids. */
  rejected: number[];
}

/**
 * A preference row as TRL's datasets hold it: strings, or conversations (lists of
 * `{ role, content }`). Without `prompt`, the shared start of `chosen` and `rejected` is the
 * prompt (TRL's `maybe_extract_prompt`).
 */
export interface PreferenceTextRow {
  /** The prompt text or conversation. */
  prompt?: string | ChatMessage[];
  /** The preferred completion (or the whole preferred text, without `prompt`). */
  chosen: string | ChatMessage[];
  /** The dispreferred completion (or the whole dispreferred text, without `prompt`). */
  rejected: string | ChatMessage[];
}

/** A row {@link DPOTrainer} takes: token ids or text. */
export type PreferenceRow = PreferenceTriple | PreferenceTextRow;

/** A pair as one forward sees it: prompt+completion rows with labels −100 on the prompt. */
export interface DpoPairRows {
  /** Prompt + chosen completion ids, and their labels. */
  chosen: { ids: number[]; labels: number[] };
  /** Prompt + rejected completion ids, and their labels. */
  rejected: { ids: number[]; labels: number[] };
}

/** Which end of a too-long row is kept (TRL's `truncation_mode`). */
export type TruncationMode = "keep_end" | "keep_start";

/** Length limits of DPO rows (TRL 0.28's `DPOConfig` fields); null: no limit. */
export interface DpoLengthLimits {
  /** Tokens of prompt + completion per row (default 1024). */
  maxLength: number | null;
  /** Tokens of the prompt, its last ones kept (default 512). */
  maxPromptLength: number | null;
  /** Tokens of each completion, its first ones kept (default: no limit). */
  maxCompletionLength: number | null;
  /** `keep_end` (default) cuts a long row's start, `keep_start` its end. */
  truncationMode: TruncationMode;
}

/** TRL 0.28's defaults. */
export const DPO_LENGTH_DEFAULTS: Readonly<DpoLengthLimits> = Object.freeze({
  maxLength: 1024,
  maxPromptLength: 512,
  maxCompletionLength: null,
  truncationMode: "keep_end" as const,
});

/**
 * Tokenize one text row as TRL 0.28's `DPOTrainer.tokenize_row` (special tokens off; EOS after
 * plain-text completions; conversations through the chat template, whose own end tokens stay).
 *
 * @param where Trainer, dataset and row, for messages.
 * @param row The row.
 * @param tokenizer The tokenizer (with `applyChatTemplate` for conversations).
 */
export function tokenizePreferenceRow(
  where: string,
  row: PreferenceTextRow,
  tokenizer: TextTokenizer,
): PreferenceTriple {
  const extracted = extractPrompt(where, row);
  const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
  if (isConversation(extracted.chosen)) {
    const { prompt, chosen, rejected } = chatTexts(where, tokenizer, extracted);
    return { prompt: encode(prompt), chosen: encode(chosen), rejected: encode(rejected) };
  }
  const eos = tokenizer.eosTokenId;
  if (eos === undefined || eos === null) {
    throw new Error(
      `${where}: the tokenizer has no eosTokenId, which ends every plain-text completion (as ` +
        `TRL does); use a tokenizer with an EOS token, or pass token ids`,
    );
  }
  return {
    prompt: encode(extracted.prompt as string),
    chosen: [...encode(extracted.chosen as string), eos],
    rejected: [...encode(extracted.rejected as string), eos],
  };
}

/** The row with an explicit prompt of the same kind as its completions. */
function extractPrompt(where: string, row: PreferenceTextRow): Required<PreferenceTextRow> {
  const chat = isConversation(row.chosen);
  if (chat !== isConversation(row.rejected)) {
    throw new Error(`${where}: chosen and rejected must both be text or both be conversations`);
  }
  if (!chat && (typeof row.chosen !== "string" || typeof row.rejected !== "string")) {
    throw new Error(
      `${where}: chosen and rejected must be strings, conversations ([{ role, content }]) or ` +
        `token ids`,
    );
  }
  if (row.prompt !== undefined && isConversation(row.prompt) === chat) {
    if (!chat && typeof row.prompt !== "string") {
      throw new Error(`${where}: prompt must be a string like chosen and rejected`);
    }
    return row as Required<PreferenceTextRow>;
  }
  // TRL's extract_prompt: the longest shared start (a space before the split goes with the
  // completions); when one is a prefix of the other, the split falls one element short.
  const a = row.chosen, b = row.rejected;
  const n = Math.min(a.length, b.length);
  let idx = Math.max(0, n - 1);
  for (let i = 0; i < n; i++) {
    const same = chat
      ? (a as ChatMessage[])[i].role === (b as ChatMessage[])[i].role &&
        (a as ChatMessage[])[i].content === (b as ChatMessage[])[i].content
      : a[i] === b[i];
    if (!same) {
      idx = !chat && i > 0 && a[i - 1] === " " ? i - 1 : i;
      break;
    }
  }
  return {
    prompt: a.slice(0, idx) as string | ChatMessage[],
    chosen: a.slice(idx) as string | ChatMessage[],
    rejected: b.slice(idx) as string | ChatMessage[],
  };
}

/** TRL's `apply_chat_template` for a preference row: prompt text and each completion's rest. */
function chatTexts(
  where: string,
  tokenizer: TextTokenizer,
  row: Required<PreferenceTextRow>,
): { prompt: string; chosen: string; rejected: string } {
  const prompt = row.prompt as ChatMessage[];
  const chosen = row.chosen as ChatMessage[], rejected = row.rejected as ChatMessage[];
  const last = prompt[prompt.length - 1]?.role;
  if (last !== undefined && last !== "user" && last !== "tool" && last !== "system") {
    throw new Error(
      `${where}: the prompt conversation ends with a ${last} turn; end it with a user turn (the ` +
        `completions are the assistant's reply)`,
    );
  }
  let promptText = prompt.length > 0 ? renderChat(where, tokenizer, prompt, true) : "";
  const common = (x: string, y: string) => {
    let i = 0;
    while (i < x.length && i < y.length && x[i] === y[i]) i++;
    return x.slice(0, i);
  };
  const withChosen = renderChat(where, tokenizer, [...prompt, ...chosen]);
  promptText = common(promptText, withChosen);
  const chosenText = withChosen.slice(promptText.length);
  const withRejected = renderChat(where, tokenizer, [...prompt, ...rejected]);
  promptText = common(promptText, withRejected);
  return {
    prompt: promptText,
    chosen: chosenText,
    rejected: withRejected.slice(promptText.length),
  };
}

/**
 * Training rows of a preference dataset, with the counts of what was cut or dropped.
 *
 * @param where Trainer name, e.g. `DPOTrainer`.
 * @param dataset The dataset's name, e.g. `trainDataset`.
 * @param rows Token triples or text rows.
 * @param limits Length limits.
 * @param tokenizer Needed for text rows.
 */
export function preferencePairs(
  where: string,
  dataset: string,
  rows: Rows<PreferenceRow>,
  limits: DpoLengthLimits,
  tokenizer?: unknown,
): { pairs: DpoPairRows[]; report: DataReport } {
  const tally = new DataTally(dataset);
  const pairs: DpoPairRows[] = [];
  let tok: TextTokenizer | undefined;
  allRows(rows).forEach((row, i) => {
    const at = `${where}: ${dataset} pair ${i}`;
    if (!row || typeof row !== "object") {
      throw new Error(`${at}: expected { prompt, chosen, rejected }, got ${row}`);
    }
    let triple: PreferenceTriple;
    if (isTokenIds(row.chosen) && isTokenIds(row.rejected)) {
      triple = row as PreferenceTriple;
    } else {
      tok ??= textTokenizer(`${where}: ${dataset}`, tokenizer);
      if (i === 0) tally.format = isConversation(row.chosen) ? "chat" : "text";
      triple = tokenizePreferenceRow(at, row as PreferenceTextRow, tok);
    }
    const built = pairRows(at, triple, limits);
    if ("dropped" in built) tally.row({ kept: false, cause: built.dropped });
    else {
      tally.row({ kept: true, truncations: built.truncations });
      pairs.push(built.pair);
    }
  });
  return { pairs, report: tally.report() };
}

/** Checks one triple and builds its two rows under the length limits. */
function pairRows(
  where: string,
  t: PreferenceTriple,
  limits: DpoLengthLimits,
): { pair: DpoPairRows; truncations: string[] } | { dropped: string } {
  for (const field of ["prompt", "chosen", "rejected"] as const) {
    checkTokenRow(`${where} ${field}`, t[field]);
  }
  if (t.prompt.length === 0) {
    throw new Error(
      `${where}: the prompt is empty, so the first completion token would have no context to be ` +
        `scored from; start prompts with the BOS token`,
    );
  }
  for (const side of ["chosen", "rejected"] as const) {
    if (t[side].length === 0) throw new Error(`${where}: the ${side} completion is empty`);
  }
  const truncations: string[] = [];
  let prompt = t.prompt;
  if (limits.maxPromptLength !== null && prompt.length > limits.maxPromptLength) {
    prompt = prompt.slice(-limits.maxPromptLength);
    truncations.push(`prompt cut to maxPromptLength ${limits.maxPromptLength}`);
  }
  const row = (completion: number[]) => {
    if (limits.maxCompletionLength !== null && completion.length > limits.maxCompletionLength) {
      completion = completion.slice(0, limits.maxCompletionLength);
      truncations.push(`completion cut to maxCompletionLength ${limits.maxCompletionLength}`);
    }
    let ids = [...prompt, ...completion];
    let labels = [...prompt.map(() => LABEL_PAD_TOKEN_ID), ...completion];
    const max = limits.maxLength;
    if (max !== null && ids.length > max) {
      const keepEnd = limits.truncationMode === "keep_end";
      ids = keepEnd ? ids.slice(-max) : ids.slice(0, max);
      labels = keepEnd ? labels.slice(-max) : labels.slice(0, max);
      truncations.push(`row cut to maxLength ${max} (${limits.truncationMode})`);
    }
    return { ids, labels };
  };
  const chosen = row(t.chosen), rejected = row(t.rejected);
  // Position 0 is never scored: a row needs a completion label after it.
  for (const [side, r] of [["chosen", chosen], ["rejected", rejected]] as const) {
    if (!r.labels.slice(1).some((l) => l !== LABEL_PAD_TOKEN_ID)) {
      return { dropped: `no ${side} token left within maxLength ${limits.maxLength}` };
    }
  }
  if (
    chosen.ids.length === rejected.ids.length &&
    chosen.ids.every((v, k) => v === rejected.ids[k]) &&
    chosen.labels.every((v, k) => v === rejected.labels[k])
  ) {
    return {
      dropped: truncations.length > 0
        ? "chosen and rejected identical after truncation"
        : "chosen and rejected identical",
    };
  }
  return { pair: { chosen, rejected }, truncations };
}
