/** Sequence log-probs of completions, as DPO scores them (SPEC B.1). */

import {
  div,
  equal,
  greater,
  mul,
  slice,
  sub,
  sum,
  type Tensor,
  tokenLogProbs,
  where,
} from "../../core/mod.ts";

/** Label value that marks prompt and padding positions. */
export const LABEL_PAD_TOKEN_ID: number = -100;

/**
 * Σ_t log π(label_{t+1} | ...) over positions whose label is not −100 (TRL's `_get_batch_logps`):
 * logits[:, :-1] are scored against labels[:, 1:]. With `average`, divides by the token count.
 */
export function sequenceLogps(logits: Tensor, labels: Tensor, average = false): Tensor {
  const [B, L, V] = logits.shape;
  if (labels.shape[0] !== B || labels.shape[1] !== L) {
    throw new Error(
      `sequenceLogps: labels [${labels.shape}] must be [batch, length] = [${B}, ${L}] like the logits`,
    );
  }
  const cut = slice(logits, [0, 0, 0], [B, L - 1, V]);
  const next = slice(labels, [0, 1], [B, L - 1]);
  const keep = sub(1, equal(next, LABEL_PAD_TOKEN_ID));
  const safe = where(keep, next, 0);
  const total = sum(mul(tokenLogProbs(cut, safe), keep), { axis: 1 });
  if (!average) return total;
  const count = sum(keep, { axis: 1 });
  return div(total, where(greater(count, 0), count, 1));
}
