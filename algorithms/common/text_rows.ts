/**
 * What the trainers share to take text as TRL does: the tokenizer they need (encode, EOS, and a
 * chat template for `messages` rows), conversations rendered through the template, and a
 * {@link DataReport} counting the rows that were truncated or dropped, with one log line.
 *
 * @module
 */

import { type ProgressSink, progressSink } from "../../common/progress.ts";

/** One turn of a conversation, as chat templates read it. */
export interface ChatMessage {
  /** `system`, `user`, `assistant` (or whatever roles the template knows). */
  role: string;
  /** The turn's text. */
  content: string;
}

/**
 * The tokenizer a trainer needs for text rows (the `models` `Tokenizer` is one). Conversations
 * (`messages`, or lists of `{ role, content }` in `prompt` / `chosen` / `rejected` /
 * `completion`) need `applyChatTemplate`.
 */
export interface TextTokenizer {
  /** Token ids of `text`; `addSpecialTokens: false` leaves out BOS/CLS and the like. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** End-of-sequence id, appended to plain-text completions as TRL does. */
  eosTokenId?: number | null;
  /** Padding id (else EOS, else 0). */
  padTokenId?: number | null;
  /** Renders a conversation with the tokenizer's chat template. */
  applyChatTemplate?(
    messages: readonly ChatMessage[],
    options?: { addGenerationPrompt?: boolean },
  ): string;
}

/** Whether `v` is a conversation: a list of `{ role, content }` turns. */
export function isConversation(v: unknown): v is ChatMessage[] {
  return Array.isArray(v) && v.length > 0 &&
    v.every((m) =>
      m !== null && typeof m === "object" && typeof (m as ChatMessage).role === "string" &&
      typeof (m as ChatMessage).content === "string"
    );
}

/** Whether `v` is a list of token ids. */
export function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

/**
 * The tokenizer of a trainer's parts, checked to encode text.
 *
 * @param where Trainer and dataset, for the message.
 * @param tokenizer What the caller passed as `parts.tokenizer`.
 */
export function textTokenizer(where: string, tokenizer: unknown): TextTokenizer {
  if (
    tokenizer === null || typeof tokenizer !== "object" ||
    typeof (tokenizer as TextTokenizer).encode !== "function"
  ) {
    throw new Error(
      `${where}: the rows are text, so the trainer needs a tokenizer: pass parts.tokenizer ` +
        `(e.g. loadTokenizer from @tether/rlhf/models), or tokenize the rows yourself into ids`,
    );
  }
  return tokenizer as TextTokenizer;
}

/**
 * A conversation rendered by the tokenizer's chat template; a tokenizer without one is refused
 * with the fix.
 *
 * @param where Trainer, dataset and row, for the message.
 * @param tokenizer The tokenizer.
 * @param messages The conversation.
 * @param addGenerationPrompt End with the opening of an assistant turn.
 */
export function renderChat(
  where: string,
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  addGenerationPrompt = false,
): string {
  if (typeof tokenizer.applyChatTemplate !== "function") {
    throw new Error(
      `${where}: the row is a conversation (a list of { role, content }), which needs a chat ` +
        `template, but the tokenizer has no applyChatTemplate; use a tokenizer that has one ` +
        `(loadTokenizer on a checkpoint with a chat_template), or pass the rows as plain text`,
    );
  }
  return tokenizer.applyChatTemplate(messages, { addGenerationPrompt });
}

/**
 * The token ids of a conversation: the template writes the special tokens itself, so none are
 * added (as transformers' `apply_chat_template(tokenize=True)`).
 *
 * @param where Trainer, dataset and row, for the message.
 * @param tokenizer The tokenizer.
 * @param messages The conversation.
 * @param addGenerationPrompt End with the opening of an assistant turn.
 */
export function encodeChat(
  where: string,
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  addGenerationPrompt = false,
): number[] {
  return tokenizer.encode(renderChat(where, tokenizer, messages, addGenerationPrompt), {
    addSpecialTokens: false,
  });
}

/** What became of a dataset's rows on their way to training. */
export interface DataReport {
  /** The dataset, e.g. `trainDataset`. */
  dataset: string;
  /** How its rows came: `text`, `chat` (through the chat template) or `ids`. */
  format: "text" | "chat" | "ids";
  /** Rows given. */
  rows: number;
  /** Rows kept. */
  kept: number;
  /** Kept rows that lost tokens to a length limit. */
  truncated: number;
  /** Rows left out. */
  dropped: number;
  /**
   * Counts by cause (`truncated: ...`, `dropped: ...`, and `note: ...` for kept rows worth a
   * remark), in the order first seen.
   */
  causes: Readonly<Record<string, number>>;
}

