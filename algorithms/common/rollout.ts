/**
 * The rollout pieces every online algorithm shares: packing (query, response) rows into padded
 * batches with the mask of response tokens, the one log-prob step (forward, shift by one, gather
 * the next token's log-probability), entropies, and the sequence KL of samples to a reference.
 *
 * Positions follow the attention mask (`cumsum(mask) − 1`) in every architecture, so the
 * right-padded rows here score the same tokens as left-padded generation produced them.
 *
 * @module
 */

import {
  concat,
  detach,
  div,
  exp,
  logSoftmax,
  mul,
  neg,
  noGrad,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import {
  nextTokenLogProbs,
  outputHead,
  type ScoredModel,
} from "../../models/next_token_logprobs.ts";
import { klPenalty } from "./kl.ts";
import type { Reference } from "./reference.ts";

/**
 * A language model as the online algorithms see it: a forward from padded token ids and their
 * attention mask to next-token logits [B, L, V] (and value-head estimates [B, L], when a value
 * head is attached). Every `CausalLM` is one.
 */
export interface LogitsModel {
  /** Logits (and values) of padded rows. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor; values?: Tensor };
}

/** A policy the online trainers update: a {@link LogitsModel} with parameters and modes. */
export interface PolicyModel extends LogitsModel {
  /** Its parameters; those with `requiresGrad` are trained. */
  parameters(): Tensor[];
  /** Dropout off. */
  eval?(): unknown;
  /** Dropout on. */
  train?(): unknown;
  /** Runs `fn` with LoRA adapters off, so the frozen base serves as the reference model. */
  withAdaptersDisabled?<T>(fn: () => T): T;
}

/** Host-side layout of a batch of (query, response) rows. */
export interface PackedRollout {
  /** Token ids [B, L] with padding. */
  inputIds: number[][];
  /** 1 on real tokens, 0 on padding [B, L]. */
  attentionMask: number[][];
  /** 1 where position t predicts a response token [B, L−1]. */
  responseMask: number[][];
  /** Per row, the last t with responseMask 1 (where PPO's score lands). */
  lastIndex: number[];
}

/**
 * Pack query/response pairs (SPEC A.1 step 4 and A.3): each row is query ++ response, padded to
 * the longest row on the chosen side; the mask over the L−1 predicted positions is 1 exactly
 * where the predicted token is a response token.
 *
 * @param queries Query token rows.
 * @param responses One response row per query.
 * @param padTokenId Pad token id.
 * @param paddingSide Where padding goes (right by default).
 */
export function packRollout(
  queries: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  padTokenId: number,
  paddingSide: "left" | "right" = "right",
): PackedRollout {
  if (queries.length !== responses.length) {
    throw new Error(
      `packRollout: ${queries.length} queries but ${responses.length} responses; pass one ` +
        "response per query",
    );
  }
  const rows = queries.map((q, i) => [...q, ...responses[i]]);
  const L = Math.max(...rows.map((r) => r.length));
  const inputIds: number[][] = [], attentionMask: number[][] = [];
  const responseMask: number[][] = [], lastIndex: number[] = [];
  rows.forEach((row, b) => {
    const pad = L - row.length;
    const ids = new Array<number>(pad).fill(padTokenId);
    const att = new Array<number>(L).fill(0);
    if (paddingSide === "left") {
      inputIds.push([...ids, ...row]);
      att.fill(1, pad);
    } else {
      inputIds.push([...row, ...ids]);
      att.fill(1, 0, row.length);
    }
    attentionMask.push(att);
    const firstReal = paddingSide === "left" ? pad : 0;
    const start = firstReal + queries[b].length - 1;
    const end = start + responses[b].length;
    const m = new Array<number>(L - 1).fill(0);
    for (let t = start; t < end; t++) m[t] = att[t + 1];
    responseMask.push(m);
    lastIndex.push(m.lastIndexOf(1));
  });
  return { inputIds, attentionMask, responseMask, lastIndex };
}

/**
 * log p(x_{t+1} | x_≤t) for t = 0 … L−2: `logits[:, :-1]` scored against `targets[:, 1:]`.
 *
 * @param logits [B, L, V].
 * @param targets [B, L] token ids (only columns 1 … L−1 are read).
 * @returns [B, L−1].
 */
export function shiftedLogprobs(logits: Tensor, targets: Tensor): Tensor {
  const [B, L, V] = logits.shape;
  return tokenLogProbs(slice(logits, [0, 0, 0], [B, L - 1, V]), slice(targets, [0, 1], [B, L - 1]));
}

/** What {@link tokenLogprobs} returns, each over the L−1 predicted positions. */
export interface TokenLogprobs {
  /** log-probability of each next token [B, L−1]. */
  logprobs: Tensor;
  /**
   * The logits that gave them [B, L−1, V] (divided by the temperature, if any), only when
   * `options.logits` asked for them; null otherwise.
   */
  logits: Tensor | null;
  /** Entropy of each next-token distribution [B, L−1] (no gradient), when `options.entropy`. */
  entropy: Tensor | null;
  /** Value-head estimates [B, L−1] (the last position dropped), or null without a value head. */
  values: Tensor | null;
}

/** Options of {@link tokenLogprobs}. */
export interface TokenLogprobsOptions {
  /** Divide the logits by this before the log-softmax (TRL's GRPO and RLOO use the sampling temperature; default 1). */
  temperature?: number;
  /** Also return each position's entropy (the statistic PPO and GRPO log). */
  entropy?: boolean;
  /**
   * Also return the [B, L−1, V] logits (the `full` KL estimator needs whole distributions); the
   * model is then scored through its logits, not the fused LM head.
   */
  logits?: boolean;
}

/**
 * The one log-prob step of every online algorithm: a forward over padded rows, then the
 * log-probability of each next token (TRL's `logprobs_from_logits` on `logits[:, :-1]`).
 * Gradients flow when they are on. A model with `outputEmbeddings()` is scored through the
 * fused, chunked LM head (`nextTokenLogProbs`), so no [B, L, V] logits exist forward or
 * backward unless `options.logits` asks for them; other models through their logits.
 *
 * @example
 * ```ts
 * import { tokenLogprobs } from "@tether/rlhf/common";
 * import { tensor } from "@tether/rlhf/core";
 * import { loadCausalLM } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2; any causal LM works.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const inputIds = tensor([[5, 9, 17, 2]]), attentionMask = tensor([[1, 1, 1, 1]]);
 * const { logprobs } = tokenLogprobs(model, inputIds, attentionMask);
 * console.log(logprobs.shape); // [1, 3]: log π(token t + 1 | tokens ≤ t)
 * ```
 *
 * @param model The model.
 * @param inputIds Token ids [B, L].
 * @param attentionMask 1 on tokens, 0 on padding [B, L].
 * @param options Temperature, and which statistics to return besides the log-probs.
 */
export function tokenLogprobs(
  model: LogitsModel,
  inputIds: Tensor,
  attentionMask: Tensor,
  options: TokenLogprobsOptions = {},
): TokenLogprobs {
  const [B, L] = inputIds.shape;
  if (!options.logits && outputHead(model)) {
    const r = nextTokenLogProbs(model as ScoredModel, inputIds, attentionMask, {
      temperature: options.temperature,
      entropy: options.entropy,
    });
    return {
      logprobs: r.logprobs,
      logits: null,
      entropy: r.entropy ?? null,
      values: r.values ?? null,
    };
  }
  const out = model.forward({ inputIds, attentionMask });
  const V = out.logits.shape[2];
  if (out.logits.rank !== 3 || out.logits.shape[0] !== B || out.logits.shape[1] !== L) {
    throw new Error(
      `tokenLogprobs: the model returned logits [${out.logits.shape}] for input [${B}, ${L}]; ` +
        `a causal LM must return [batch, length, vocab]`,
    );
  }
  const t = options.temperature ?? 1;
  let logits = slice(out.logits, [0, 0, 0], [B, L - 1, V]);
  if (t !== 1) logits = div(logits, t);
  const next = slice(inputIds, [0, 1], [B, L - 1]);
  return {
    logprobs: tokenLogProbs(logits, next),
    logits: options.logits ? logits : null,
    entropy: options.entropy ? noGrad(() => entropyFromLogits(detach(logits))) : null,
    values: out.values ? slice(out.values, [0, 0], [B, L - 1]) : null,
  };
}

/**
 * Entropy of each next-token distribution: −Σ_v p·log p over the last axis.
 *
 * @param logits [..., V].
 */
export function entropyFromLogits(logits: Tensor): Tensor {
  const lp = logSoftmax(logits);
  return neg(sum(mul(exp(lp), lp), { axis: -1 }));
}

/**
 * Run `fn` on rows [start, start + size) of a batch of B rows, `size` at a time, and join each
 * named result along the first axis: forward passes of a rollout never hold full-vocabulary
 * logits for the whole batch at once.
 *
 * @param rows B.
 * @param size Rows per chunk.
 * @param fn Work on one chunk; returns tensors whose first axis is the chunk's rows.
 */
export function byChunks<K extends string>(
  rows: number,
  size: number,
  fn: (start: number, count: number) => Record<K, Tensor>,
): Record<K, Tensor> {
  const chunks: Record<K, Tensor>[] = [];
  // The outer scope frees the per-chunk pieces once they are joined.
  return tidy(() => {
    for (let start = 0; start < rows; start += size) {
      const count = Math.min(size, rows - start);
      chunks.push(tidy(() => fn(start, count)));
    }
    const out = {} as Record<K, Tensor>;
    for (const key of Object.keys(chunks[0]) as K[]) {
      out[key] = chunks.length === 1 ? chunks[0][key] : concat(chunks.map((c) => c[key]), 0);
    }
    return out;
  });
}

/**
 * Rows `rows` of a [B, ...] tensor (a slice per row, joined).
 *
 * @param t The tensor.
 * @param rows Row indices, in the order wanted.
 */
export function gatherRows(t: Tensor, rows: readonly number[]): Tensor {
  const rest = t.shape.slice(1);
  const parts = rows.map((r) => slice(t, [r, ...rest.map(() => 0)], [1, ...rest]));
  return parts.length === 1 ? parts[0] : concat(parts, 0);
}

/** Options of {@link sequenceKl}. */
export interface SequenceKlOptions {
  /** Pad token id of the packed rows. */
  padTokenId: number;
  /** Rows per forward pass (default 32). */
  chunk?: number;
  /** Backend of the models' weights (default: the current backend). */
  backend?: string;
}

/**
 * Σ_t log π(y_t) − log π_ref(y_t) over each row's response tokens (the k1 estimate whose batch
 * mean PPO logs as `objective/kl`), under no gradient. Rows are packed right-padded, `chunk` at
 * a time; the policy and the reference see the same tensors. Researchers report it next to the
 * reward a tuned policy reaches.
 *
 * @example
 * ```ts
 * import { Reference, sequenceKl } from "@tether/rlhf/common";
 * import { loadCausalLM } from "@tether/rlhf/models";
 *
 * const path = "examples/assets/tiny-imdb/policy";
 * const [policy, original] = [await loadCausalLM(path), await loadCausalLM(path)];
 * const kl = await sequenceKl(policy.eval(), Reference.model(original), [[5, 9]], [[17, 2, 30]], {
 *   padTokenId: 1,
 * });
 * console.log(kl); // [ 0 ]: the policy has not moved from the reference yet
 * ```
 *
 * @param policy The tuned model (its dropout should be off: call `eval()` first).
 * @param reference The reference (a separate model, adapters off, or a frozen copy).
 * @param queries Query token rows.
 * @param responses Response token rows, one per query (sampled from `policy` for an estimate of
 *   KL(π ‖ π_ref)).
 * @param options Pad token and chunk size.
 * @returns One value per row, in nats.
 */
export async function sequenceKl(
  policy: LogitsModel,
  reference: Reference<LogitsModel>,
  queries: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  options: SequenceKlOptions,
): Promise<number[]> {
  if (queries.length !== responses.length) {
    throw new Error(
      `sequenceKl: ${queries.length} queries but ${responses.length} responses; pass one ` +
        "response per query",
    );
  }
  const chunk = options.chunk ?? 32;
  if (!(Number.isInteger(chunk) && chunk >= 1)) {
    throw new Error(`sequenceKl: chunk must be an integer >= 1, got ${chunk}`);
  }
  const out: number[] = [];
  for (let start = 0; start < queries.length; start += chunk) {
    const packed = packRollout(
      queries.slice(start, start + chunk),
      responses.slice(start, start + chunk),
      options.padTokenId,
    );
    const perRow = noGrad(() =>
      tidy(() => {
        const on = { backend: options.backend };
        const ids = tensor(packed.inputIds, undefined, on);
        const attentionMask = tensor(packed.attentionMask, undefined, on);
        const mask = tensor(packed.responseMask, undefined, on);
        const lp = tokenLogprobs(policy, ids, attentionMask).logprobs;
        const rp = reference.logprobs(ids, attentionMask);
        return sum(mul(klPenalty(lp, rp, "k1"), mask), { axis: 1 });
      })
    );
    out.push(...await perRow.toArray());
    perRow.dispose();
  }
  return out;
}
