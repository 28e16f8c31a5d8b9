/**
 * Bit-exact conversions from the compact float formats checkpoints use (IEEE half, bfloat16)
 * and from integer types to f32.
 *
 * @module
 */

import type { StoredDType } from "./host.ts";

/** Bytes per element of each stored dtype. */
export const DTYPE_BYTES: Record<StoredDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Convert IEEE 754 half-precision bits to the bits of the equal f32 (every half is exactly
 * representable in f32); NaN payloads and the sign of zero are kept.
 *
 * @param bits The 16 bits of the half.
 */
export function f16BitsToF32Bits(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  let exponent = (bits >> 10) & 0x1f;
  let mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent === 0) {
    if (mantissa === 0) return sign >>> 0;
    // A subnormal half is a normal f32: shift the leading one into the implicit bit.
    exponent = 1;
    while ((mantissa & 0x400) === 0) {
      mantissa <<= 1;
      exponent--;
    }
    mantissa &= 0x3ff;
  }
  return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The f32 value of IEEE half-precision bits.
 *
 * @param bits The 16 bits of the half.
 */
export function f16BitsToF32(bits: number): number {
  u32Scratch[0] = f16BitsToF32Bits(bits);
  return f32Scratch[0];
}

/**
 * The f32 value of bfloat16 bits (the top half of an f32).
 *
 * @param bits The 16 bits of the bfloat16.
 */
export function bf16BitsToF32(bits: number): number {
  u32Scratch[0] = (bits << 16) >>> 0;
  return f32Scratch[0];
}

function readU16(bytes: Uint8Array, index: number): number {
  return bytes[index * 2] | (bytes[index * 2 + 1] << 8);
}

/**
 * A reader of element `i` (as a number) from little-endian bytes of the given dtype.
 *
 * @param bytes Raw little-endian element bytes.
 * @param dtype Their stored type.
 */
export function elementReader(bytes: Uint8Array, dtype: StoredDType): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F64":
      return (i) => view.getFloat64(i * 8, true);
    case "F32":
      return (i) => view.getFloat32(i * 4, true);
    case "F16":
      return (i) => f16BitsToF32(readU16(bytes, i));
    case "BF16":
      return (i) => bf16BitsToF32(readU16(bytes, i));
    case "I64":
      return (i) => Number(view.getBigInt64(i * 8, true));
    case "I32":
      return (i) => view.getInt32(i * 4, true);
    case "I16":
      return (i) => view.getInt16(i * 2, true);
    case "I8":
      return (i) => view.getInt8(i);
    case "U8":
    case "BOOL":
      return (i) => bytes[i];
  }
}

/**
 * Convert a contiguous run of little-endian elements to a new Float32Array.
 *
 * @param bytes Exactly `count · DTYPE_BYTES[dtype]` bytes.
 * @param dtype Their stored type.
 */
export function toFloat32(bytes: Uint8Array, dtype: StoredDType): Float32Array {
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  if (dtype === "F32") {
    // A byte copy keeps NaN payloads and is far faster than element reads.
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const out = new Float32Array(count);
  // Half formats go bit to bit so NaN payloads survive (a JS number would canonicalise them).
  if (dtype === "BF16" || dtype === "F16") {
    const bits = new Uint32Array(out.buffer);
    if (dtype === "BF16") {
      for (let i = 0; i < count; i++) bits[i] = readU16(bytes, i) << 16;
    } else {
      for (let i = 0; i < count; i++) bits[i] = f16BitsToF32Bits(readU16(bytes, i));
    }
    return out;
  }
  const read = elementReader(bytes, dtype);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

/**
 * Convert little-endian elements into an existing Float32Array (its whole length), for
 * chunked reads that reuse one buffer.
 *
 * @param bytes Exactly `out.length · DTYPE_BYTES[dtype]` bytes.
 * @param dtype Their stored type.
 * @param out Destination.
 */
export function decodeInto(bytes: Uint8Array, dtype: StoredDType, out: Float32Array): void {
  const count = out.length;
  if (dtype === "F32") {
    new Uint8Array(out.buffer, out.byteOffset, count * 4).set(bytes.subarray(0, count * 4));
    return;
  }
  if (dtype === "BF16" || dtype === "F16") {
    const bits = new Uint32Array(out.buffer, out.byteOffset, count);
    if (dtype === "BF16") {
      for (let i = 0; i < count; i++) bits[i] = readU16(bytes, i) << 16;
    } else {
      for (let i = 0; i < count; i++) bits[i] = f16BitsToF32Bits(readU16(bytes, i));
    }
    return;
  }
  const read = elementReader(bytes, dtype);
  for (let i = 0; i < count; i++) out[i] = read(i);
}
