/**
 * Model inputs and response masks for a PPO batch (SPEC A.1 step 4 and A.3): each row is
 * query ++ response, padded to the longest row on the chosen side; the mask over the L−1 predicted
 * positions is 1 exactly where the predicted token is a response token.
 */

/** Host-side layout of one (mini)batch. */
export interface PackedBatch {
  /** Token ids [B, L] with padding. */
  inputIds: number[][];
  /** 1 on real tokens, 0 on padding [B, L]. */
  attentionMask: number[][];
  /** 1 where position t predicts a response token [B, L−1]. */
  responseMask: number[][];
  /** Per row, the last t with responseMask 1 (where the score lands). */
  lastIndex: number[];
}

/** Packs query/response pairs for the policy and reference forward passes. */
export function packBatch(
  queries: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  padTokenId: number,
  paddingSide: "left" | "right" = "right",
): PackedBatch {
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
