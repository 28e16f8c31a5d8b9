/**
 * Tokenizers of the real vocabulary sizes and special tokens, made up rather than learned:
 * byte-level BPE for GPT-2 (50,257), RoBERTa (50,265), OPT (50,265) and SmolLM2 (49,152),
 * WordPiece for DistilBERT-cased (28,996) and a SentencePiece-style Unigram for T5 (32,100). The
 * merges and pieces follow a fixed pattern (every letter pair, then triple, ... after a space
 * marker or not) instead of corpus statistics, so any text encodes, at about three characters a
 * token. Each repo gets the files its Hub repo holds (`tokenizer.json` or only the legacy
 * `vocab.json` + `merges.txt` / `vocab.txt`, `tokenizer_config.json`, `special_tokens_map.json`),
 * with the Hub's special-token settings (OPT's added `</s>` in front, RoBERTa's `<s> … </s>`,
 * BERT's `[CLS] … [SEP]`, T5's `… </s>`).
 *
 * @module
 */

import {
  byteLevelBpeTokenizerJson,
  type TokenizerJson,
  wordPieceTokenizerJson,
} from "../../models/mod.ts";
import { bytesToUnicode } from "../byte_level_bpe.ts";
import type { RepoFile } from "./hub_cache.ts";

const LOWER = "abcdefghijklmnopqrstuvwxyz".split("");
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

/**
 * Merges applied before the pattern: the TL;DR tutorial cuts each post to leave exactly five
 * tokens for `"\nTL;DR:"` (GPT-2 spells it `\n`, `TL`, `;`, `DR`, `:`), so the made-up
 * vocabulary must spell it in five too, or the cut removes the cue.
 */
const CUE_MERGES = [["T", "L"], ["D", "R"]] as const;

/**
 * `count` BPE merges over GPT-2's byte symbols: a space marker or a letter followed by a lower-case
 * letter, then those followed by another letter, and so on, in that order (so each merge's parts
 * already exist when it applies).
 *
 * @param count Merges wanted.
 */
export function patternMerges(count: number): { merges: string[]; tokens: string[] } {
  const merges: string[] = [];
  const tokens: string[] = [];
  let level = ["Ġ", ...LOWER, ...UPPER];
  while (merges.length < count) {
    const next: string[] = [];
    for (const left of level) {
      for (const right of LOWER) {
        if (merges.length === count) return { merges, tokens };
        merges.push(`${left} ${right}`);
        tokens.push(left + right);
        next.push(left + right);
      }
    }
    level = next;
  }
  return { merges, tokens };
}

/**
 * A byte-level BPE vocabulary of exactly `size` entries: `head` special tokens first, the 256
 * byte symbols, the merged tokens, then `tail` special tokens.
 */
function byteLevelVocab(
  size: number,
  head: readonly string[],
  tail: readonly string[],
): { vocab: Record<string, number>; mergesText: string } {
  const vocab: Record<string, number> = {};
  let next = 0;
  const add = (token: string) => (vocab[token] = next++);
  head.forEach(add);
  bytesToUnicode().forEach(add);
  const cue = CUE_MERGES.map(([l, r]) => ({ merge: `${l} ${r}`, token: l + r }));
  const { merges, tokens } = patternMerges(size - head.length - 256 - tail.length - cue.length);
  cue.forEach((c) => add(c.token));
  tokens.forEach(add);
  tail.forEach(add);
  if (next !== size || Object.keys(vocab).length !== size) {
    throw new Error(`byte-level vocabulary has ${Object.keys(vocab).length} entries, not ${size}`);
  }
  const allMerges = [...cue.map((c) => c.merge), ...merges];
  return { vocab, mergesText: ["#version: 0.2", ...allMerges].join("\n") + "\n" };
}

/** Options of {@link gpt2TokenizerFiles}. */
export interface Gpt2TokenizerOptions {
  /** Write `tokenizer.json` too (gpt2 does; gpt2-imdb ships only the legacy files). */
  tokenizerJson: boolean;
  /** `tokenizer_config.json`. */
  config: Record<string, unknown>;
}

/**
 * GPT-2's tokenizer files: 50,257 tokens, `<|endoftext|>` (50256) as BOS, EOS and UNK.
 *
 * @param options Which files.
 */
export function gpt2TokenizerFiles(options: Gpt2TokenizerOptions): Record<string, RepoFile> {
  const { vocab, mergesText } = byteLevelVocab(50257, [], ["<|endoftext|>"]);
  const files: Record<string, RepoFile> = {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": mergesText,
    "tokenizer_config.json": json(options.config),
  };
  if (options.tokenizerJson) {
    files["tokenizer.json"] = JSON.stringify(byteLevelBpeTokenizerJson(vocab, mergesText));
  } else {
    files["special_tokens_map.json"] = json({
      bos_token: "<|endoftext|>",
      eos_token: "<|endoftext|>",
      unk_token: "<|endoftext|>",
    });
  }
  return files;
}

