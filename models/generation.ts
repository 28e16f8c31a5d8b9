/**
 * Batched autoregressive generation for causal LMs: prompts are left-padded into one batch,
 * each step feeds only the new tokens through the KV cache, and each row stops on its own at
 * EOS (finished rows are fed padding). Greedy or sampled (temperature, top-k, top-p) with a
 * seeded `Generator`, so the same seed gives the same tokens. `numBeams > 1` switches to beam
 * search (`beam_search.ts`).
 *
 * The log-prob reported for each generated token is log-softmax of the model's raw logits at
 * that step (before temperature, top-k/top-p and the min-length EOS mask): the policy's own
 * log-probability of the token, the number a PPO forward pass over the same sequence recomputes.
 *
 * @module
 */

import {
  argmax,
  concat,
  dispose,
  equal,
  Generator,
  getBackend,
  MASKED_LOGIT,
  maximum,
  noGrad,
  reshape,
  sampleTokens,
  stack,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
  where,
  zeros,
} from "../core/mod.ts";
import { defaultGenerator } from "../core/random.ts";
import { beamSearch, numBeamsOf } from "./beam_search.ts";

/** One block's cached keys and values. */
export interface CachedLayer {
  /** Keys [B, H, T, head_dim]. */
  key: Tensor;
  /** Values [B, H, T, head_dim]. */
  value: Tensor;
}

/** What `generate` needs from a model. */
export interface GenerativeModel {
  /** Backend of the weights; inputs are created there. */
  readonly backend: string;
  /** Default stop token (null: never stop early). */
  readonly eosTokenId: number | null;
  /** Default padding token (null: use EOS, else 0). */
  readonly padTokenId: number | null;
  /** A forward pass returning logits [B, T', V] and, with `useCache`, the updated cache. */
  forward(input: {
    inputIds: Tensor;
    attentionMask: Tensor;
    pastKeyValues?: CachedLayer[];
    useCache?: boolean;
    logitsToKeep?: number;
  }): { logits: Tensor; pastKeyValues?: CachedLayer[] };
  /**
   * Only for models that hold per-row state outside `pastKeyValues` (a seq2seq adapter holds
   * the encoder's output, its mask and perhaps cross-attention K/V): a model over the same
   * weights whose row r·times + j (j < times) is this model's row r. Beam search calls it once,
   * after the first step (run on the B prompt rows), to go on with B·numBeams rows, and
   * disposes what it returns when done. Beam search reorders every tensor of `pastKeyValues`
   * along axis 0 each step; state kept elsewhere must be the same for all beams of a prompt.
   */
  repeatRows?(times: number): GenerativeModel & { dispose(): void };
}

/** Options of `generate`. Defaults follow Hugging Face's `generate` except `topK` (off). */
export interface GenerateOptions {
  /** Most tokens to generate per row (default 20). */
  maxNewTokens?: number;
  /** EOS is masked out until a row has this many new tokens (default 0). */
  minNewTokens?: number;
  /**
   * Hugging Face's `min_length`: EOS is masked until the padded batch (prompt + new tokens)
   * reaches this length. Combined with `minNewTokens` by taking the stricter of the two.
   */
  minLength?: number;
  /** Sample (true) or take the most likely token (false, the default). */
  doSample?: boolean;
  /** Divides the logits before sampling (default 1; 0 means greedy). */
  temperature?: number;
  /** Sample among the k most likely tokens only (ties with the k-th kept); 0 = off (default). */
  topK?: number;
  /** Sample from the smallest most-likely set with mass >= p; 1 = off (default). */
  topP?: number;
  /** Stop token (default: the model's; null never stops early). */
  eosTokenId?: number | null;
  /** Padding token for prompts and finished rows (default: the model's, else EOS, else 0). */
  padTokenId?: number;
  /** Source of the sampling draws (default: `new Generator(seed)` with `seed`, else global). */
  generator?: Generator;
  /** Seed for a fresh generator when no `generator` is given. */
  seed?: number;
  /** Reuse keys/values of earlier positions (default true); false re-runs the whole sequence. */
  useCache?: boolean;
  /** Also return each step's raw last-position logits (reads them back on every backend). */
  returnScores?: boolean;
  /**
   * Pick tokens with the core `sampleTokens`/`argmax` ops on the model's backend and read
   * tokens back only every `stopCheckEvery` steps (default: on backends the host cannot read
   * synchronously, i.e. WebGPU). Same rules and draws as the host path.
   */
  sampleOnDevice?: boolean;
  /** With `sampleOnDevice`: steps between checks whether every row has stopped (default 8). */
  stopCheckEvery?: number;
  /** Beams per prompt (default 1: no beam search); > 1 runs beam search (`beamSearch`). */
  numBeams?: number;
  /**
   * Beam search: a finished hypothesis scores sum(log p) / newTokens ** lengthPenalty (EOS
   * counted; default 1). > 0 favours longer hypotheses, < 0 shorter ones.
   */
  lengthPenalty?: number;
  /**
   * Beam search: `true` stops a prompt once `numBeams` hypotheses are finished; `false` (the
   * default) also stops when the best running beam cannot beat the worst finished one at its
   * current length; `"never"` only stops when no better hypothesis is possible at all.
   */
  earlyStopping?: boolean | "never";
  /** Beam search: hypotheses returned per prompt, best first (default 1, at most `numBeams`). */
  numReturnSequences?: number;
  /**
   * Prompts generated together (default: all of them). Fewer run one batch after another, each
   * padded on its own, drawing from the one generator in turn, like TRL's
   * `PPOTrainer.generate(batch_size=4)`: the KV cache holds `batchSize` rows, not every prompt.
   */
  batchSize?: number;
}

