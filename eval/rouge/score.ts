/**
 * ROUGE of one prediction against one reference, as `rouge_score`'s `RougeScorer.score`
 * computes it: clipped n-gram overlap (rougeN), the longest common subsequence over the whole
 * token sequences (rougeL), and the summary-level union LCS over newline-separated sentences
 * with ROUGE-1.5.5's guard against counting a token twice (rougeLsum).
 *
 * @module
 */

import type { RougeTokenizer } from "./tokenize.ts";

/** Precision, recall and their harmonic mean. */
export interface RougeScore {
  /** Matched units over the prediction's units. */
  precision: number;
  /** Matched units over the reference's units. */
  recall: number;
  /** 2PR / (P + R), or 0 when both are 0. */
  fmeasure: number;
}

/**
 * `rouge_score`'s F-measure: 2PR / (P + R), 0 when P + R is 0.
 *
 * @param precision P.
 * @param recall R.
 */
export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}

function score(precision: number, recall: number): RougeScore {
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

const ZERO: Readonly<RougeScore> = Object.freeze({ precision: 0, recall: 0, fmeasure: 0 });

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // Tokens are [a-z0-9]+ (or a custom tokenizer's strings): join with a character none holds.
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * ROUGE-N: overlap = Σ over reference n-grams of min(count in reference, count in prediction);
 * P = overlap / max(#prediction n-grams, 1), R = overlap / max(#reference n-grams, 1).
 *
 * @param reference Reference tokens.
 * @param prediction Prediction tokens.
 * @param n N-gram order (>= 1).
 */
export function rougeN(
  reference: readonly string[],
  prediction: readonly string[],
  n: number,
): RougeScore {
  const ref = ngramCounts(reference, n), pred = ngramCounts(prediction, n);
  let overlap = 0;
  for (const [gram, count] of ref) overlap += Math.min(count, pred.get(gram) ?? 0);
  const refTotal = Math.max(reference.length - n + 1, 0);
  const predTotal = Math.max(prediction.length - n + 1, 0);
  return score(overlap / Math.max(predTotal, 1), overlap / Math.max(refTotal, 1));
}

/** DP table T[i][j] = LCS(a[:i], b[:j]), as rows of length |b| + 1. */
function lcsTable(a: readonly string[], b: readonly string[]): Int32Array[] {
  const table = Array.from({ length: a.length + 1 }, () => new Int32Array(b.length + 1));
  for (let i = 1; i <= a.length; i++) {
    const row = table[i], above = table[i - 1];
    for (let j = 1; j <= b.length; j++) {
      row[j] = a[i - 1] === b[j - 1] ? above[j - 1] + 1 : Math.max(above[j], row[j - 1]);
    }
  }
  return table;
}

/**
 * ROUGE-L: the LCS length L of the whole sequences, P = L / |prediction|, R = L / |reference|;
 * 0 when either is empty.
 *
 * @param reference Reference tokens.
 * @param prediction Prediction tokens.
 */
export function rougeL(reference: readonly string[], prediction: readonly string[]): RougeScore {
  if (reference.length === 0 || prediction.length === 0) return { ...ZERO };
  const lcs = lcsTable(reference, prediction)[reference.length][prediction.length];
  return score(lcs / prediction.length, lcs / reference.length);
}

/**
 * Indices into `ref` of one LCS of `ref` and `can`, found by backtracking from the end: a match
 * steps diagonally; otherwise move left in `can` only when that keeps a strictly longer LCS.
 */
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  const out: number[] = [];
  let i = ref.length, j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i][j - 1] > t[i - 1][j]) j--;
    else i--;
  }
  return out.reverse();
}

/**
 * ROUGE-Lsum (Lin 2004 §3.2, summary-level LCS): for each reference sentence, the union of its
 * LCS with every prediction sentence; each token of the union counts as a hit while the token
 * still has unmatched occurrences in both whole texts. P = hits / prediction tokens,
 * R = hits / reference tokens.
 *
 * @param reference Reference sentences, each a token list.
 * @param prediction Prediction sentences, each a token list.
 */
