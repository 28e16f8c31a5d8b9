/**
 * A word-level tokenizer for the SYNTHETIC review corpus: lowercase words and punctuation marks
 * are tokens, the vocabulary is the grammar's word list plus four specials.
 *
 * @module
 */

import { detokenizeWords, SYNTHETIC_REVIEW_WORDS } from "./reviews.ts";

/** Padding token (id 0). */
export const PAD_TOKEN = "<pad>";
/** Beginning and end of text, one token as in GPT-2 (id 1). */
export const EOS_TOKEN = "<|endoftext|>";
/** Unknown word (id 2). */
export const UNK_TOKEN = "<unk>";

const SPECIALS = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN] as const;
const TOKEN_PATTERN = /<\|endoftext\|>|<pad>|<unk>|[a-z0-9]+|[^\sa-z0-9]/g;

/** Options for {@link SyntheticWordTokenizer.encode}. */
export interface WordEncodeOptions {
  /** Prepend `<|endoftext|>` (default false). */
  addBos?: boolean;
  /** Append `<|endoftext|>` (default false). */
  addEos?: boolean;
}

/**
 * Word tokenizer for the SYNTHETIC corpus. Text is lowercased; words (`[a-z0-9]+`) and each
 * punctuation mark become tokens; anything outside the vocabulary becomes `<unk>`. It satisfies
 * the `{ encode, decode }` shape the query builders take.
 *
 * @example
 * ```ts
 * import { SyntheticWordTokenizer } from "@tether/rlhf/data";
 * const tok = new SyntheticWordTokenizer();
 * const ids = tok.encode("The plot was great!", { addEos: true });
 * tok.decode(ids); // "the plot was great!"
 * ```
 */
export class SyntheticWordTokenizer {
  /** Tokens by id: the specials first, then the words. */
  readonly vocab: readonly string[];
  readonly #ids: Map<string, number>;

  /**
   * Build the vocabulary.
   *
   * @param words Vocabulary words (default: every word of the synthetic review grammar).
   */
  constructor(words: readonly string[] = SYNTHETIC_REVIEW_WORDS) {
    const vocab: string[] = [...SPECIALS];
    for (const word of [...new Set(words.map((word) => word.toLowerCase()))].sort()) {
      if (!(SPECIALS as readonly string[]).includes(word)) vocab.push(word);
    }
    this.vocab = Object.freeze(vocab);
    this.#ids = new Map(vocab.map((token, id) => [token, id]));
  }

  /** Number of tokens, specials included. */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Id of `<pad>`. */
  get padTokenId(): number {
    return 0;
  }

  /** Id of `<|endoftext|>`, which also marks the beginning of text. */
  get bosTokenId(): number {
    return 1;
  }

  /** Id of `<|endoftext|>`. */
  get eosTokenId(): number {
    return 1;
  }

  /** Id of `<unk>`. */
  get unkTokenId(): number {
    return 2;
  }

  /**
   * Split text into token strings (lowercased); special tokens written literally are kept whole.
   *
   * @param text Any text.
   */
  tokenize(text: string): string[] {
    return text.toLowerCase().match(TOKEN_PATTERN) ?? [];
  }

  /**
   * Token ids of a text.
   *
   * @param text Any text.
   * @param options Whether to add `<|endoftext|>` at either end.
   */
  encode(text: string, options: WordEncodeOptions = {}): number[] {
    const ids = this.tokenize(text).map((token) => this.#ids.get(token) ?? this.unkTokenId);
    if (options.addBos) ids.unshift(this.bosTokenId);
    if (options.addEos) ids.push(this.eosTokenId);
    return ids;
  }

  /**
   * Text of token ids; punctuation attaches to the preceding word.
   *
   * @param ids Token ids.
   * @param options `skipSpecialTokens` (default true) drops `<pad>` and `<|endoftext|>`.
   */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.vocab[id];
      if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
      if (skip && (id === this.padTokenId || id === this.eosTokenId)) continue;
      tokens.push(token);
    }
    return detokenizeWords(tokens);
  }

  /**
   * Id of a token, or undefined when it is not in the vocabulary.
   *
   * @param token A token string.
   */
  tokenToId(token: string): number | undefined {
    return this.#ids.get(token);
  }

  /**
   * Token of an id, or undefined when out of range.
   *
   * @param id A token id.
   */
  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }

  /** The vocabulary as JSON-ready data, to save next to a checkpoint. */
  toJSON(): { type: "synthetic-word"; vocab: string[] } {
    return { type: "synthetic-word", vocab: [...this.vocab] };
  }

  /**
   * Rebuild a tokenizer from {@link SyntheticWordTokenizer.toJSON} output; ids are preserved.
   *
   * @param data Saved vocabulary.
   */
  static fromJSON(data: { vocab: readonly string[] }): SyntheticWordTokenizer {
    if (SPECIALS.some((token, i) => data.vocab[i] !== token)) {
      throw new Error(`a synthetic word vocabulary must start with ${SPECIALS.join(", ")}`);
    }
    const tokenizer = new SyntheticWordTokenizer(data.vocab.slice(SPECIALS.length));
    if (tokenizer.vocab.some((token, i) => token !== data.vocab[i])) {
      throw new Error("saved vocabulary is not sorted as this tokenizer would build it");
    }
    return tokenizer;
  }
}
