/**
 * Tensors of a training checkpoint in the safetensors format, kept at the precision they live
 * in: F64 for the f64 reference backend (so a resumed run continues bit for bit), F32 otherwise.
 * Headers are parsed and validated by the models' safetensors reader; the writer lives here
 * because that one writes F32 only.
 *
 * @module
 */

import { parseSafetensorsHeader } from "../../models/io/safetensors.ts";
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
  const data = t.backend.bytesPerElement === 8 && t.backend.readSync
    ? t.toFloat64ArraySync()
    : await t.toArray();
  return { shape: [...t.shape], data };
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
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") {
      throw new Error(`tensor file: "__metadata__" is not a tensor name`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new Error(
        `tensor file: "${name}" has shape [${t.shape}] (${count} values) but ${t.data.length} values`,
      );
    }
    const f64 = t.data instanceof Float64Array;
    header[name] = {
      dtype: f64 ? "F64" : "F32",
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to a multiple of 8 so the data section starts aligned.
  const padding = (8 - (json.byteLength % 8)) % 8;
  if (padding > 0) {
    const padded = new Uint8Array(json.byteLength + padding).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
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
