/**
 * Token log-probabilities straight from hidden states: LM head → log-softmax → gather, fused and
 * chunked over rows, so no [rows, vocabulary] tensor exists beyond one chunk, forward or
 * backward. The forward keeps only each row's log-sum-exp; the backward recomputes one chunk of
 * logits at a time from it. Built from the matmul and token-log-prob kernels every backend has,
 * so it runs (and is tested) on each of them.
 *
 * `lmHeadLogProbs(h, W, y)` equals `tokenLogProbs(matmul(h, W, { transB: true }), y)`;
 * `lmHeadCrossEntropy` is the cross-entropy (SFT, DPO) on the same path.
 */

import { engine, noGrad, registerGrad, tidy } from "../engine.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { add, div, equal, mul, neg, sub } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { argmax, sum } from "./reduce.ts";
import { concat, reshape, slice } from "./shape.ts";
import { softmax } from "./softmax.ts";
import { checkIndices } from "./index_check.ts";

/** Options of `lmHeadLogProbs` and `lmHeadCrossEntropy`. */
export interface LmHeadOptions {
  /** Multiplies the logits before the softmax: 1 / temperature (default 1). */
  scale?: number;
  /** Labels equal to this get log-probability 0 and no gradient (default: none allowed). */
  ignoreIndex?: number;
  /** Rows whose logits are computed at once (default: as many as fit 2^24 logits, ≥ 1). */
  chunkRows?: number;
}

/** Logits per chunk when `chunkRows` is not given: 64 MiB of f32. */
const CHUNK_LOGITS = 1 << 24;

interface Checked {
  rows: number;
  d: number;
  vocab: number;
  scale: number;
  chunk: number;
  ignoreIndex: number | undefined;
}

function check(
  op: string,
  hidden: Tensor,
  weight: Tensor,
  labels: Tensor,
  opts: LmHeadOptions,
): Checked {
  for (const t of [hidden, weight, labels]) t.assertLive(op);
  if (weight.rank !== 2 || hidden.rank < 1 || hidden.shape[hidden.rank - 1] !== weight.shape[1]) {
    throw new Error(
      `${op}: weight must be [V, D] with D the last axis of hidden; got hidden ` +
        `${fmtShape(hidden.shape)} and weight ${fmtShape(weight.shape)}`,
    );
  }
  if (!shapesEqual(labels.shape, hidden.shape.slice(0, -1))) {
    throw new Error(
      `${op}: labels must have hidden's shape without its last axis, ` +
        `${fmtShape(hidden.shape.slice(0, -1))}; got ${fmtShape(labels.shape)}`,
    );
  }
  const [vocab, d] = weight.shape;
  const scale = opts.scale ?? 1;
  if (!Number.isFinite(scale) || scale === 0) {
    throw new Error(
      `${op}: scale must be a finite non-zero number (1 / temperature), got ${scale}`,
    );
  }
  const chunk = opts.chunkRows ?? Math.max(1, Math.floor(CHUNK_LOGITS / Math.max(vocab, 1)));
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new Error(`${op}: chunkRows must be a positive integer, got ${opts.chunkRows}`);
  }
  checkIndices(
    `${op}: label`,
    labels,
    vocab,
    `labels must be token ids of the ${vocab}-row LM head`,
    opts.ignoreIndex,
  );
  return { rows: labels.size, d, vocab, scale, chunk, ignoreIndex: opts.ignoreIndex };
}

/** Labels with ignored ones replaced by 0, and the 0/1 mask of kept rows (or null). */
function keptLabels(flat: Tensor, ignoreIndex: number | undefined): [Tensor, Tensor | null] {
  if (ignoreIndex === undefined) return [flat, null];
  const keep = sub(1, equal(flat, ignoreIndex));
  return [mul(flat, keep), keep];
}

/** The rows' logits times `scale`, via the hidden rows (D wide) rather than the logits (V wide). */
function chunkLogits(h: Tensor, weight: Tensor, scale: number): Tensor {
  return matmul(scale === 1 ? h : mul(h, scale), weight, { transB: true });
}

/**
 * log softmax(scale · h Wᵀ)[label] per row, without materializing the logits: equal to
 * `tokenLogProbs(mul(matmul(hidden, weight, { transB: true }), scale), labels)` (TRL's
 * `logprobs_from_logits` on the LM head's output) up to rounding, values and gradients.
 *
 * @example
 * ```ts
 * import { lmHeadLogProbs, randn, tensor } from "@tether/rlhf/core";
 * const hidden = randn([2, 5, 16]), lmHead = randn([100, 16]);
 * const next = tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
 * const logprobs = lmHeadLogProbs(hidden, lmHead, next); // [2, 5]
 * ```
 *
 * @param hidden [..., D] hidden states (the LM head's input).
 * @param weight [V, D] the LM head (`lm_head.weight`, or the tied input embedding).
 * @param labels [...] token ids in [0, V) (or `ignoreIndex`).
 * @returns [...] the log-probability of each label.
 */
