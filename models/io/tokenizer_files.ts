/**
 * Tokenizer files in the `tokenizers` JSON format (`tokenizer.json`): builders for word-level
 * vocabularies, converters from the legacy files some Hub repos still ship alone
 * (`vocab.json` + `merges.txt` for GPT-2 byte-level BPE, `vocab.txt` for BERT WordPiece), and
 * saving a tokenizer folder.
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "./atomic.ts";

/** A `tokenizer.json` document (only the parts this project reads are typed). */
export interface TokenizerJson {
  /** Format version. */
  version?: string;
  /** Tokens matched before normalisation, special or not. */
  added_tokens: AddedTokenJson[];
  /** Text normaliser, or null. */
  normalizer: Record<string, unknown> | null;
  /** Pre-tokeniser, or null. */
  pre_tokenizer: Record<string, unknown> | null;
  /** Post-processor (special tokens around a sequence), or null. */
  post_processor: Record<string, unknown> | null;
  /** Decoder, or null (tokens joined with spaces). */
  decoder: Record<string, unknown> | null;
  /** The model: `BPE`, `WordPiece`, `WordLevel` or `Unigram`. */
  model: Record<string, unknown> & { type?: string };
  /** Anything else the file carries. */
  [key: string]: unknown;
}

/** One entry of `added_tokens`. */
export interface AddedTokenJson {
  /** Token id. */
  id: number;
  /** Token text. */
  content: string;
  /** Only match whole words. */
  single_word: boolean;
  /** Strip whitespace on the left. */
  lstrip: boolean;
  /** Strip whitespace on the right. */
  rstrip: boolean;
  /** Match against normalised text. */
  normalized: boolean;
  /** Special tokens are skipped by `decode(..., {skipSpecialTokens: true})`. */
  special: boolean;
}

function specialToken(id: number, content: string): AddedTokenJson {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
}

/** Options for {@link wordLevelTokenizerJson}. */
export interface WordLevelOptions {
  /** The token for out-of-vocabulary words (must be in the vocabulary; default `[UNK]`). */
  unkToken?: string;
  /** Vocabulary entries that are special (never produced from text; default: `[...]` tokens). */
  specialTokens?: string[];
  /** Lower-case text before lookup (default true). */
  lowercase?: boolean;
  /** Split punctuation from words (`Whitespace`) or only split on spaces (default true). */
  splitPunctuation?: boolean;
}

/**
 * A word-level tokenizer: each whitespace- (and punctuation-) separated word maps to one id;
 * unknown words map to the unknown token.
 *
 * @example
 * ```ts
 * import { loadTokenizer, saveTokenizer, wordLevelTokenizerJson } from "@tether/rlhf/models";
 * const json = wordLevelTokenizerJson(["[PAD]", "[UNK]", "good", "bad"]);
 * const dir = await Deno.makeTempDir(); // e.g. "./my-tokenizer"
 * await saveTokenizer(dir, json, { pad_token: "[PAD]", unk_token: "[UNK]" });
 * console.log((await loadTokenizer(dir)).encode("good bad")); // [2, 3]
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param vocabulary Tokens in id order.
 * @param options Unknown token, special tokens, normalisation.
 */
export function wordLevelTokenizerJson(
  vocabulary: readonly string[],
  options: WordLevelOptions = {},
): TokenizerJson {
  const unkToken = options.unkToken ?? "[UNK]";
  const vocab: Record<string, number> = {};
  for (const [id, token] of vocabulary.entries()) {
    if (Object.hasOwn(vocab, token)) {
      throw new Error(
        `wordLevelTokenizerJson: token "${token}" appears twice (ids ${vocab[token]} and ${id})`,
      );
    }
    vocab[token] = id;
  }
  if (!Object.hasOwn(vocab, unkToken)) {
    throw new Error(
      `wordLevelTokenizerJson: the unknown token "${unkToken}" is not in the vocabulary`,
    );
  }
  const special = options.specialTokens ??
    vocabulary.filter((t) => /^\[[A-Z]+\]$|^<[^>]+>$/.test(t));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((token) => {
      if (!Object.hasOwn(vocab, token)) {
        throw new Error(
          `wordLevelTokenizerJson: special token "${token}" is not in the vocabulary`,
        );
      }
      return specialToken(vocab[token], token);
    }),
    normalizer: options.lowercase === false ? null : { type: "Lowercase" },
    pre_tokenizer: { type: options.splitPunctuation === false ? "WhitespaceSplit" : "Whitespace" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab, unk_token: unkToken },
  };
}

/**
 * Convert GPT-2's legacy files (`vocab.json` + `merges.txt`) into a byte-level BPE
 * `tokenizer.json`, as transformers' converter does.
 *
 * @param vocab Parsed `vocab.json` (token → id).
 * @param mergesText Contents of `merges.txt`.
 * @param specialTokens Tokens to register as special (default: `<|endoftext|>` when present).
 */
export function byteLevelBpeTokenizerJson(
  vocab: Record<string, number>,
  mergesText: string,
  specialTokens: string[] = Object.hasOwn(vocab, "<|endoftext|>") ? ["<|endoftext|>"] : [],
): TokenizerJson {
  const merges = mergesText.split("\n").map((line) => line.trimEnd()).filter((line) =>
    line !== "" && !line.startsWith("#version")
  );
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((token) => ({
      ...specialToken(vocab[token], token),
      normalized: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/**
 * Convert BERT's legacy `vocab.txt` into a WordPiece `tokenizer.json` with `[CLS] … [SEP]`
 * added around each sequence, as transformers' converter does.
 *
 * @param vocabText Contents of `vocab.txt`, one token per line in id order.
 * @param lowercase Lower-case and strip accents (`do_lower_case`, default true).
 */
export function wordPieceTokenizerJson(vocabText: string, lowercase = true): TokenizerJson {
  const lines = vocabText.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const vocab: Record<string, number> = {};
  for (const [id, line] of lines.entries()) vocab[line.replace(/\r$/, "")] = id;
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter((t) =>
    Object.hasOwn(vocab, t)
  );
  for (const needed of ["[UNK]", "[CLS]", "[SEP]"]) {
    if (!Object.hasOwn(vocab, needed)) {
      throw new Error(`vocab.txt lacks the BERT special token ${needed}`);
    }
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((token) => specialToken(vocab[token], token)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "BertProcessing",
      sep: ["[SEP]", vocab["[SEP]"]],
      cls: ["[CLS]", vocab["[CLS]"]],
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/**
 * Save `tokenizer.json` and `tokenizer_config.json` into a folder (created if needed; each file
 * replaced atomically), so `loadTokenizer(folder)` — or Python's `AutoTokenizer` — loads it.
 *
 * @param folder Destination folder.
 * @param tokenizerJson The tokenizer.
 * @param tokenizerConfig Special tokens and options (`pad_token`, `eos_token`, `model_max_length`, ...).
 */
export async function saveTokenizer(
  folder: string,
  tokenizerJson: TokenizerJson,
  tokenizerConfig: Record<string, unknown> = {},
): Promise<void> {
  await Deno.mkdir(folder, { recursive: true });
  await writeTextFileAtomic(join(folder, "tokenizer.json"), JSON.stringify(tokenizerJson) + "\n");
  await writeTextFileAtomic(
    join(folder, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "PreTrainedTokenizerFast", ...tokenizerConfig }, null, 2) +
      "\n",
  );
}
