/**
 * Beam search as transformers' `generate(num_beams=…)` defines it (the vectorised
 * `_beam_search` that replaced `BeamSearchScorer`), for any `GenerativeModel`: causal LMs, and
 * seq2seq models through an adapter that feeds the decoder.
 *
 * Each prompt keeps `numBeams` running beams. A step scores every (beam, token) continuation by
 * its accumulated log-probability (log-softmax of the raw logits, EOS masked before
 * `minNewTokens`), keeps the 2·numBeams best, and moves those that hit EOS or the length limit
 * and rank among the first numBeams into the prompt's finished set, scored
 * sum(log p) / newTokens ** lengthPenalty (newTokens counts EOS; for seq2seq it excludes the
 * decoder start token, which is the decoder's prompt). The best numBeams continuations that did
 * not stop are the next running beams; the KV cache follows them by a row gather on the model's
 * backend. A prompt stops collecting when `earlyStopping` says so (see `GenerateOptions`); the
 * search ends when no prompt can improve or at `maxNewTokens`. Ties go to the lower
 * beam·V + token index. The first step runs on the B prompt rows only (every beam of a prompt
 * starts equal); the cache is then widened to B·numBeams rows by the same gather.
 *
 * @module
 */

import { dispose, embedding, noGrad, reshape, type Tensor, tensor, tidy } from "../core/mod.ts";
import {
  type CachedLayer,
  type GenerateOptions,
  type GenerateResult,
  type GenerativeModel,
  growMask,
  leftPad,
  settings,
  step,
} from "./generation.ts";

/** Score of beams that do not exist yet, and penalty of continuations that stopped. */
const NEG = -1e9;

/** What `beamSearch` returns: `generate`'s result with the hypotheses' scores. */
export interface BeamSearchResult extends GenerateResult {
  /** Each hypothesis' sum(log p) / newTokens ** lengthPenalty, aligned with `tokens`. */
  sequenceScores: number[];
}

/**
 * `numBeams` of the options, checked together with `numReturnSequences` (also without beams,
 * where more than one sequence per prompt is not available).
 */
export function numBeamsOf(opts: GenerateOptions): number {
  const numBeams = opts.numBeams ?? 1;
  if (!Number.isInteger(numBeams) || numBeams < 1) {
    throw new Error(
      `generate: numBeams must be an integer >= 1 (1 = no beam search), got ${numBeams}`,
    );
  }
  const ret = opts.numReturnSequences ?? 1;
  if (!Number.isInteger(ret) || ret < 1) {
    throw new Error(`generate: numReturnSequences must be an integer >= 1, got ${ret}`);
  }
  if (ret > numBeams) {
    throw new Error(
      `generate: numReturnSequences (${ret}) must be <= numBeams (${numBeams}); raise numBeams ` +
        `to at least ${ret}` + (numBeams === 1 ? ", or repeat the prompts to draw samples" : ""),
    );
  }
  return numBeams;
}

/** The checked beam-search settings. */
interface BeamSettings {
  numBeams: number;
  numReturn: number;
  lengthPenalty: number;
  earlyStopping: boolean | "never";
  maxNew: number;
  minNew: number;
  eos: number | null;
  pad: number;
  useCache: boolean;
}

function beamSettings(model: GenerativeModel, opts: GenerateOptions, promptLen: number) {
  const numBeams = numBeamsOf(opts);
  if (opts.doSample) {
    throw new Error(
      `generate: doSample with numBeams ${numBeams} (beam sampling) is not supported; pass ` +
        `doSample: false for beam search, or numBeams: 1 to sample`,
    );
  }
  if (opts.returnScores) {
    throw new Error(
      `generate: returnScores is not available with numBeams ${numBeams}; beam search returns ` +
        `per-token logProbs and sequenceScores`,
    );
  }
  const lengthPenalty = opts.lengthPenalty ?? 1;
  if (typeof lengthPenalty !== "number" || !Number.isFinite(lengthPenalty)) {
    throw new Error(`generate: lengthPenalty must be a finite number, got ${lengthPenalty}`);
  }
  const earlyStopping = opts.earlyStopping ?? false;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== "never") {
    throw new Error(
      `generate: earlyStopping must be true, false or "never", got ${
        JSON.stringify(earlyStopping)
      }`,
    );
  }
  const s = settings(model, opts, promptLen);
  return {
    numBeams,
    numReturn: opts.numReturnSequences ?? 1,
    lengthPenalty,
    earlyStopping,
    maxNew: s.maxNew,
    minNew: s.minNew,
    eos: s.eos,
    pad: s.pad,
    useCache: opts.useCache ?? true,
  } satisfies BeamSettings;
}

/** A running beam: its new tokens, their raw log-probs, its accumulated score, its cache row. */
interface Beam {
  tokens: number[];
  logProbs: number[];
  score: number;
  row: number;
}