/** T5's post-processor: `</s>` (id 1) after each sequence, as the Hub's `tokenizer.json` has it. */
export const T5_POST_PROCESSOR = {
  type: "TemplateProcessing",
  single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
  pair: [
    { Sequence: { id: "A", type_id: 0 } },
    { SpecialToken: { id: "</s>", type_id: 0 } },
    { Sequence: { id: "B", type_id: 0 } },
    { SpecialToken: { id: "</s>", type_id: 0 } },
  ],
  special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
};

const ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"];

/**
 * RoBERTa-base's tokenizer files: 50,265 tokens, `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3,
 * `<mask>` 50264, each text wrapped as `<s> … </s>`.
 */
export function robertaTokenizerFiles(): Record<string, RepoFile> {
  const { vocab, mergesText } = byteLevelVocab(50265, ROBERTA_SPECIALS, ["<mask>"]);
  const base = byteLevelBpeTokenizerJson(vocab, mergesText, [...ROBERTA_SPECIALS, "<mask>"]);
  const tokenizer: TokenizerJson = {
    ...base,
    post_processor: {
      type: "RobertaProcessing",
      sep: ["</s>", 2],
      cls: ["<s>", 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
  };
  const specials = {
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    sep_token: "</s>",
    pad_token: "<pad>",
    cls_token: "<s>",
    mask_token: "<mask>",
  };
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": mergesText,
    "tokenizer.json": JSON.stringify(tokenizer),
    "special_tokens_map.json": json(specials),
    "tokenizer_config.json": json({
      ...specials,
      add_prefix_space: false,
      errors: "replace",
      model_max_length: 512,
      trim_offsets: true,
      tokenizer_class: "RobertaTokenizer",
    }),
  };
}

/**
 * OPT's tokenizer files as `facebook/opt-350m` ships them (no `tokenizer.json`): GPT-2's BPE
 * with `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3 in front, `</s>` as BOS and EOS, and
 * `add_bos_token` so every text starts with `</s>`.
 */
export function optTokenizerFiles(): Record<string, RepoFile> {
  const { vocab, mergesText } = byteLevelVocab(50265, ROBERTA_SPECIALS, []);
  const specials = { bos_token: "</s>", eos_token: "</s>", unk_token: "</s>", pad_token: "<pad>" };
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": mergesText,
    "special_tokens_map.json": json(specials),
    "tokenizer_config.json": json({
      ...specials,
      add_bos_token: true,
      add_prefix_space: false,
      errors: "replace",
      tokenizer_class: "GPT2Tokenizer",
    }),
  };
}

const SMOLLM_SPECIALS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<repo_name>",
  "<reponame>",
  "<file_sep>",
  "<filename>",
  "<gh_stars>",
  "<issue_start>",
  "<issue_comment>",
  "<issue_closed>",
  "<jupyter_start>",
  "<jupyter_text>",
  "<jupyter_code>",
  "<jupyter_output>",
  "<jupyter_script>",
  "<empty_output>",
];

/** SmolLM2's tokenizer files: 49,152 tokens, 17 special ones first, `<|endoftext|>` (0) as BOS/EOS. */
export function smolLmTokenizerFiles(): Record<string, RepoFile> {
  const { vocab, mergesText } = byteLevelVocab(49152, SMOLLM_SPECIALS, []);
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": mergesText,
    "tokenizer.json": JSON.stringify(byteLevelBpeTokenizerJson(vocab, mergesText, SMOLLM_SPECIALS)),
    "special_tokens_map.json": json({
      additional_special_tokens: SMOLLM_SPECIALS,
      bos_token: "<|endoftext|>",
      eos_token: "<|endoftext|>",
      unk_token: "<|endoftext|>",
    }),
    "tokenizer_config.json": json({
      additional_special_tokens: SMOLLM_SPECIALS,
      bos_token: "<|endoftext|>",
      clean_up_tokenization_spaces: false,
      eos_token: "<|endoftext|>",
      model_max_length: 8192,
      tokenizer_class: "GPT2Tokenizer",
      unk_token: "<|endoftext|>",
      vocab_size: 49152,
    }),
  };
}

/** Printable ASCII other than letters: punctuation and digits. */
const SYMBOLS = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).filter((c) =>
  !/[A-Za-z]/.test(c)
);

