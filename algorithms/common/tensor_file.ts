/**
 * Tensors of a training checkpoint in the safetensors format, kept at the precision they live
 * in: F64 for the f64 reference backend (so a resumed run continues bit for bit), F32 otherwise.
 * Encoding and header parsing are the models' safetensors code; decoding here keeps F64 as f64,
 * where the models' reader converts everything to f32.
 *
 * @module
 */

import { encodeSafetensors, parseSafetensorsHeader } from "../../models/io/safetensors.ts";
import { toFloat32 } from "../../models/io/dtype.ts";
import { type Tensor, tensor } from "../../core/mod.ts";

/** One tensor on the host, at f32 or f64 precision. */
export interface HostValues {
  /** Dimensions, outermost first. */
  shape: readonly number[];
  /** Row-major values. */
  data: Float32Array | Float64Array;
}

/**
 * Copy a tensor's values to the host at the precision it is stored in.
 *
 * @param t Any live tensor.
 */
export async function hostValuesOf(t: Tensor): Promise<HostValues> {
  const data = hostDtypeOf(t) === "F64" ? t.toFloat64ArraySync() : await t.toArray();
  return { shape: [...t.shape], data };
}

/**
 * The stored type of a tensor's host values: F64 on the f64 reference backend, F32 otherwise.
 *
 * @param t Any live tensor.
 */
export function hostDtypeOf(t: Tensor): "F32" | "F64" {
  return t.backend.bytesPerElement === 8 && t.backend.readSync ? "F64" : "F32";
}

/**
 * A new tensor holding `values` on `backend`.
 *
 * @param values Host values.
 * @param backend Backend name.
 */
export function tensorFromHost(values: HostValues, backend: string): Tensor {
  return tensor(values.data, [...values.shape], { backend });
}

/**
 * Encode tensors as safetensors bytes: F64 for Float64Array data, F32 for Float32Array.
 *
 * @param tensors Named tensors, written in this order.
 * @param metadata Header `__metadata__`.
 */
export function encodeTensorFile(
  tensors: ReadonlyMap<string, HostValues>,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  return encodeSafetensors(new Map(tensors), metadata);
}

/**
 * Decode a safetensors file: F64 tensors stay f64, everything else becomes f32.
 *
 * @param bytes The whole file.
 * @param source Name used in error messages.
 */
export function decodeTensorFile(bytes: Uint8Array, source: string): Map<string, HostValues> {
  const header = parseSafetensorsHeader(bytes, source);
  const out = new Map<string, HostValues>();
  for (const [name, entry] of header.entries) {
    const [begin, end] = entry.dataOffsets;
    const raw = bytes.subarray(header.dataStart + begin, header.dataStart + end);
    // slice() copies into a fresh, aligned buffer.
    const data = entry.dtype === "F64"
      ? new Float64Array(raw.slice().buffer)
      : toFloat32(raw, entry.dtype);
    out.set(name, { shape: entry.shape, data });
  }
  return out;
}