/** A finished hypothesis with its length-penalised score. */
interface Hypothesis {
  tokens: number[];
  logProbs: number[];
  score: number;
}

/** A (beam, token) continuation: `index` = beam·V + token orders ties. */
interface Candidate {
  score: number;
  index: number;
  beam: Beam;
  token: number;
  logProb: number;
}

/**
 * Runs beam search from unpadded prompts (token-id arrays, left-padded inside). Returns
 * `numReturnSequences` hypotheses per prompt, best first: their new tokens (EOS included when
 * produced), per-token log-probs under the raw logits, whether they ended on EOS, and their
 * scores. `generate` calls it when `numBeams > 1`; called directly, `numBeams: 1` is allowed
 * (it then picks the greedy tokens). Runs without gradients; call `eval()` on the model first.
 *
 * @example
 * ```ts
 * import { beamSearch, loadCausalLM } from "@tether/rlhf/models";
 *
 * const model = (await loadCausalLM("examples/assets/tiny-imdb/policy")).eval(); // tiny GPT-2
 * const out = await beamSearch(model, [[15, 36, 60], [36]], {
 *   numBeams: 4, maxNewTokens: 16, lengthPenalty: 1.0, earlyStopping: true,
 * });
 * console.log(out.tokens[0], out.sequenceScores[0]);
 * ```
 */
export async function beamSearch(
  model: GenerativeModel,
  prompts: number[][],
  opts: GenerateOptions = {},
): Promise<BeamSearchResult> {
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every(Array.isArray)) {
    throw new Error("generate: prompts must be a non-empty array of token-id arrays");
  }
  const padded = leftPad(prompts, opts.padTokenId ?? model.padTokenId ?? model.eosTokenId ?? 0);
  const s = beamSettings(model, opts, padded.len);
  const b = prompts.length, k = s.numBeams;
  const running: Beam[][] = Array.from(
    { length: b },
    (_, i) =>
      Array.from({ length: k }, (_, j) => ({
        tokens: [],
        logProbs: [],
        score: j === 0 ? 0 : NEG,
        row: i,
      })),
  );
  const finished: Hypothesis[][] = Array.from({ length: b }, () => []);
  const canImprove: boolean[] = new Array(b).fill(true);
  const full = (i: number) => finished[i].length === k;
  // A prompt that can add no more hypotheses is fed padding and left in place.
  const inert = (i: number) => !canImprove[i] || (s.earlyStopping === true && full(i));

  let rows = b, width = padded.len, mask = padded.mask;
  let history: number[][] = Array.from({ length: b }, () => []);
  let feed = tensor(padded.ids, [b, width], { backend: model.backend });
  let past: CachedLayer[] | undefined;
  let widened: (GenerativeModel & { dispose(): void }) | null = null;
  try {
    for (let t = 0; t < s.maxNew; t++) {
      const out = step(widened ?? model, feed, mask, width, past, s.useCache);
      if (past) dispose(past);
      past = out.past;
      const flat = out.logits.backend.readSync
        ? out.logits.toArraySync()
        : await out.logits.toArray();
      out.logits.dispose();
      const v = flat.length / rows;
      const last = t + 1 === s.maxNew;
      const next: number[] = [], source: number[] = [];
      for (let i = 0; i < b; i++) {
        if (inert(i)) {
          for (let j = 0; j < k; j++) next.push(s.pad), source.push(t === 0 ? i : i * k + j);
          continue;
        }
        const cands = topContinuations(flat, v, running[i], 2 * k, t < s.minNew ? s.eos : null);
        const stops = cands.map((c) => last || c.token === s.eos);
        if (!(s.earlyStopping === true && full(i))) {
          const length = (t + 1) ** s.lengthPenalty;
          for (let r = 0; r < k; r++) {
            if (!stops[r]) continue;
            const c = cands[r];
            finished[i].push({
              tokens: [...c.beam.tokens, c.token],
              logProbs: [...c.beam.logProbs, c.logProb],
              score: c.score / length,
            });
          }
          // A stable sort keeps earlier hypotheses ahead on ties.
          finished[i] = finished[i].sort((x, y) => y.score - x.score).slice(0, k);
        }
        const ranked = cands.map((c, r) => ({ c, r, score: c.score + (stops[r] ? NEG : 0) }))
          .sort((x, y) => y.score - x.score || x.r - y.r).slice(0, k);
        running[i] = ranked.map(({ c, score }, j) => {
          next.push(c.token), source.push(c.beam.row);
          return {
            tokens: [...c.beam.tokens, c.token],
            logProbs: [...c.beam.logProbs, c.logProb],
            score,
            row: i * k + j,
          };
        });
        const horizon = s.earlyStopping === "never" && s.lengthPenalty > 0 ? s.maxNew : t + 1;
        const bestPossible = running[i][0].score / horizon ** s.lengthPenalty;
        canImprove[i] = bestPossible > (full(i) ? finished[i][k - 1].score : NEG);
      }
      if (last || !canImprove.some(Boolean)) break;
      if (s.earlyStopping === true && finished.every((_, i) => full(i))) break;

      history = source.map((src, r) => [...history[src], next[r]]);
      if (past && !source.every((src, r) => src === r)) {
        const old = past;
        past = gatherRows(old, source, model.backend);
        dispose(old);
      }
      if (t === 0) {
        mask = repeatEach(mask, b, width, k);
        widened = model.repeatRows?.(k) ?? null;
      }
      mask = growMask(mask, b * k, width);
      rows = b * k;
      width++;
      feed.dispose();
      feed = s.useCache
        ? tensor(next, [rows, 1], { backend: model.backend })
        : tensor(fullRows(padded.ids, padded.len, history, k), [rows, width], {
          backend: model.backend,
        });
    }
  } finally {
    feed.dispose();
    if (past) dispose(past);
    widened?.dispose();
  }
  return collect(finished, running, s);
}