/**
 * What `generate` returns, one entry per prompt (beam search: `numReturnSequences` entries per
 * prompt, prompt-major, best first).
 */
export interface GenerateResult {
  /** Generated tokens of each row, EOS included when it was produced, no padding. */
  tokens: number[][];
  /** log p(token) under the raw logits, aligned with `tokens`. */
  logProbs: number[][];
  /** Whether each row stopped on EOS (false: it reached `maxNewTokens`). */
  finished: boolean[];
  /** With `returnScores`: per step, the raw logits [B × V] of the last position. */
  scores?: Float32Array[];
  /** Beam search: each hypothesis' sum(log p) / newTokens ** lengthPenalty. */
  sequenceScores?: number[];
}

/** The checked sampling settings, with EOS and padding resolved. */
export interface Settings {
  maxNew: number;
  minNew: number;
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
  eos: number | null;
  pad: number;
}

/** Checks the options shared by every decoding method and resolves EOS and padding. */
export function settings(
  model: GenerativeModel,
  opts: GenerateOptions,
  promptLen: number,
): Settings {
  const maxNew = opts.maxNewTokens ?? 20;
  const minNew = Math.max(opts.minNewTokens ?? 0, (opts.minLength ?? 0) - promptLen);
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  const intAtLeast0 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!intAtLeast0(maxNew)) {
    throw new Error(`generate: maxNewTokens must be an integer >= 0, got ${maxNew}`);
  }
  for (const [k, v] of [["minNewTokens", opts.minNewTokens], ["minLength", opts.minLength]]) {
    if (v !== undefined && !intAtLeast0(v)) {
      throw new Error(`generate: ${k} must be an integer >= 0, got ${v}`);
    }
  }
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new Error(`generate: temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (!intAtLeast0(topK)) {
    throw new Error(`generate: topK must be an integer >= 0 (0 = off), got ${topK}`);
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new Error(`generate: topP must be in (0, 1] (1 = off), got ${topP}`);
  }
  const eos = opts.eosTokenId === undefined ? model.eosTokenId : opts.eosTokenId;
  const pad = opts.padTokenId ?? model.padTokenId ?? eos ?? 0;
  return {
    maxNew,
    minNew,
    greedy: !(opts.doSample ?? false) || temperature === 0,
    temperature,
    topK,
    topP,
    eos,
    pad,
  };
}

/** Left-pads prompts to one length: ids and mask as flat row-major arrays. */
export function leftPad(
  prompts: number[][],
  pad: number,
): { ids: number[]; mask: number[]; len: number } {
  const len = Math.max(...prompts.map((p) => p.length));
  const ids: number[] = [], mask: number[] = [];
  prompts.forEach((p, r) => {
    if (p.length === 0) {
      throw new Error(`generate: prompt ${r} is empty; start it with a token (e.g. BOS)`);
    }
    for (let i = 0; i < len - p.length; i++) ids.push(pad), mask.push(0);
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0) {
        throw new Error(`generate: prompt ${r} holds ${id}; token ids are integers >= 0`);
      }
      ids.push(id), mask.push(1);
    }
  });
  return { ids, mask, len };
}

/** log-softmax of `row` at `token`, accumulated in f64. */
function logProbOf(row: Float32Array, token: number): number {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > max) max = row[j];
  let z = 0;
  for (let j = 0; j < row.length; j++) z += Math.exp(row[j] - max);
  return row[token] - max - Math.log(z);
}

/** The first index of the largest value, skipping `banned`. */
function argmaxRow(row: Float32Array, banned: number | null): number {
  let best = -1, bestV = -Infinity;
  for (let j = 0; j < row.length; j++) {
    if (j === banned) continue;
    if (best < 0 || row[j] > bestV) best = j, bestV = row[j];
  }
  return best;
}

/** Scratch rows of `sampleRow`, reused: two vocabulary-sized f64 arrays per sampled row were
 * gigabytes of garbage in a 64-row, 64-token GPT-2 generation. */
let scratchZ = new Float64Array(0), scratchW = new Float64Array(0);

/**
 * One token drawn from `row` with uniform draw `u`, by the rules of the core `sampleTokens` op
 * (core/ops/sample.ts), so host and device sampling pick the same token for the same draw:
 * temperature; top-k keeps values >= the k-th largest; top-p keeps each token whose strictly
 * more likely mass is below p·Z; the smallest index whose running mass exceeds u·Σ is chosen.
 */
export function sampleRow(
  row: ArrayLike<number>,
  u: number,
  opts: { temperature: number; topK: number; topP: number; banned?: number | null },
): number {
  return sampleRowWithLogProb(row, u, opts).token;
}

/**
 * `sampleRow`, plus log-softmax of the raw row at the chosen token when the sampling
 * distribution is the raw softmax itself (temperature 1, no top-k, top-p or ban): then the
 * softmax's max and sum are the log-prob's, computed once (NaN otherwise: the caller computes it).
 */
function sampleRowWithLogProb(
  row: ArrayLike<number>,
  u: number,
  opts: { temperature: number; topK: number; topP: number; banned?: number | null },
): { token: number; logProb: number } {
  const v = row.length;
  if (scratchZ.length < v) {
    scratchZ = new Float64Array(v);
    scratchW = new Float64Array(v);
  }
  const w = scratchW;
  const banned = opts.banned ?? null;
  if (
    opts.temperature === 1 && !(opts.topK > 0 && opts.topK < v) && opts.topP >= 1 &&
    banned === null
  ) return plainSample(row, u, w);
  const z = scratchZ;
  let best = -Infinity;
  for (let j = 0; j < v; j++) {
    z[j] = j === banned ? -Infinity : row[j] / opts.temperature;
    if (z[j] > best) best = z[j];
  }
  let kth = -Infinity;
  if (opts.topK > 0 && opts.topK < v) {
    kth = Float64Array.from(z.subarray(0, v)).sort((a, b) => b - a)[opts.topK - 1];
  }
  let total = 0;
  for (let j = 0; j < v; j++) {
    w[j] = z[j] >= kth && z[j] > -Infinity ? Math.exp(z[j] - best) : 0;
    total += w[j];
  }
  const plain = opts.temperature === 1 && kth === -Infinity && opts.topP >= 1 &&
    (opts.banned === null || opts.banned === undefined);
  const logTotal = plain ? Math.log(total) : NaN;
  if (opts.topP < 1) {
    const sorted = Float64Array.from(w.subarray(0, v)).sort((a, b) => b - a);
    let above = 0, cut = Infinity;
    for (let i = 0; i < v;) {
      const value = sorted[i];
      if (above >= opts.topP * total) {
        cut = value;
        break;
      }
      while (i < v && sorted[i] === value) above += sorted[i++];
    }
    if (cut !== Infinity) {
      total = 0;
      for (let j = 0; j < v; j++) {
        if (w[j] <= cut) w[j] = 0;
        total += w[j];
      }
    }
  }
  const target = u * total;
  let acc = 0, last = 0;
  for (let j = 0; j < v; j++) {
    if (w[j] === 0) continue;
    last = j;
    acc += w[j];
    if (acc > target) return { token: j, logProb: plain ? row[j] - best - logTotal : NaN };
  }
  return { token: last, logProb: plain ? row[last] - best - logTotal : NaN };
}

/**
 * `sampleRowWithLogProb` without temperature, filters or ban (a bench's plain sampling): the
 * same arithmetic on the raw row (x / 1 is x), without the scaled copy or its branches.
 */
function plainSample(
  row: ArrayLike<number>,
  u: number,
  w: Float64Array,
): { token: number; logProb: number } {
  const v = row.length;
  let best = -Infinity;
  for (let j = 0; j < v; j++) if (row[j] > best) best = row[j];
  let total = 0;
  for (let j = 0; j < v; j++) {
    const x = row[j];
    const e = x > -Infinity ? Math.exp(x - best) : 0;
    w[j] = e;
    total += e;
  }
  const logTotal = Math.log(total);
  const target = u * total;
  let acc = 0, last = 0;
  for (let j = 0; j < v; j++) {
    if (w[j] === 0) continue;
    last = j;
    acc += w[j];
    if (acc > target) return { token: j, logProb: row[j] - best - logTotal };
  }
  return { token: last, logProb: row[last] - best - logTotal };
}

/** The state one generation loop starts from. */
interface Start {
  b: number;
  ids: number[];
  mask: number[];
  len: number;
}

/**
 * Generates continuations of a batch of prompts (token-id arrays of any lengths; they are
 * left-padded inside, with positions that skip the padding). Runs without gradients; the
 * model's train/eval mode applies (call `eval()` first for deterministic, dropout-free output).
 *
 * @example
 * ```ts
 * import { generate, loadCausalLM } from "@tether/rlhf/models";
 *
 * const model = (await loadCausalLM("examples/assets/tiny-imdb/policy")).eval(); // tiny GPT-2
 * const { tokens, logProbs } = await generate(model, [[15, 36, 60], [36]], {
 *   maxNewTokens: 16, doSample: true, topK: 0, topP: 1.0, seed: 0,
 * });
 * console.log(tokens.length, logProbs!.length); // 2 2: one row of new tokens per prompt
 * ```
 */
export async function generate(
  model: GenerativeModel,
  prompts: number[][],
  opts: GenerateOptions = {},
): Promise<GenerateResult> {
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every(Array.isArray)) {
    throw new Error("generate: prompts must be a non-empty array of token-id arrays");
  }
  const batchSize = opts.batchSize ?? prompts.length;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`generate: batchSize must be an integer >= 1, got ${opts.batchSize}`);
  }
  if (batchSize < prompts.length) return await generateInBatches(model, prompts, batchSize, opts);
  if (numBeamsOf(opts) > 1) return await beamSearch(model, prompts, opts);
  const padded = leftPad(prompts, opts.padTokenId ?? model.padTokenId ?? model.eosTokenId ?? 0);
  const s = settings(model, opts, padded.len);
  const g = opts.generator ??
    (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator());
  const start = { b: prompts.length, ...padded };
  const onDevice = opts.sampleOnDevice ?? !getBackend(model.backend).readSync;
  return onDevice && !opts.returnScores
    ? await generateOnDevice(model, start, s, g, opts)
    : await generateOnHost(model, start, s, g, opts);
}

/** `generate` over consecutive slices of `prompts`, one generator throughout. */
async function generateInBatches(
  model: GenerativeModel,
  prompts: number[][],
  batchSize: number,
  opts: GenerateOptions,
): Promise<GenerateResult> {
  if (opts.returnScores) {
    throw new Error(
      `generate: returnScores needs every prompt in one batch (batchSize ${batchSize} < ` +
        `${prompts.length} prompts): each batch is padded to its own width and stops on its own, ` +
        `so their per-step scores do not line up; drop batchSize or returnScores`,
    );
  }
  const generator = opts.generator ??
    (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator());
  const out: GenerateResult = { tokens: [], logProbs: [], finished: [] };
  for (let start = 0; start < prompts.length; start += batchSize) {
    const part = await generate(model, prompts.slice(start, start + batchSize), {
      ...opts,
      batchSize: undefined,
      generator,
    });
    out.tokens.push(...part.tokens);
    out.logProbs.push(...part.logProbs);
    out.finished.push(...part.finished);
    if (part.sequenceScores) (out.sequenceScores ??= []).push(...part.sequenceScores);
  }
  return out;
}

/** The mask with a column of ones appended (row-major [b, width] → [b, width + 1]). */
export function growMask(mask: number[], b: number, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < width; c++) out.push(mask[r * width + c]);
    out.push(1);
  }
  return out;
}

/** One forward step without gradients: last-position logits [B, 1, V] and the new cache. */
export function step(
  model: GenerativeModel,
  inputIds: Tensor,
  mask: number[],
  width: number,
  past: CachedLayer[] | undefined,
  useCache: boolean,
): { logits: Tensor; past?: CachedLayer[] } {
  return noGrad(() =>
    tidy(() => {
      const attentionMask = tensor(mask, [inputIds.shape[0], width], { backend: model.backend });
      const r = model.forward({
        inputIds,
        attentionMask,
        pastKeyValues: past,
        useCache,
        logitsToKeep: 1,
      });
      return { logits: r.logits, past: useCache ? r.pastKeyValues : undefined };
    })
  );
}

/** Reads each step's logits back and picks tokens in plain TypeScript. */
async function generateOnHost(
  model: GenerativeModel,
  start: Start,
  s: Settings,
  g: Generator,
  opts: GenerateOptions,
): Promise<GenerateResult> {
  const { b } = start;
  const useCache = opts.useCache ?? true;
  const tokens: number[][] = Array.from({ length: b }, () => []);
  const logProbs: number[][] = Array.from({ length: b }, () => []);
  const finished: boolean[] = new Array(b).fill(false);
  const scores: Float32Array[] = [];
  let allIds = start.ids, mask = start.mask, width = start.len;
  let feed = tensor(start.ids, [b, start.len], { backend: model.backend });
  let past: CachedLayer[] | undefined;
  try {
    for (let i = 0; i < s.maxNew; i++) {
      const out = step(model, feed, mask, width, past, useCache);
      if (past) dispose(past);
      past = out.past;
      const flat = out.logits.backend.readSync
        ? out.logits.toArraySync()
        : await out.logits.toArray();
      out.logits.dispose();
      const v = flat.length / b;
      if (opts.returnScores) scores.push(flat.slice());
      const draws = s.greedy ? null : g.uniform(b);
      const next: number[] = [];
      for (let r = 0; r < b; r++) {
        if (finished[r]) {
          next.push(s.pad);
          continue;
        }
        const row = flat.subarray(r * v, (r + 1) * v);
        const banned = i < s.minNew ? s.eos : null;
        const picked = s.greedy
          ? { token: argmaxRow(row, banned), logProb: NaN }
          : sampleRowWithLogProb(row, draws![r], { ...s, banned });
        const token = picked.token;
        tokens[r].push(token);
        // The sampler's own normalizer when it sampled the raw softmax, else one more pass.
        logProbs[r].push(Number.isNaN(picked.logProb) ? logProbOf(row, token) : picked.logProb);
        if (token === s.eos) finished[r] = true;
        next.push(token);
      }
      if (finished.every(Boolean) || i === s.maxNew - 1) break;
      allIds = growRows(allIds, next, b, width);
      mask = growMask(mask, b, width);
      width++;
      feed.dispose();
      feed = useCache
        ? tensor(next, [b, 1], { backend: model.backend })
        : tensor(allIds, [b, width], { backend: model.backend });
    }
  } finally {
    feed.dispose();
    if (past) dispose(past);
  }
  const result: GenerateResult = { tokens, logProbs, finished };
  if (opts.returnScores) result.scores = scores;
  return result;
}

/** Rows of `ids` ([b, width], row-major) with `next` appended as a new last column. */
function growRows(ids: number[], next: number[], b: number, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < width; c++) out.push(ids[r * width + c]);
    out.push(next[r]);
  }
  return out;
}

/**
 * Keeps tokens on the model's backend: picks them with `argmax`/`sampleTokens`, feeds them
 * straight back, tracks finished rows there, and reads back only to check for a full stop
 * every `stopCheckEvery` steps and once at the end (each readback costs ~10 ms on WebGPU).
 */
async function generateOnDevice(
  model: GenerativeModel,
  start: Start,
  s: Settings,
  g: Generator,
  opts: GenerateOptions,
): Promise<GenerateResult> {
  const { b } = start;
  const backend = model.backend;
  const useCache = opts.useCache ?? true;
  const every = opts.stopCheckEvery ?? 8;
  if (!Number.isInteger(every) || every <= 0) {
    throw new Error(`generate: stopCheckEvery must be a positive integer, got ${every}`);
  }
  const picked: Tensor[] = [], lps: Tensor[] = [];
  let mask = start.mask, width = start.len;
  let feed = tensor(start.ids, [b, start.len], { backend });
  let allIds: Tensor | null = useCache ? null : feed;
  let done = zeros([b], { backend });
  let eosKeep: Tensor | null = null;
  let past: CachedLayer[] | undefined;
  try {
    for (let i = 0; i < s.maxNew; i++) {
      const out = step(model, feed, mask, width, past, useCache);
      if (past) dispose(past);
      past = out.past;
      const v = out.logits.shape[2];
      if (s.eos !== null && i < s.minNew && !eosKeep) {
        const keepRow = new Float32Array(v).fill(1);
        keepRow[s.eos] = 0;
        eosKeep = tensor(keepRow, [v], { backend });
      }
      const r = noGrad(() =>
        tidy(() => {
          const raw = reshape(out.logits, [b, v]);
          const scored = i < s.minNew && eosKeep ? where(eosKeep, raw, MASKED_LOGIT) : raw;
          const chosen = s.greedy ? argmax(scored, -1) : sampleTokens(scored, {
            temperature: s.temperature,
            topK: s.topK,
            topP: s.topP,
            generator: g,
          });
          const token = where(done, s.pad, chosen);
          const lp = tokenLogProbs(raw, token);
          const stopped = s.eos === null ? done : maximum(done, equal(token, s.eos));
          return { token, lp, stopped };
        })
      );
      out.logits.dispose();
      // Without an EOS, `stopped` is `done` itself.
      if (r.stopped !== done) done.dispose();
      done = r.stopped;
      picked.push(r.token);
      lps.push(r.lp);
      if (i === s.maxNew - 1) break;
      if (s.eos !== null && (i + 1) % every === 0) {
        if ((await done.toArray()).every((x) => x === 1)) break;
      }
      mask = growMask(mask, b, width);
      width++;
      const column = reshape(r.token, [b, 1]);
      if (useCache) {
        feed.dispose();
        feed = column;
      } else {
        const grown = noGrad(() => concat([allIds!, column], 1));
        column.dispose();
        allIds!.dispose();
        allIds = feed = grown;
      }
    }
    if (picked.length === 0) return unpack(new Float32Array(0), 0, b, s.eos);
    const both = noGrad(() => tidy(() => concat([stack(picked), stack(lps)], 0)));
    const host = await both.toArray();
    both.dispose();
    return unpack(host, picked.length, b, s.eos);
  } finally {
    dispose([picked, lps, done, eosKeep, past]);
    if (!feed.disposed) feed.dispose();
    if (allIds && !allIds.disposed) allIds.dispose();
  }
}

/** Rows from [2·steps, B] (tokens then log-probs), each cut after its first EOS. */
function unpack(host: Float32Array, steps: number, b: number, eos: number | null): GenerateResult {
  const tokens: number[][] = [], logProbs: number[][] = [], finished: boolean[] = [];
  for (let r = 0; r < b; r++) {
    const t: number[] = [], lp: number[] = [];
    let stopped = false;
    for (let i = 0; i < steps && !stopped; i++) {
      const token = host[i * b + r];
      t.push(token);
      lp.push(host[(steps + i) * b + r]);
      stopped = token === eos;
    }
    tokens.push(t), logProbs.push(lp), finished.push(stopped);
  }
  return { tokens, logProbs, finished };
}
