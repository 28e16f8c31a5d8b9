/**
 * SFT examples turned into training rows: token ids with labels (−100 where no loss is taken:
 * the prompt, when training on completions only, and padding), truncation, and packing of short
 * examples into fixed-length blocks.
 *
 * Rows come as token ids or as TRL 0.28's SFT datasets hold them, tokenized as its `SFTTrainer`
 * does: `text` (or the `datasetTextField`) encoded with the tokenizer's special tokens and EOS
 * appended; `prompt` / `completion` strings as `encode(prompt)` and `encode(prompt + completion)`
 * + EOS, the first `encode(prompt).length` tokens being the prompt; `messages` (and
 * conversational `prompt` / `completion`) through the tokenizer's chat template, whose own end
 * tokens stay. Then each row keeps its first `maxLength` tokens (unless packed); a row left with
 * no token to train on is dropped, and every cut and drop is counted.
 *
 * @module
 */

import { allRows, checkTokenRow, type Rows } from "../common/batching.ts";
import {
  type ChatMessage,
  type DataReport,
  DataTally,
  encodeChat,
  isConversation,
  isTokenIds,
  type TextTokenizer,
  textTokenizer,
} from "../common/text_rows.ts";

/** Label of positions that take no loss (PyTorch's `ignore_index`). */
export const IGNORE_INDEX: number = -100;

/** A language-modelling example: the loss covers every token. */
export interface TextExample {
  /** Token ids of the whole text. */
  inputIds: number[];
}

/** A prompt–completion example: with `completionOnlyLoss`, only completion tokens are trained. */
export interface PromptCompletionExample {
  /** Token ids of the prompt. */
  prompt: number[];
  /** Token ids of the completion. */
  completion: number[];
}

/** One SFT example, tokenized. */
export type SftExample = TextExample | PromptCompletionExample;

/** A training row: ids and their labels (−100 = no loss), same length. */
export interface LmRow {
  /** Token ids. */
  ids: number[];
  /** Per-position labels: the id itself, or −100. */
  labels: number[];
}

/** How examples become rows. */
export interface LmRowOptions {
  /** Keep at most this many tokens of each example (null: all). */
  maxLength: number | null;
  /** Mask prompt tokens out of the loss. */
  completionOnlyLoss: boolean;
}

/**
 * Rows from examples: labels −100 on prompt tokens when `completionOnlyLoss`, truncation to
 * `maxLength` from the start. Every row must keep at least one trained next-token target.
 *
 * @param where Caller and dataset name for errors, e.g. `SFTTrainer: trainDataset`.
 * @param examples Tokenized examples.
 * @param options Truncation and masking.
 */
export function toLmRows(
  where: string,
  examples: Rows<SftExample>,
  options: LmRowOptions,
): LmRow[] {
  return allRows(examples).map((ex, i) => {
    if (
      !ex || typeof ex !== "object" || !("inputIds" in ex || ("prompt" in ex && "completion" in ex))
    ) {
      throw new Error(
        `${where} example ${i} must be { inputIds } or { prompt, completion } (token ids), got ` +
          `keys ${ex && typeof ex === "object" ? Object.keys(ex).join(", ") : typeof ex}`,
      );
    }
    const built = lmRow(`${where} example ${i}`, ex, options);
    if ("dropped" in built) {
      const n = "inputIds" in ex ? ex.inputIds.length : ex.prompt.length + ex.completion.length;
      const kept = options.maxLength === null ? n : Math.min(n, options.maxLength);
      throw new Error(
        `${where} example ${i} has no token to train on (${kept} tokens after truncation to ` +
          `maxLength ${options.maxLength}); it needs a completion token after the first position`,
      );
    }
    return built.row;
  });
}

/**
 * Concatenate rows and cut the stream into blocks of `blockLength` tokens (the last block may be
 * shorter). Attention crosses example boundaries inside a block, as in TRL's classic packing;
 * blocks without a trained target are dropped.
 *
 * @param rows Rows in order.
 * @param blockLength Tokens per block.
 */
export function packRows(rows: readonly LmRow[], blockLength: number): LmRow[] {
  if (!(Number.isInteger(blockLength) && blockLength >= 2)) {
    throw new Error(`packRows: blockLength must be an integer >= 2, got ${blockLength}`);
  }
  const ids = rows.flatMap((r) => r.ids), labels = rows.flatMap((r) => r.labels);
  const out: LmRow[] = [];
  for (let start = 0; start < ids.length; start += blockLength) {
    const block = {
      ids: ids.slice(start, start + blockLength),
      labels: labels.slice(start, start + blockLength),
    };
    if (block.labels.slice(1).some((l) => l !== IGNORE_INDEX)) out.push(block);
  }
  return out;
}