/**
 * BERT-base-cased's WordPiece vocabulary (28,996 tokens): `[PAD]` 0, `[unused1..99]`, `[UNK]`
 * 100, `[CLS]` 101, `[SEP]` 102, `[MASK]` 103, then characters, `##` continuations and words.
 */
export function bertCasedVocab(): string[] {
  const size = 28996;
  const vocab = ["[PAD]"];
  for (let i = 1; i <= 99; i++) vocab.push(`[unused${i}]`);
  vocab.push("[UNK]", "[CLS]", "[SEP]", "[MASK]");
  const chars = [...SYMBOLS, ...LOWER, ...UPPER];
  vocab.push(...chars, ...chars.map((c) => `##${c}`));
  const pairs = LOWER.flatMap((a) => LOWER.map((b) => a + b));
  vocab.push(
    ...pairs,
    ...pairs.map((p) => `##${p}`),
    ...pairs.map((p) => p[0].toUpperCase() + p[1]),
  );
  const triples = pairs.flatMap((p) => LOWER.map((c) => p + c));
  for (const t of triples) if (vocab.length < size) vocab.push(t);
  for (const t of triples) if (vocab.length < size) vocab.push(`##${t}`);
  if (vocab.length !== size) throw new Error(`WordPiece vocabulary has ${vocab.length} entries`);
  return vocab;
}

/** DistilBERT-base-cased's tokenizer files: WordPiece, cased, `[CLS] … [SEP]`. */
export function bertCasedTokenizerFiles(): Record<string, RepoFile> {
  const vocabText = bertCasedVocab().join("\n") + "\n";
  return {
    "vocab.txt": vocabText,
    "tokenizer.json": JSON.stringify(wordPieceTokenizerJson(vocabText, false)),
    "tokenizer_config.json": json({ do_lower_case: false }),
  };
}

/**
 * T5's SentencePiece vocabulary as a Unigram model (32,100 pieces): `<pad>` 0, `</s>` 1, `<unk>`
 * 2, pieces with and without the `▁` word marker (longer pieces score higher, so words split into
 * few pieces), then `<extra_id_99>` … `<extra_id_0>` (32000 … 32099).
 */
export function t5UnigramVocab(): [string, number][] {
  const pieces: [string, number][] = [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["▁", -2]];
  const add = (piece: string, score: number) => {
    if (pieces.length < 32000) pieces.push([piece, score]);
  };
  for (const c of SYMBOLS) add(c, -10);
  for (const c of [...LOWER, ...UPPER]) add(`▁${c}`, -9.5), add(c, -10);
  const pairs = LOWER.flatMap((a) => LOWER.map((b) => a + b));
  for (const p of pairs) add(`▁${p}`, -8), add(p, -8.5);
  for (const p of pairs) add(`▁${p[0].toUpperCase()}${p[1]}`, -8);
  const triples = pairs.flatMap((p) => LOWER.map((c) => p + c));
  for (const t of triples) add(`▁${t}`, -7);
  for (const t of triples) add(t, -7.5);
  for (let i = 99; i >= 0; i--) pieces.push([`<extra_id_${i}>`, 0]);
  if (pieces.length !== 32100) throw new Error(`Unigram vocabulary has ${pieces.length} pieces`);
  return pieces;
}

/** flan-T5's tokenizer files: Unigram over `▁`-marked words, `</s>` after every text. */
export function t5TokenizerFiles(): Record<string, RepoFile> {
  const vocab = t5UnigramVocab();
  const extra = vocab.slice(32000).map(([piece], i) => ({
    id: 32000 + i,
    content: piece,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const metaspace = { replacement: "▁", add_prefix_space: true, prepend_scheme: "always" };
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<pad>"), special(1, "</s>"), special(2, "<unk>"), ...extra],
    normalizer: { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Metaspace", ...metaspace }],
    },
    post_processor: T5_POST_PROCESSOR,
    decoder: { type: "Metaspace", ...metaspace },
    model: { type: "Unigram", unk_id: 2, vocab, byte_fallback: false },
  };
  const extraIds = Array.from({ length: 100 }, (_, i) => `<extra_id_${i}>`);
  return {
    "tokenizer.json": JSON.stringify(tokenizer),
    "special_tokens_map.json": json({
      additional_special_tokens: extraIds,
      eos_token: "</s>",
      pad_token: "<pad>",
      unk_token: "<unk>",
    }),
    "tokenizer_config.json": json({
      additional_special_tokens: extraIds,
      eos_token: "</s>",
      extra_ids: 100,
      model_max_length: 512,
      pad_token: "<pad>",
      sp_model_kwargs: {},
      tokenizer_class: "T5Tokenizer",
      unk_token: "<unk>",
    }),
  };
}
