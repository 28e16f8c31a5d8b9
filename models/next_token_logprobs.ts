/**
 * Log-probabilities of each next token of a batch, from a causal LM's hidden states through the
 * fused, chunked LM head (`lmHeadLogProbs`): the [B, T, V] logits never exist, forward or
 * backward. What PPO, GRPO, RLOO (rollout and update), DPO and SFT need from a policy or a
 * reference; models without `outputEmbeddings()` are scored through their logits instead.
 *
 * @module
 */

import {
  argmax,
  equal,
  exp,
  lmHeadTokenStats,
  logSoftmax,
  mul,
  neg,
  noGrad,
  slice,
  sub,
  sum,
  type Tensor,
  tokenLogProbs,
} from "../core/mod.ts";

/** What `nextTokenLogProbs` needs from a model (every `CausalLM` has it). */
export interface ScoredModel {
  /** A forward pass that can return the final hidden states. */
  forward(input: {
    inputIds: Tensor;
    attentionMask: Tensor;
    outputHiddenStates?: boolean;
    logitsToKeep?: number;
  }): { logits: Tensor; values?: Tensor; hiddenStates?: Tensor };
  /** The LM head's [V, D] weight, or null when it is not a plain projection. */
  outputEmbeddings?(): Tensor | null;
}

/** Options of `nextTokenLogProbs`. */
export interface NextTokenLogProbsOptions {
  /** Divide the logits by this before the softmax (GRPO and RLOO use the sampling temperature). */
  temperature?: number;
  /** Also return each position's entropy (no gradient; PPO's and GRPO's statistic). */
  entropy?: boolean;
  /** Also return each position's most likely next token (no gradient; SFT's token accuracy). */
  argmax?: boolean;
  /**
   * [B, L] the tokens to score, read at columns 1 … L−1 (default: `inputIds`; SFT and DPO pass
   * their labels, with `ignoreIndex` on prompt and padding).
   */
  labels?: Tensor;
  /** Labels equal to this get log-probability 0 and no gradient (default: none allowed). */
  ignoreIndex?: number;
  /** Rows of logits computed at once (default: ~64 MiB of them). */
  chunkRows?: number;
}

/** Per predicted position t = 0 … L−2: log p(x_{t+1} | x_≤t), entropy and value. */
export interface NextTokenLogProbs {
  /** [B, L−1]. */
  logprobs: Tensor;
  /** [B, L−1], when asked for. */
  entropy?: Tensor;
  /** [B, L−1] most likely next token, when asked for. */
  argmax?: Tensor;
  /** [B, L−1] value-head estimates, when the model has a value head. */
  values?: Tensor;
}

/**
 * The [V, D] weight `nextTokenLogProbs` multiplies the hidden states by, or null when the model
 * is scored through its logits (no `outputEmbeddings()`, or a head that is more than a matrix).
 *
 * @example
 * ```ts
 * import { loadCausalLM, outputHead } from "@tether/rlhf/models";
 *
 * const policy = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * console.log(outputHead(policy)?.shape); // [vocab, hidden]
 * ```
 *
 * @param model Any model; only `outputEmbeddings()` is read.
 */
export function outputHead(model: object): Tensor | null {
  const m = model as { outputEmbeddings?: () => Tensor | null };
  return typeof m.outputEmbeddings === "function" ? m.outputEmbeddings() ?? null : null;
}

/**
 * log p(x_{t+1} | x_≤t) for every position of `inputIds` (TRL's `logprobs_from_logits` on
 * `logits[:, :-1]` against `input_ids[:, 1:]`), with gradients when they are on. The model runs
 * one forward pass asking for hidden states and the last position's logits only; the LM head is
 * applied chunk by chunk inside `lmHeadLogProbs`.
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { loadCausalLM, nextTokenLogProbs } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2; any causal LM with `outputEmbeddings()` takes the fused path.
 * const policy = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const inputIds = tensor([[5, 9, 17, 2]]), attentionMask = tensor([[1, 1, 1, 1]]);
 * const { logprobs } = nextTokenLogProbs(policy, inputIds, attentionMask);
 * console.log(logprobs.shape); // [1, 3]
 * ```
 *
 * @param model A causal LM (`outputEmbeddings()` selects the fused path).
 * @param inputIds [B, L] token ids.
 * @param attentionMask [B, L], 1 on tokens and 0 on padding.
 */