/** Counts rows, truncations and drops while a dataset is prepared. */
export class DataTally {
  readonly #dataset: string;
  #format: DataReport["format"] = "ids";
  #rows = 0;
  #truncated = 0;
  #dropped = 0;
  readonly #causes = new Map<string, number>();

  /**
   * Counts for one dataset.
   *
   * @param dataset The dataset's name, e.g. `trainDataset`.
   */
  constructor(dataset: string) {
    this.#dataset = dataset;
  }

  /** Sets how the rows came. */
  set format(format: DataReport["format"]) {
    this.#format = format;
  }

  /**
   * Counts one row: kept (with the causes of any truncation) or dropped (with its cause).
   *
   * @param outcome `kept` with the truncations applied (and remarks that are not cuts), or
   *   `dropped` with why.
   */
  row(
    outcome:
      | { kept: true; truncations: readonly string[]; notes?: readonly string[] }
      | { kept: false; cause: string },
  ): void {
    this.#rows++;
    const add = (cause: string) => this.#causes.set(cause, (this.#causes.get(cause) ?? 0) + 1);
    if (!outcome.kept) {
      this.#dropped++;
      add(`dropped: ${outcome.cause}`);
    } else if (outcome.truncations.length > 0) {
      this.#truncated++;
      for (const t of new Set(outcome.truncations)) add(`truncated: ${t}`);
    }
    if (outcome.kept) { for (const n of new Set(outcome.notes ?? [])) add(`note: ${n}`); }
  }

  /** The counts so far. */
  report(): DataReport {
    return {
      dataset: this.#dataset,
      format: this.#format,
      rows: this.#rows,
      kept: this.#rows - this.#dropped,
      truncated: this.#truncated,
      dropped: this.#dropped,
      causes: Object.fromEntries(this.#causes),
    };
  }
}

/**
 * One line saying what became of a dataset's rows, e.g. `DPOTrainer: trainDataset: 1000 rows
 * (text): 12 truncated (prompt cut to maxPromptLength 512: 12), 2 dropped (chosen and rejected
 * identical: 2)`.
 *
 * @param where The trainer.
 * @param report The counts.
 */
export function formatDataReport(where: string, report: DataReport): string {
  const part = (prefix: string) =>
    Object.entries(report.causes).filter(([k]) => k.startsWith(prefix)).map(([k, n]) =>
      `${k.slice(prefix.length)}: ${n}`
    ).join("; ");
  const truncated = report.truncated > 0
    ? `${report.truncated} truncated (${part("truncated: ")})`
    : "none truncated";
  const dropped = report.dropped > 0
    ? `${report.dropped} dropped (${part("dropped: ")})`
    : "none dropped";
  const notes = part("note: ");
  return `${where}: ${report.dataset}: ${report.rows} rows (${report.format}): ${truncated}, ` +
    `${dropped}${notes ? `; ${notes}` : ""}`;
}

/**
 * Writes the line of each report that truncated, dropped or remarked on something (a clean
 * dataset stays quiet), as TRL warns.
 *
 * @param where The trainer.
 * @param reports The datasets' counts.
 * @param sink Where the line goes (default: the progress sink, standard error).
 */
export function logDataReports(
  where: string,
  reports: readonly DataReport[],
  sink: ProgressSink = progressSink(),
): void {
  for (const r of reports) {
    const noted = Object.keys(r.causes).some((k) => k.startsWith("note: "));
    if (r.truncated > 0 || r.dropped > 0 || noted) sink.write(`${formatDataReport(where, r)}\n`);
  }
}

/**
 * The counts as metrics under `data/` (`data/train_rows`, `data/train_truncated`,
 * `data/train_dropped`, and `data/eval_...` for the eval set).
 *
 * @param reports The datasets' counts.
 */
export function dataMetrics(reports: readonly DataReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reports) {
    const split = r.dataset.replace(/Dataset$/, "");
    out[`data/${split}_rows`] = r.kept;
    out[`data/${split}_truncated`] = r.truncated;
    out[`data/${split}_dropped`] = r.dropped;
  }
  return out;
}

/**
 * The rows left after preparation; none left is an error saying why each was dropped.
 *
 * @param where Trainer and dataset, for the message.
 * @param rows The kept rows.
 * @param report The counts.
 */
export function requireRows<T>(where: string, rows: T[], report: DataReport): T[] {
  if (rows.length === 0 && report.rows > 0) {
    throw new Error(
      `${where}: all ${report.rows} rows were dropped (${
        formatDataReport("", report).slice(2)
      }); ` +
        `raise the length limits or check the data`,
    );
  }
  return rows;
}
