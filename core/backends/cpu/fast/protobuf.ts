/**
 * The protobuf wire encoding ONNX models need: varints, length-delimited fields and fixed32
 * floats. Used by the matmul route's one-node models and by the tests' model writer.
 */

const utf8 = new TextEncoder();

/** Appends an unsigned varint; a negative int64 is its 64-bit two's complement (ten bytes). */
export function varint(value: number | bigint, out: number[]): void {
  let v = BigInt.asUintN(64, BigInt(value));
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** A varint field (wire type 0). */
export function intField(field: number, value: number | bigint): number[] {
  const out: number[] = [];
  varint(field * 8, out);
  varint(value, out);
  return out;
}

/** A length-delimited field (wire type 2): bytes, strings and nested messages. */
export function bytesField(field: number, bytes: ArrayLike<number>): number[] {
  const out: number[] = [];
  varint(field * 8 + 2, out);
  varint(bytes.length, out);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
  return out;
}

/** A float field (wire type 5, little-endian f32). */
export function floatField(field: number, value: number): number[] {
  const out: number[] = [];
  varint(field * 8 + 5, out);
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  out.push(...bytes);
  return out;
}

/** A UTF-8 string field. */
export function stringField(field: number, s: string): number[] {
  return bytesField(field, utf8.encode(s));
}
