/** Sequence log-probs of completions, as DPO scores them (SPEC B.1). */

import { div, equal, greater, mul, slice, sub, sum, type Tensor, where } from "../../core/mod.ts";
import {
  nextTokenLogProbs,
  outputHead,
  type ScoredModel,
} from "../../models/next_token_logprobs.ts";
import { shiftedLogprobs } from "../common/rollout.ts";

/** Label value that marks prompt and padding positions. */
export const LABEL_PAD_TOKEN_ID: number = -100;

/**
 * Σ_t log π(label_{t+1} | ...) over positions whose label is not −100 (TRL's `_get_batch_logps`):
 * logits[:, :-1] are scored against labels[:, 1:]. With `average`, divides by the token count.
 */
export function sequenceLogps(logits: Tensor, labels: Tensor, average = false): Tensor {
  const [B, L] = logits.shape;
  if (labels.shape[0] !== B || labels.shape[1] !== L) {
    throw new Error(
      `sequenceLogps: labels [${labels.shape}] must be [batch, length] = [${B}, ${L}] like the logits`,
    );
  }
  const keep = sub(1, equal(slice(labels, [0, 1], [B, L - 1]), LABEL_PAD_TOKEN_ID));
  // −100 is no token id: gather at 0 there, and let the mask drop it.
  const safe = where(sub(1, equal(labels, LABEL_PAD_TOKEN_ID)), labels, 0);
  const total = sum(mul(shiftedLogprobs(logits, safe), keep), { axis: 1 });
  if (!average) return total;
  return div(total, tokenCount(keep));
}

/** Tokens per row, 1 where a row has none (its sum is 0 then). */
function tokenCount(keep: Tensor): Tensor {
  const count = sum(keep, { axis: 1 });
  return where(greater(count, 0), count, 1);
}

/**
 * `sequenceLogps` of a model's rows, straight from the model: through the fused, chunked LM head
 * (`nextTokenLogProbs`) when the model exposes `outputEmbeddings()`, so no [rows, L, V] logits
 * exist forward or backward; through its logits otherwise.
 *
 * @example
 * ```ts
 * import { modelSequenceLogps } from "@tether/rlhf/dpo";
 * import { tensor } from "@tether/rlhf/core";
 * import { loadCausalLM } from "@tether/rlhf/models";
 *
 * const policy = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * // Prompt [5, 9], completion [17, 2]: only the completion is scored.
 * const ids = tensor([[5, 9, 17, 2]]), labels = tensor([[-100, -100, 17, 2]]);
 * console.log(modelSequenceLogps(policy, ids, tensor([[1, 1, 1, 1]]), labels).shape); // [1]
 * ```
 *
 * @param model A causal LM.
 * @param inputIds [B, L] token ids.
 * @param attentionMask [B, L], 1 on tokens.
 * @param labels [B, L]: the token, or −100 on prompt and padding.
 * @param average Divide each row's sum by its token count (IPO).
 * @returns [B].
 */
export function modelSequenceLogps(
  model: ScoredModel,
  inputIds: Tensor,
  attentionMask: Tensor,
  labels: Tensor,
  average = false,
): Tensor {
  const [B, L] = inputIds.shape;
  if (!outputHead(model)) {
    const { logits } = model.forward({ inputIds, attentionMask });
    if (logits.rank !== 3 || logits.shape[0] !== B || logits.shape[1] !== L) {
      throw new Error(
        `modelSequenceLogps: the model returned logits [${logits.shape}] for input [${B}, ${L}]; ` +
          "a causal LM must return [batch, length, vocab]",
      );
    }
    return sequenceLogps(logits, labels, average);
  }
  const { logprobs } = nextTokenLogProbs(model, inputIds, attentionMask, {
    labels,
    ignoreIndex: LABEL_PAD_TOKEN_ID,
  });
  const total = sum(logprobs, { axis: 1 });
  if (!average) return total;
  return div(
    total,
    tokenCount(sub(1, equal(slice(labels, [0, 1], [B, L - 1]), LABEL_PAD_TOKEN_ID))),
  );
}
