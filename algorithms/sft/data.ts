/**
 * SFT examples turned into training rows: token ids with labels (−100 where no loss is taken:
 * the prompt, when training on completions only, and padding), truncation, and packing of short
 * examples into fixed-length blocks.
 *
 * @module
 */

import { allRows, checkTokenRow, type Rows } from "../common/batching.ts";

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
    let ids: number[], labels: number[];
    if (ex && "inputIds" in ex) {
      checkTokenRow(`${where} example ${i} inputIds`, ex.inputIds);
      ids = [...ex.inputIds];
      labels = [...ids];
    } else if (ex && "prompt" in ex && "completion" in ex) {
      checkTokenRow(`${where} example ${i} prompt`, ex.prompt);
      checkTokenRow(`${where} example ${i} completion`, ex.completion);
      if (ex.completion.length === 0) {
        throw new Error(`${where} example ${i} has an empty completion`);
      }
      ids = [...ex.prompt, ...ex.completion];
      labels = options.completionOnlyLoss
        ? [...ex.prompt.map(() => IGNORE_INDEX), ...ex.completion]
        : [...ids];
    } else {
      throw new Error(
        `${where} example ${i} must be { inputIds } or { prompt, completion } (token ids), got ` +
          `keys ${ex && typeof ex === "object" ? Object.keys(ex).join(", ") : typeof ex}`,
      );
    }
    if (options.maxLength !== null && ids.length > options.maxLength) {
      ids = ids.slice(0, options.maxLength);
      labels = labels.slice(0, options.maxLength);
    }
    // Position 0 is never a target: the first label that counts is at index >= 1.
    if (!labels.slice(1).some((l) => l !== IGNORE_INDEX)) {
      throw new Error(
        `${where} example ${i} has no token to train on (${ids.length} tokens after truncation to ` +
          `maxLength ${options.maxLength}); it needs a completion token after the first position`,
      );
    }
    return { ids, labels };
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
