/**
 * The inputs of a BERT-family encoder: token ids with an optional attention mask and token
 * types, given as tensors on the model's backend or as nested arrays of integers.
 *
 * @module
 */

import { fmtShape, type Tensor, tensor } from "../../core/mod.ts";

/** A [B, T] matrix of integers: a tensor, or rows of numbers. */
export type TokenMatrix = Tensor | readonly (readonly number[])[];

/** One batch for an encoder. */
export interface EncoderBatch {
  /** Token ids [B, T]. */
  inputIds: TokenMatrix;
  /** [B, T]: 1 for a real token, 0 for padding (default all ones). */
  attentionMask?: TokenMatrix;
  /**
   * [B, T] segment ids (BERT's sentence A/B; default zeros). DistilBERT has no segment
   * embeddings and ignores them.
   */
  tokenTypeIds?: TokenMatrix;
}

/** A batch as tensors on the model's backend. */
export interface EncoderTensors {
  /** [B, T] token ids. */
  ids: Tensor;
  /** [B, T] keep-mask, or undefined when every token is real. */
  mask: Tensor | undefined;
  /** [B, T] token types, or undefined for zeros. */
  tokenTypes: Tensor | undefined;
  /** B. */
  batch: number;
  /** T. */
  length: number;
}

/**
 * A [B, T] matrix of token ids (or of 0/1 with `binary`) as a tensor on `backend`: arrays are
 * checked and copied; a tensor must already be there. `field` names the input in errors.
 */
export function asTensor(
  x: TokenMatrix,
  field: string,
  backend: string,
  shape: readonly number[] | undefined,
  binary = false,
): Tensor {
  let t: Tensor;
  if (Array.isArray(x)) {
    const rows = x as readonly (readonly number[])[];
    const width = rows[0]?.length ?? 0;
    if (rows.length === 0 || width === 0) {
      throw new Error(`${field}: expected a non-empty [B, T] matrix, got ${rows.length} rows`);
    }
    const flat = new Float32Array(rows.length * width);
    rows.forEach((row, b) => {
      if (!Array.isArray(row) || row.length !== width) {
        throw new Error(
          `${field}: row ${b} has ${row?.length} entries, row 0 has ${width}; pad rows to one ` +
            `length and pass an attention mask`,
        );
      }
      row.forEach((v, i) => {
        if (binary ? v !== 0 && v !== 1 : !Number.isInteger(v) || v < 0) {
          throw new Error(
            `${field}[${b}][${i}] = ${v}; expected ${binary ? "0 or 1" : "a non-negative integer"}`,
          );
        }
        flat[b * width + i] = v;
      });
    });
    t = tensor(flat, [rows.length, width], { backend });
  } else {
    t = x as Tensor;
    t.assertLive(field);
    if (t.rank !== 2) throw new Error(`${field}: expected [B, T], got ${fmtShape(t.shape)}`);
    if (t.backend.name !== backend) {
      throw new Error(
        `${field} is on backend '${t.backend.name}' but the model's weights are on '${backend}'; ` +
          `move it with toBackend() or pass plain arrays`,
      );
    }
  }
  if (shape && (t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) {
    throw new Error(
      `${field} ${fmtShape(t.shape)} must have the shape of inputIds ${fmtShape(shape)}`,
    );
  }
  return t;
}

/**
 * Check a batch and bring it onto `backend` as tensors (arrays become new tensors; call inside
 * `tidy` so they are freed).
 *
 * @param batch The inputs.
 * @param backend The model's backend.
 */
export function encoderTensors(batch: EncoderBatch, backend: string): EncoderTensors {
  if (!batch || batch.inputIds === undefined) {
    throw new Error("forward: inputIds is required ([B, T] token ids)");
  }
  const ids = asTensor(batch.inputIds, "inputIds", backend, undefined);
  const mask = batch.attentionMask === undefined
    ? undefined
    : asTensor(batch.attentionMask, "attentionMask", backend, ids.shape, true);
  const tokenTypes = batch.tokenTypeIds === undefined
    ? undefined
    : asTensor(batch.tokenTypeIds, "tokenTypeIds", backend, ids.shape);
  return { ids, mask, tokenTypes, batch: ids.shape[0], length: ids.shape[1] };
}
