/**
 * The KL of sampled responses to a reference model: per row, Σ over response tokens of
 * log π(y_t) − log π_ref(y_t), the sequence estimate whose batch mean PPO logs as
 * `objective/kl`. Researchers report it next to the reward a tuned policy reaches.
 *
 * @module
 */

import {
  mul,
  noGrad,
  slice,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import { packBatch } from "./batch.ts";

/** A causal LM as far as log-probabilities go. */
export interface LogitsModel {
  /** Logits [B, L, V] of padded rows. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor };
}

/**
 * Runs `fn` on the reference: a separate frozen model (`(fn) => fn(ref)`), or the policy itself
 * with its LoRA adapters off (`(fn) => lora.withAdaptersDisabled(() => fn(policy))`).
 */
export type WithReference = <T>(fn: (model: LogitsModel) => T) => T;

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
 * Σ_t log π(y_t) − log π_ref(y_t) over each row's response tokens, under no gradient. Rows are
 * packed right-padded, `chunk` at a time; the policy and the reference see the same tensors.
 *
 * @example
 * ```ts
 * const kl = await sequenceKl(policy, (fn) => fn(reference), queries, responses, { padTokenId });
 * ```
 *
 * @param policy The tuned model (its dropout should be off: call `eval()` first).
 * @param withReference Runs a function on the reference model.
 * @param queries Query token rows.
 * @param responses Response token rows, one per query (sampled from `policy` for an estimate of
 *   KL(π ‖ π_ref)).
 * @param options Pad token and chunk size.
 * @returns One value per row, in nats.
 */
export async function sequenceKl(
  policy: LogitsModel,
  withReference: WithReference,
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
    const packed = packBatch(
      queries.slice(start, start + chunk) as number[][],
      responses.slice(start, start + chunk) as number[][],
      options.padTokenId,
      "right",
    );
    const perRow = noGrad(() =>
      tidy(() => {
        const on = { backend: options.backend };
        const ids = tensor(packed.inputIds, undefined, on);
        const attentionMask = tensor(packed.attentionMask, undefined, on);
        const mask = tensor(packed.responseMask, undefined, on);
        const [B, L] = ids.shape;
        const next = slice(ids, [0, 1], [B, L - 1]);
        const logps = (model: LogitsModel): Tensor => {
          const { logits } = model.forward({ inputIds: ids, attentionMask });
          return tokenLogProbs(slice(logits, [0, 0, 0], [B, L - 1, logits.shape[2]]), next);
        };
        return sum(mul(sub(logps(policy), withReference(logps)), mask), { axis: 1 });
      })
    );
    out.push(...await perRow.toArray());
    perRow.dispose();
  }
  return out;
}