export function rougeLsum(
  reference: readonly (readonly string[])[],
  prediction: readonly (readonly string[])[],
): RougeScore {
  if (reference.length === 0 || prediction.length === 0) return { ...ZERO };
  const m = reference.reduce((s, r) => s + r.length, 0);
  const n = prediction.reduce((s, c) => s + c.length, 0);
  if (m === 0 || n === 0) return { ...ZERO };
  const counter = (sentences: readonly (readonly string[])[]) => {
    const counts = new Map<string, number>();
    for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
    return counts;
  };
  const refLeft = counter(reference), predLeft = counter(prediction);
  let hits = 0;
  for (const r of reference) {
    const union = new Set<number>();
    for (const c of prediction) for (const i of lcsIndices(r, c)) union.add(i);
    for (const i of [...union].sort((a, b) => a - b)) {
      const token = r[i];
      const inPred = predLeft.get(token) ?? 0, inRef = refLeft.get(token) ?? 0;
      if (inPred > 0 && inRef > 0) {
        hits++;
        predLeft.set(token, inPred - 1);
        refLeft.set(token, inRef - 1);
      }
    }
  }
  return score(hits / n, hits / m);
}

/** Sentences of a text for rougeLsum: split on "\n", empty lines dropped ("\r" stays). */
export function rougeSentences(text: string): string[] {
  return text.split("\n").filter((line) => line.length > 0);
}

const NGRAM_TYPE = /^rouge([0-9])$/;

/**
 * Check a ROUGE type name: `rouge1` … `rouge9`, `rougeL` or `rougeLsum`, as `rouge_score` takes.
 *
 * @param type The name.
 * @returns The n-gram order, or `L` / `Lsum`.
 */
export function parseRougeType(type: string): number | "L" | "Lsum" {
  if (type === "rougeL") return "L";
  if (type === "rougeLsum") return "Lsum";
  const match = NGRAM_TYPE.exec(type);
  if (match) {
    const n = Number(match[1]);
    if (n > 0) return n;
    throw new Error(`ROUGE type '${type}': rougeN needs a positive n (rouge1 … rouge9)`);
  }
  throw new Error(
    `ROUGE type '${type}' is not one of rouge1 … rouge9, rougeL, rougeLsum (names are ` +
      `case-sensitive, as in rouge_score)`,
  );
}

/**
 * Every requested type of one (reference, prediction) pair, as `RougeScorer.score` returns it.
 *
 * @param reference The reference (target) text.
 * @param prediction The predicted summary.
 * @param types ROUGE types (checked by {@link parseRougeType}).
 * @param tokenize The tokenizer.
 */
export function scoreRouge(
  reference: string,
  prediction: string,
  types: readonly string[],
  tokenize: RougeTokenizer,
): Record<string, RougeScore> {
  const parsed = types.map(parseRougeType);
  // Whole-text tokens are only needed by types other than rougeLsum.
  const needTokens = parsed.some((p) => p !== "Lsum");
  const refTokens = needTokens ? tokenize(reference) : [];
  const predTokens = needTokens ? tokenize(prediction) : [];
  const out: Record<string, RougeScore> = {};
  types.forEach((type, k) => {
    const kind = parsed[k];
    out[type] = kind === "L"
      ? rougeL(refTokens, predTokens)
      : kind === "Lsum"
      ? rougeLsum(rougeSentences(reference).map(tokenize), rougeSentences(prediction).map(tokenize))
      : rougeN(refTokens, predTokens, kind);
  });
  return out;
}

/**
 * Against several references, per type the reference with the highest F-measure (the first on
 * ties), its precision and recall with it: `RougeScorer.score_multi`.
 *
 * @param references Reference texts (at least one).
 * @param prediction The predicted summary.
 * @param types ROUGE types.
 * @param tokenize The tokenizer.
 */
export function scoreRougeMulti(
  references: readonly string[],
  prediction: string,
  types: readonly string[],
  tokenize: RougeTokenizer,
): Record<string, RougeScore> {
  if (references.length === 0) {
    throw new Error("ROUGE: a prediction needs at least one reference, got an empty list");
  }
  const all = references.map((r) => scoreRouge(r, prediction, types, tokenize));
  const out: Record<string, RougeScore> = {};
  for (const type of types) {
    let best = 0;
    for (let i = 1; i < all.length; i++) {
      if (all[i][type].fmeasure > all[best][type].fmeasure) best = i;
    }
    out[type] = all[best][type];
  }
  return out;
}