/** Text examples as many SFT datasets store them. */
export type SftTextExample = { text: string } | { prompt: string; completion: string };

/**
 * Tokenize text examples for the SFT trainer. The prompt and completion are encoded separately,
 * so the boundary is exact (no merge across it).
 *
 * @param examples `{ text }` or `{ prompt, completion }` rows.
 * @param tokenizer Anything with `encode(text) → ids`.
 * @param options `addEos` appends the EOS id to each text / completion (default true when the
 *   tokenizer has one), so the model learns to stop.
 */
export function tokenizeSftExamples(
  examples: Rows<SftTextExample>,
  tokenizer: { encode(text: string): number[]; eosTokenId?: number | null },
  options: { addEos?: boolean } = {},
): SftExample[] {
  const eos = tokenizer.eosTokenId ?? undefined;
  const addEos = options.addEos ?? eos !== undefined;
  if (addEos && eos === undefined) {
    throw new Error("tokenizeSftExamples: addEos needs a tokenizer with an eosTokenId");
  }
  const tail = (ids: number[]) => (addEos ? [...ids, eos!] : ids);
  return allRows(examples).map((ex) =>
    "text" in ex
      ? { inputIds: tail(tokenizer.encode(ex.text)) }
      : { prompt: tokenizer.encode(ex.prompt), completion: tail(tokenizer.encode(ex.completion)) }
  );
}

/**
 * An SFT row as TRL's datasets hold it: plain text (under `text`, or the trainer's
 * `datasetTextField`), a prompt and its completion, or a conversation (`messages`, or
 * conversational `prompt` / `completion`) rendered by the tokenizer's chat template.
 */
export type SftTextRow =
  | { text: string }
  | { prompt: string; completion: string }
  | { messages: ChatMessage[] }
  | { prompt: ChatMessage[]; completion: ChatMessage[] };

/** A row the SFT trainer takes: token ids, text, or a row with text under `datasetTextField`. */
export type SftRow = SftExample | SftTextRow | Readonly<Record<string, unknown>>;

/** How {@link sftRows} prepares a dataset. */
export interface SftRowOptions extends LmRowOptions {
  /** The field holding plain text (TRL's `dataset_text_field`, default `text`). */
  datasetTextField?: string;
}

/**
 * Tokenize one text row as TRL 0.28's `SFTTrainer` does (see the module notes).
 *
 * @param where Trainer, dataset and row, for messages.
 * @param row The row.
 * @param tokenizer The tokenizer (with `applyChatTemplate` for conversations).
 * @param datasetTextField The field holding plain text (default `text`).
 */
export function tokenizeSftRow(
  where: string,
  row: SftTextRow | Readonly<Record<string, unknown>>,
  tokenizer: TextTokenizer,
  datasetTextField = "text",
): { example: SftExample; format: "text" | "chat"; promptMismatch: boolean } {
  const r = row as Record<string, unknown>;
  const eos = tokenizer.eosTokenId ?? undefined;
  const withEos = (ids: number[]) => {
    if (eos === undefined) {
      throw new Error(
        `${where}: the tokenizer has no eosTokenId, which ends every plain-text example (as TRL ` +
          `does); use a tokenizer with an EOS token, or pass token ids`,
      );
    }
    return ids[ids.length - 1] === eos ? ids : [...ids, eos];
  };
  if (isConversation(r.messages)) {
    return {
      example: { inputIds: encodeChat(where, tokenizer, r.messages) },
      format: "chat",
      promptMismatch: false,
    };
  }
  if ("prompt" in r || "completion" in r) {
    const chat = isConversation(r.prompt) && isConversation(r.completion);
    let prompt: number[], full: number[];
    if (chat) {
      const messages = r.prompt as ChatMessage[];
      prompt = encodeChat(where, tokenizer, messages, true);
      full = encodeChat(where, tokenizer, [...messages, ...(r.completion as ChatMessage[])]);
    } else if (typeof r.prompt === "string" && typeof r.completion === "string") {
      prompt = tokenizer.encode(r.prompt);
      full = withEos(tokenizer.encode(r.prompt + r.completion));
    } else {
      throw new Error(
        `${where}: prompt and completion must both be strings, both conversations ` +
          `([{ role, content }]) or both token ids`,
      );
    }
    // As TRL: the prompt is the first encode(prompt).length tokens of the whole, even when the
    // tokenizer merged across the boundary (counted, as TRL warns).
    const promptMismatch = prompt.some((id, k) => full[k] !== id);
    return {
      example: { prompt: full.slice(0, prompt.length), completion: full.slice(prompt.length) },
      format: chat ? "chat" : "text",
      promptMismatch,
    };
  }
  if (typeof r[datasetTextField] === "string") {
    return {
      example: { inputIds: withEos(tokenizer.encode(r[datasetTextField] as string)) },
      format: "text",
      promptMismatch: false,
    };
  }
  throw new Error(
    `${where} must be { ${datasetTextField} }, { prompt, completion }, { messages } or token ids ` +
      `({ inputIds } / { prompt, completion }), got keys ${Object.keys(r).join(", ") || "(none)"}`,
  );
}

