/**
 * The input conventions every causal architecture shares: token matrices as tensors on the
 * model's backend, the attention mask that covers cached positions too, positions that follow
 * the mask, and the slice of hidden states the LM head runs on.
 *
 * @module
 */

import { clamp, matmul, ones, slice, sub, type Tensor, tensor, toBackend } from "../core/mod.ts";
import { fmtShape } from "../core/shape.ts";
import type { TokenMatrix } from "./bert/inputs.ts";

/**
 * `x` as a tensor on `backend` (nested arrays are checked to be a rectangular matrix).
 * @param who Names the model in error messages.
 */
export function onBackend(
  x: TokenMatrix,
  backend: string,
  field = "inputIds",
  who = "model",
): Tensor {
  if (!Array.isArray(x)) {
    const t = x as Tensor;
    return t.backend.name === backend ? t : toBackend(t, backend);
  }
  const rows = x as readonly (readonly number[])[];
  const width = rows[0]?.length ?? 0;
  if (rows.length === 0 || width === 0) {
    throw new Error(
      `${who}: ${field} must be a non-empty [B, T] matrix, got ${rows.length} rows`,
    );
  }
  const flat = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new Error(
        `${who}: ${field} row ${r} has ${row?.length} entries, row 0 has ${width}; pad the ` +
          `rows to one length and pass an attention mask`,
      );
    }
    flat.set(row, r * width);
  });
  return tensor(flat, [rows.length, width], { backend });
}

/** Position ids [B, T] = cumsum(mask) − 1 over the last T columns, clamped at 0 for padding. */
export function positionsFromMask(mask: Tensor, t: number): Tensor {
  const tk = mask.shape[1], past = tk - t;
  // cumsum as a matmul with a triangular 0/1 matrix: runs on any backend without a readback.
  const upper = new Float32Array(tk * t);
  for (let j = 0; j < tk; j++) for (let i = Math.max(0, j - past); i < t; i++) upper[j * t + i] = 1;
  const counts = matmul(mask, tensor(upper, [tk, t], { backend: mask.backend.name }));
  return clamp(sub(counts, 1), 0);
}

/** What `causalInputs` checked and built. */
export interface CausalTensors {
  /** [B, T] token ids. */
  ids: Tensor;
  /** [B, T_past + T] key mask. */
  mask: Tensor;
  /** [B, T] positions (given, or from the mask). */
  positions: Tensor;
  /** Cached positions (T_past). */
  past: number;
}

/**
 * Checks a causal forward's inputs and builds the tensors every architecture needs: ids,
 * the key mask over cached and new positions, and positions from the mask.
 * @param cachedLength T_past (0 without a cache).
 * @param who Names the model in error messages.
 */
export function causalInputs(
  input: {
    inputIds: TokenMatrix;
    attentionMask?: TokenMatrix;
    positionIds?: TokenMatrix;
  },
  backend: string,
  cachedLength: number,
  who: string,
): CausalTensors {
  const ids = onBackend(input.inputIds, backend, "inputIds", who);
  if (ids.rank !== 2) {
    throw new Error(`${who}: inputIds must be [B, T], got ${fmtShape(ids.shape)}`);
  }
  const [b, t] = ids.shape;
  const tk = cachedLength + t;
  const mask = input.attentionMask
    ? onBackend(input.attentionMask, backend, "attentionMask", who)
    : ones([b, tk], { backend });
  if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== tk) {
    throw new Error(
      `${who}: attentionMask must be [B, T_past + T] = [${b}, ${tk}], got ` +
        `${fmtShape(mask.shape)}` + (cachedLength ? " (it covers the cached positions too)" : ""),
    );
  }
  const positions = input.positionIds
    ? onBackend(input.positionIds, backend, "positionIds", who)
    : positionsFromMask(mask, t);
  if (positions.rank !== 2 || positions.shape[0] !== b || positions.shape[1] !== t) {
    throw new Error(
      `${who}: positionIds must be [B, T] = [${b}, ${t}], got ${fmtShape(positions.shape)}`,
    );
  }
  return { ids, mask, positions, past: cachedLength };
}

/**
 * The last `keep` positions of hidden states [B, T, D] (all of them for 0), the input of the LM
 * head when only the last logits are needed (generation).
 */
export function keepLast(hidden: Tensor, keep: number | undefined, who: string): Tensor {
  const n = keep ?? 0;
  const t = hidden.shape[1];
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${who}: logitsToKeep must be an integer >= 0, got ${n}`);
  }
  return n > 0 && n < t
    ? slice(hidden, [0, t - n, 0], [hidden.shape[0], n, hidden.shape[2]])
    : hidden;
}
