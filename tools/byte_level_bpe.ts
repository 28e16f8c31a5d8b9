/**
 * Trains a small GPT-2-style byte-level BPE vocabulary on a corpus: GPT-2's pre-tokenizer
 * regex, bytes mapped to GPT-2's printable characters, then merges of the most frequent
 * adjacent pair (ties broken by the pair's text, so the result is deterministic) until the
 * vocabulary reaches its size. The result loads as a GPT-2 tokenizer (`tokenizer.json`), so a
 * tiny model's texts round-trip exactly, newlines and case included.
 *
 * @module
 */

import { byteLevelBpeTokenizerJson, type TokenizerJson } from "../models/mod.ts";

const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → printable character table (`bytes_to_unicode`). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

/** What {@link trainByteLevelBpe} returns. */
export interface ByteLevelBpe {
  /** Token → id: the 256 byte symbols, then one per merge, then `<|endoftext|>`. */
  vocab: Record<string, number>;
  /** Merges in rank order, `"a b"`. */
  merges: string[];
  /** The `tokenizer.json` document. */
  tokenizerJson: TokenizerJson;
}

/**
 * Learn merges on `texts` until the vocabulary holds `vocabSize` tokens (EOS included) or no
 * pair occurs twice.
 *
 * @param texts Training texts.
 * @param vocabSize Target vocabulary size (>= 257).
 */
export function trainByteLevelBpe(texts: readonly string[], vocabSize: number): ByteLevelBpe {
  if (!(Number.isInteger(vocabSize) && vocabSize >= 257)) {
    throw new Error(`trainByteLevelBpe: vocabSize must be an integer >= 257, got ${vocabSize}`);
  }
  const table = bytesToUnicode();
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of text.match(PRETOKENIZE) ?? []) {
      const mapped = Array.from(encoder.encode(piece), (b) => table[b]).join("");
      counts.set(mapped, (counts.get(mapped) ?? 0) + 1);
    }
  }
  const words = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([word, count]) => ({ symbols: Array.from(word), count }));
  const vocab: Record<string, number> = {};
  table.forEach((symbol, id) => (vocab[symbol] = id));
  const merges: string[] = [];
  while (Object.keys(vocab).length < vocabSize - 1) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null, bestCount = 1;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null) break;
    const [left, right] = best.split(" ");
    const merged = left + right;
    merges.push(best);
    if (!Object.hasOwn(vocab, merged)) vocab[merged] = Object.keys(vocab).length;
    for (const word of words) {
      const s = word.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(s[i]);
      }
      word.symbols = out;
    }
  }
  vocab["<|endoftext|>"] = Object.keys(vocab).length;
  const mergesText = ["#version: 0.2", ...merges].join("\n") + "\n";
  return { vocab, merges, tokenizerJson: byteLevelBpeTokenizerJson(vocab, mergesText) };
}