/**
 * The `count` best continuations of a prompt's beams by accumulated log-prob, best first, ties
 * to the lower beam·V + token index. `banned` (EOS before the minimum length) scores -∞.
 */
function topContinuations(
  flat: Float32Array,
  v: number,
  beams: Beam[],
  count: number,
  banned: number | null,
): Candidate[] {
  const best: Candidate[] = [];
  const logProbs = new Map<number, Float64Array>();
  beams.forEach((beam, j) => {
    let lp = logProbs.get(beam.row);
    if (!lp) {
      logProbs.set(beam.row, lp = logSoftmax(flat.subarray(beam.row * v, (beam.row + 1) * v)));
    }
    for (let token = 0; token < v; token++) {
      const score = beam.score + (token === banned ? -Infinity : lp[token]);
      // Later indices lose ties, so a candidate enters only when strictly better.
      if (best.length === count && !(score > best[count - 1].score)) continue;
      let at = best.length;
      while (at > 0 && score > best[at - 1].score) at--;
      best.splice(at, 0, { score, index: j * v + token, beam, token, logProb: lp[token] });
      if (best.length > count) best.pop();
    }
  });
  return best;
}

/** log-softmax of one row of logits, in f64. */
function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > max) max = row[j];
  let z = 0;
  for (let j = 0; j < row.length; j++) z += Math.exp(row[j] - max);
  const shift = max + Math.log(z);
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = row[j] - shift;
  return out;
}

/** Every cached tensor with its rows taken from `source` (row r ← old row source[r]). */
function gatherRows(past: CachedLayer[], source: number[], backend: string): CachedLayer[] {
  return noGrad(() =>
    tidy(() => {
      const ids = tensor(source, [source.length], { backend });
      const pick = (x: Tensor) =>
        reshape(embedding(reshape(x, [x.shape[0], -1]), ids), [source.length, ...x.shape.slice(1)]);
      return past.map((layer) => ({ key: pick(layer.key), value: pick(layer.value) }));
    })
  );
}

/** Each row of a row-major [b, width] array repeated `times` times in a row. */
function repeatEach(values: number[], b: number, width: number, times: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < b; i++) {
    const row = values.slice(i * width, (i + 1) * width);
    for (let j = 0; j < times; j++) out.push(...row);
  }
  return out;
}

/** Padded prompt of each beam's prompt followed by the beam's fed tokens, row-major. */
function fullRows(ids: number[], len: number, history: number[][], k: number): number[] {
  return history.flatMap((h, r) => {
    const i = Math.floor(r / k);
    return [...ids.slice(i * len, (i + 1) * len), ...h];
  });
}

/** The `numReturn` best hypotheses of each prompt, prompt-major. */
function collect(finished: Hypothesis[][], running: Beam[][], s: BeamSettings): BeamSearchResult {
  const result: BeamSearchResult = { tokens: [], logProbs: [], finished: [], sequenceScores: [] };
  finished.forEach((hyps, i) => {
    // Only without any step (maxNewTokens 0) can a prompt hold fewer hypotheses than asked for.
    const fill = running[i].map((beam) => ({
      tokens: beam.tokens,
      logProbs: beam.logProbs,
      score: beam.tokens.length === 0 ? 0 : beam.score / beam.tokens.length ** s.lengthPenalty,
    }));
    for (const h of [...hyps, ...fill].slice(0, s.numReturn)) {
      result.tokens.push(h.tokens);
      result.logProbs.push(h.logProbs);
      result.finished.push(s.eos !== null && h.tokens.at(-1) === s.eos);
      result.sequenceScores.push(h.score);
    }
  });
  return result;
}