export function nextTokenLogProbs(
  model: ScoredModel,
  inputIds: Tensor,
  attentionMask: Tensor,
  opts: NextTokenLogProbsOptions = {},
): NextTokenLogProbs {
  const [b, l] = inputIds.shape;
  if (inputIds.rank !== 2 || l < 2) {
    throw new Error(
      `nextTokenLogProbs: inputIds must be [B, L] with L >= 2 (a token and its successor), got ` +
        `[${inputIds.shape}]`,
    );
  }
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(
      `nextTokenLogProbs: temperature must be a finite number > 0, got ${temperature}`,
    );
  }
  const labels = opts.labels ?? inputIds;
  if (labels.rank !== 2 || labels.shape[0] !== b || labels.shape[1] !== l) {
    throw new Error(
      `nextTokenLogProbs: labels must be [B, L] = [${b}, ${l}] like inputIds, got ` +
        `[${labels.shape}]`,
    );
  }
  const next = slice(labels, [0, 1], [b, l - 1]);
  const head = outputHead(model);
  const out = head
    ? model.forward({ inputIds, attentionMask, outputHiddenStates: true, logitsToKeep: 1 })
    : model.forward({ inputIds, attentionMask });
  const values = out.values ? slice(out.values, [0, 0], [b, l - 1]) : undefined;
  if (head) {
    if (!out.hiddenStates) {
      throw new Error(
        "nextTokenLogProbs: the model has outputEmbeddings() but its forward returned no " +
          "hiddenStates for outputHiddenStates: true; return them, or drop outputEmbeddings()",
      );
    }
    out.logits.dispose();
    const h = out.hiddenStates;
    const cut = slice(h, [0, 0, 0], [b, l - 1, h.shape[2]]);
    const r = lmHeadTokenStats(cut, head, next, {
      scale: 1 / temperature,
      chunkRows: opts.chunkRows,
      ignoreIndex: opts.ignoreIndex,
      entropy: opts.entropy,
      argmax: opts.argmax,
    });
    return { ...r, values };
  }
  const v = out.logits.shape[2];
  if (out.logits.rank !== 3 || out.logits.shape[0] !== b || out.logits.shape[1] !== l) {
    throw new Error(
      `nextTokenLogProbs: the model returned logits [${out.logits.shape}] for input [${b}, ${l}]; ` +
        "a causal LM must return [batch, length, vocab]",
    );
  }
  let logits = slice(out.logits, [0, 0, 0], [b, l - 1, v]);
  if (temperature !== 1) logits = mul(logits, 1 / temperature);
  const result: NextTokenLogProbs = { logprobs: logitsLogProbs(logits, next, opts.ignoreIndex) };
  if (values) result.values = values;
  if (opts.entropy) {
    result.entropy = noGrad(() => {
      const lp = logSoftmax(logits);
      return neg(sum(mul(exp(lp), lp), { axis: -1 }));
    });
  }
  if (opts.argmax) result.argmax = argmax(logits, -1);
  return result;
}

/** `tokenLogProbs`, with labels equal to `ignoreIndex` scored 0 (and given no gradient). */
function logitsLogProbs(logits: Tensor, labels: Tensor, ignoreIndex?: number): Tensor {
  if (ignoreIndex === undefined) return tokenLogProbs(logits, labels);
  const keep = sub(1, equal(labels, ignoreIndex));
  return mul(tokenLogProbs(logits, mul(labels, keep)), keep);
}
