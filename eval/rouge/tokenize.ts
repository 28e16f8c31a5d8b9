/**
 * `rouge_score`'s default tokenizer: lowercase, every run of characters outside `[a-z0-9]`
 * becomes one space, split on whitespace, optionally Porter-stem tokens longer than three
 * characters, and drop empty tokens.
 *
 * @module
 */

import { porterStem } from "./porter.ts";

/** Turns a text into the tokens ROUGE compares. */
export type RougeTokenizer = (text: string) => string[];

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;
const VALID_TOKEN = /^[a-z0-9]+$/;

/**
 * Tokens of `text` as `rouge_score`'s `DefaultTokenizer` produces them. Non-ASCII letters split
 * words (`naïve` → `na`, `ve`); `TL;DR:` → `tl`, `dr`.
 *
 * @example
 * ```ts
 * import { rougeTokenize } from "@tether/rlhf/eval";
 * rougeTokenize("TL;DR: I'm running late!", { useStemmer: true }); // ["tl", "dr", "i", "m", "run", "late"]
 * ```
 *
 * @param text Any text.
 * @param options `useStemmer`: replace tokens longer than 3 characters by their Porter stem.
 */
export function rougeTokenize(text: string, options: { useStemmer?: boolean } = {}): string[] {
  const words = text.toLowerCase().replace(NON_ALPHANUMERIC, " ").split(/\s+/);
  const stemmed = options.useStemmer
    ? words.map((word) => (word.length > 3 ? porterStem(word) : word))
    : words;
  return stemmed.filter((token) => VALID_TOKEN.test(token));
}