/**
 * Training rows of an SFT dataset (token ids or text), with the counts of what was cut or
 * dropped.
 *
 * @param where Trainer name, e.g. `SFTTrainer`.
 * @param dataset The dataset's name, e.g. `trainDataset`.
 * @param rows Token-id examples or text rows.
 * @param options Truncation (`maxLength` null when packing), masking and the text field.
 * @param tokenizer Needed for text rows.
 */
export function sftRows(
  where: string,
  dataset: string,
  rows: Rows<SftRow>,
  options: SftRowOptions,
  tokenizer?: unknown,
): { rows: LmRow[]; report: DataReport } {
  const tally = new DataTally(dataset);
  const out: LmRow[] = [];
  const field = options.datasetTextField ?? "text";
  let tok: TextTokenizer | undefined;
  allRows(rows).forEach((row, i) => {
    const at = `${where}: ${dataset} example ${i}`;
    const r = row as Record<string, unknown>;
    let example: SftExample;
    const truncations: string[] = [], notes: string[] = [];
    if (
      r && typeof r === "object" &&
      (isTokenIds(r.inputIds) || (isTokenIds(r.prompt) && isTokenIds(r.completion)))
    ) {
      example = row as SftExample;
    } else {
      if (!r || typeof r !== "object") throw new Error(`${at} must be an object, got ${row}`);
      tok ??= textTokenizer(`${where}: ${dataset}`, tokenizer);
      const t = tokenizeSftRow(at, r, tok, field);
      if (i === 0) tally.format = t.format;
      if (t.promptMismatch) notes.push("prompt tokenized differently inside prompt + completion");
      example = t.example;
    }
    const built = lmRow(at, example, options);
    if ("dropped" in built) tally.row({ kept: false, cause: built.dropped });
    else {
      if (built.truncated) truncations.push(`cut to maxLength ${options.maxLength}`);
      tally.row({ kept: true, truncations, notes });
      out.push(built.row);
    }
  });
  return { rows: out, report: tally.report() };
}

/** One example as a row: masked, truncated, or dropped when nothing is left to train on. */
function lmRow(
  where: string,
  ex: SftExample,
  options: LmRowOptions,
): { row: LmRow; truncated: boolean } | { dropped: string } {
  let ids: number[], labels: number[];
  if ("inputIds" in ex) {
    checkTokenRow(`${where} inputIds`, ex.inputIds);
    ids = [...ex.inputIds];
    labels = [...ids];
  } else {
    checkTokenRow(`${where} prompt`, ex.prompt);
    checkTokenRow(`${where} completion`, ex.completion);
    if (ex.completion.length === 0) throw new Error(`${where} has an empty completion`);
    ids = [...ex.prompt, ...ex.completion];
    labels = options.completionOnlyLoss
      ? [...ex.prompt.map(() => IGNORE_INDEX), ...ex.completion]
      : [...ids];
  }
  let truncated = false;
  if (options.maxLength !== null && ids.length > options.maxLength) {
    ids = ids.slice(0, options.maxLength);
    labels = labels.slice(0, options.maxLength);
    truncated = true;
  }
  // Position 0 is never a target: the first label that counts is at index >= 1.
  if (!labels.slice(1).some((l) => l !== IGNORE_INDEX)) {
    return {
      dropped: truncated
        ? `no completion token within maxLength ${options.maxLength}`
        : "no token to train on after the first",
    };
  }
  return { row: { ids, labels }, truncated };
}