export function lmHeadLogProbs(
  hidden: Tensor,
  weight: Tensor,
  labels: Tensor,
  opts: LmHeadOptions = {},
): Tensor {
  const c = check("lmHeadLogProbs", hidden, weight, labels, opts);
  return forward(c, hidden, weight, labels, {}).logprobs;
}

/** What the chunked forward computes besides the log-probs (neither carries a gradient). */
interface Extras {
  entropy?: boolean;
  argmax?: boolean;
}

/** The chunked forward; records the op and, when asked, each row's entropy and argmax. */
function forward(
  c: Checked,
  hidden: Tensor,
  weight: Tensor,
  labels: Tensor,
  extras: Extras,
): { logprobs: Tensor; entropy: Tensor | null; argmax: Tensor | null } {
  const withEntropy = extras.entropy ?? false, withArgmax = extras.argmax ?? false;
  const { out, entropy, best, saved } = noGrad(() =>
    tidy(() => {
      const h = reshape(hidden, [c.rows, c.d]);
      const [safe, keep] = keptLabels(reshape(labels, [c.rows]), c.ignoreIndex);
      const lps: Tensor[] = [], lses: Tensor[] = [], ents: Tensor[] = [], maxes: Tensor[] = [];
      for (let r0 = 0; r0 < c.rows; r0 += c.chunk) {
        const n = Math.min(c.chunk, c.rows - r0);
        const [lp, lse, ent, top] = tidy(() => {
          const logits = chunkLogits(slice(h, [r0, 0], [n, c.d]), weight, c.scale);
          const [lp, lse] = engine.run("tokenLogProbs", [logits, slice(safe, [r0], [n])], {}, {
            outShapes: [[n], [n]],
          });
          const ent = withEntropy ? chunkEntropy(logits, lse) : null;
          const top = withArgmax ? argmax(logits, -1) : null;
          return [lp, lse, ent, top];
        });
        lps.push(lp);
        lses.push(lse);
        if (ent) ents.push(ent);
        if (top) maxes.push(top);
      }
      const join = (xs: Tensor[]) => xs.length === 1 ? xs[0] : concat(xs);
      let lp = join(lps);
      if (keep) lp = mul(lp, keep);
      return {
        out: reshape(lp, labels.shape),
        entropy: withEntropy ? reshape(join(ents), labels.shape) : null,
        best: withArgmax ? reshape(join(maxes), labels.shape) : null,
        saved: keep ? [join(lses), safe, keep] : [join(lses), safe],
      };
    })
  );
  const attrs = { scale: c.scale, chunk: c.chunk };
  engine.record("lmHeadLogProbs", [hidden, weight, labels], [out], attrs, saved);
  return { logprobs: out, entropy, argmax: best };
}

/** Rows of a chunk whose probabilities exist at once while its entropy is computed. */
const ENTROPY_PARTS = 4;

/**
 * H = lse − Σ_j p_j·x_j = −Σ_j p_j log p_j of each row of a chunk of logits, a quarter of the
 * rows at a time, so the probabilities and their products add half a chunk, not two.
 */
function chunkEntropy(logits: Tensor, lse: Tensor): Tensor {
  const [n, v] = logits.shape;
  const step = Math.max(1, Math.ceil(n / ENTROPY_PARTS));
  const parts: Tensor[] = [];
  for (let r0 = 0; r0 < n; r0 += step) {
    const m = Math.min(step, n - r0);
    parts.push(tidy(() => {
      const x = slice(logits, [r0, 0], [m, v]);
      return sum(mul(softmax(x), x), { axis: -1 });
    }));
  }
  return sub(lse, parts.length === 1 ? parts[0] : concat(parts));
}

registerGrad("lmHeadLogProbs", ([dy], node) => {
  const [hidden, weight] = node.inputs;
  const [lse, safe, keep] = node.saved;
  const { scale, chunk } = node.attrs as { scale: number; chunk: number };
  const wants = (t: Tensor) => t.requiresGrad || t.node !== null;
  const d = weight.shape[1], rows = lse.size;
  const h = reshape(hidden, [rows, d]);
  let g = reshape(dy!, [rows]);
  if (keep) g = mul(g, keep);
  const dhs: Tensor[] = [];
  let dw: Tensor | null = null;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const [dh, dwPart] = tidy(() => {
      const hc = slice(h, [r0, 0], [n, d]);
      const hs = scale === 1 ? hc : mul(hc, scale);
      const logits = matmul(hs, weight, { transB: true });
      // dy · (onehot − softmax): the gradient of the scaled logits of this chunk.
      const dlogits = engine.run(
        "tokenLogProbsGrad",
        [logits, slice(safe, [r0], [n]), slice(lse, [r0], [n]), slice(g, [r0], [n])],
        {},
        { outShapes: [logits.shape] },
      )[0];
      logits.dispose();
      let dhc: Tensor | null = null;
      if (wants(hidden)) {
        dhc = matmul(dlogits, weight);
        if (scale !== 1) dhc = mul(dhc, scale);
      }
      const dwc = wants(weight) ? matmul(dlogits, hs, { transA: true }) : null;
      return [dhc, dwc];
    });
    if (dh) dhs.push(dh);
    if (dwPart) {
      if (dw) {
        const next = add(dw, dwPart);
        dw.dispose();
        dwPart.dispose();
        dw = next;
      } else dw = dwPart;
    }
  }
  const dhidden = dhs.length === 0
    ? null
    : reshape(dhs.length === 1 ? dhs[0] : concat(dhs), hidden.shape);
  return [dhidden, dw, null];
});

