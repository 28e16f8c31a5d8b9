/**
 * Log-probabilities of each next token of a batch, from a causal LM's hidden states through the
 * fused, chunked LM head (`lmHeadLogProbs`): the [B, T, V] logits never exist, forward or
 * backward. What PPO, GRPO, RLOO (rollout and update), DPO and SFT need from a policy or a
 * reference; models without `outputEmbeddings()` are scored through their logits instead.
 *
 * @module
 */

import {
  exp,
  lmHeadLogProbs,
  lmHeadLogProbsAndEntropy,
  logSoftmax,
  mul,
  neg,
  slice,
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
  /** Rows of logits computed at once (default: ~64 MiB of them). */
  chunkRows?: number;
}

/** Per predicted position t = 0 … L−2: log p(x_{t+1} | x_≤t), entropy and value. */
export interface NextTokenLogProbs {
  /** [B, L−1]. */
  logprobs: Tensor;
  /** [B, L−1], when asked for. */
  entropy?: Tensor;
  /** [B, L−1] value-head estimates, when the model has a value head. */
  values?: Tensor;
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
  const next = slice(inputIds, [0, 1], [b, l - 1]);
  const head = model.outputEmbeddings?.() ?? null;
  const out = head
    ? model.forward({ inputIds, attentionMask, outputHiddenStates: true, logitsToKeep: 1 })
    : model.forward({ inputIds, attentionMask });
  const values = out.values ? slice(out.values, [0, 0], [b, l - 1]) : undefined;
  if (head && out.hiddenStates) {
    out.logits.dispose();
    const h = out.hiddenStates;
    const cut = slice(h, [0, 0, 0], [b, l - 1, h.shape[2]]);
    const o = { scale: 1 / temperature, chunkRows: opts.chunkRows };
    if (opts.entropy) return { ...lmHeadLogProbsAndEntropy(cut, head, next, o), values };
    return { logprobs: lmHeadLogProbs(cut, head, next, o), values };
  }
  const v = out.logits.shape[2];
  let logits = slice(out.logits, [0, 0, 0], [b, l - 1, v]);
  if (temperature !== 1) logits = mul(logits, 1 / temperature);
  const logprobs = tokenLogProbs(logits, next);
  if (!opts.entropy) return { logprobs, values };
  const lp = logSoftmax(logits);
  return { logprobs, entropy: neg(sum(mul(exp(lp), lp), { axis: -1 })), values };
}
