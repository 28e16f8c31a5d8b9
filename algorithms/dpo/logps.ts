/** Sequence log-probs of completions, as DPO scores them (SPEC B.1). */

import { div, equal, greater, mul, slice, sub, sum, type Tensor, where } from "../../core/mod.ts";
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
  const count = sum(keep, { axis: 1 });
  return div(total, where(greater(count, 0), count, 1));
}