/**
 * log softmax(scale · h Wᵀ)[label] and the entropy −Σ p log p of each row's distribution, in one
 * chunked pass (the entropy carries no gradient, as the statistic PPO and GRPO log).
 *
 * @param hidden [..., D] hidden states.
 * @param weight [V, D] the LM head.
 * @param labels [...] token ids.
 * @returns `logprobs` and `entropy`, each shaped like `labels`.
 */
export function lmHeadLogProbsAndEntropy(
  hidden: Tensor,
  weight: Tensor,
  labels: Tensor,
  opts: LmHeadOptions = {},
): { logprobs: Tensor; entropy: Tensor } {
  const c = check("lmHeadLogProbsAndEntropy", hidden, weight, labels, opts);
  const { logprobs, entropy } = forward(c, hidden, weight, labels, { entropy: true });
  return { logprobs, entropy: entropy! };
}

/** Options of `lmHeadTokenStats`. */
export interface LmHeadTokenStatsOptions extends LmHeadOptions {
  /** Also return each row's entropy −Σ p log p. */
  entropy?: boolean;
  /** Also return each row's most likely token (SFT's token accuracy). */
  argmax?: boolean;
}

/** What `lmHeadTokenStats` returns, each shaped like the labels. */
export interface LmHeadTokenStats {
  /** log softmax(scale · h Wᵀ)[label], with gradients. */
  logprobs: Tensor;
  /** The entropy of each row's distribution (no gradient), when asked for. */
  entropy?: Tensor;
  /** The index of each row's largest logit (first on ties; no gradient), when asked for. */
  argmax?: Tensor;
}

/**
 * `lmHeadLogProbs` plus, from the same chunks of logits, the statistics a trainer logs that need
 * the whole distribution: each row's entropy and its most likely token. Neither needs a
 * [rows, V] tensor beyond one chunk.
 *
 * @example
 * ```ts
 * import { lmHeadTokenStats, randn, tensor } from "@tether/rlhf/core";
 * const hidden = randn([1, 3, 8]), lmHead = randn([50, 8]);
 * const { logprobs, argmax } = lmHeadTokenStats(hidden, lmHead, tensor([[4, 7, 9]]), {
 *   argmax: true,
 * });
 * console.log(logprobs.shape, argmax!.shape); // [1, 3] [1, 3]
 * ```
 *
 * @param hidden [..., D] hidden states.
 * @param weight [V, D] the LM head.
 * @param labels [...] token ids (or `ignoreIndex`).
 */
export function lmHeadTokenStats(
  hidden: Tensor,
  weight: Tensor,
  labels: Tensor,
  opts: LmHeadTokenStatsOptions = {},
): LmHeadTokenStats {
  const c = check("lmHeadTokenStats", hidden, weight, labels, opts);
  const r = forward(c, hidden, weight, labels, opts);
  const out: LmHeadTokenStats = { logprobs: r.logprobs };
  if (r.entropy) out.entropy = r.entropy;
  if (r.argmax) out.argmax = r.argmax;
  return out;
}

/** Options of `lmHeadCrossEntropy`. */
export interface LmHeadCrossEntropyOptions extends LmHeadOptions {
  /** "mean" (default) over non-ignored rows, "sum", or "none" (one loss per row). */
  reduction?: "mean" | "sum" | "none";
}

/**
 * Cross-entropy of the LM head's logits against `targets` (PyTorch's `F.cross_entropy` with
 * `ignore_index`, default −100), chunked like `lmHeadLogProbs`: SFT's loss and DPO's sequence
 * log-probs without a [rows, V] tensor.
 *
 * @param hidden [..., D] hidden states.
 * @param weight [V, D] the LM head.
 * @param targets [...] token ids, or `ignoreIndex`.
 */
export function lmHeadCrossEntropy(
  hidden: Tensor,
  weight: Tensor,
  targets: Tensor,
  opts: LmHeadCrossEntropyOptions = {},
): Tensor {
  const reduction = opts.reduction ?? "mean";
  if (!["mean", "sum", "none"].includes(reduction)) {
    throw new Error(
      `lmHeadCrossEntropy: reduction '${reduction}' is not one of "mean", "sum", "none"`,
    );
  }
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const nll = neg(lmHeadLogProbs(hidden, weight, targets, { ...opts, ignoreIndex }));
  if (reduction === "none") return nll;
  const total = sum(nll);
  if (reduction === "sum") return total;
  const count = noGrad(() => sum(sub(1, equal(targets, ignoreIndex))));
  return div(total, count);
}
