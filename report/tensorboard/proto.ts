/**
 * The few protocol-buffer wire rules the event files need: varints, 64- and 32-bit fixed
 * fields and length-delimited fields, written and read back. Only what TensorBoard's `Event`,
 * `Summary`, `TensorProto` and `HistogramProto` messages use.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Wire types of the protobuf encoding. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** Builds one message, field by field, in the order written. */
export class ProtoWriter {
  #bytes: number[] = [];

  /** Append a varint field (a non-negative integer up to 2^53). */
  varint(field: number, value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      throw new Error(`ProtoWriter: field ${field} needs an integer in [0, 2^53), got ${value}`);
    }
    this.#key(field, WIRE.varint);
    this.#varint(value);
    return this;
  }

  /** Append a `double` field. */
  double(field: number, value: number): this {
    this.#key(field, WIRE.fixed64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#bytes.push(...b);
    return this;
  }

  /** Append a `float` field (rounded to f32). */
  float(field: number, value: number): this {
    this.#key(field, WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#bytes.push(...b);
    return this;
  }

  /** Append a `bytes` or embedded-message field. */
  bytes(field: number, value: Uint8Array): this {
    this.#key(field, WIRE.bytes);
    this.#varint(value.length);
    for (let i = 0; i < value.length; i++) this.#bytes.push(value[i]);
    return this;
  }

  /** Append a `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** Append a packed `repeated double` field. */
  packedDoubles(field: number, values: readonly number[]): this {
    const b = new Uint8Array(8 * values.length);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat64(8 * i, v, true));
    return this.bytes(field, b);
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #key(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  #varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.#bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.#bytes.push(v);
  }
}

/** One decoded field: its number, wire type and raw value. */
export interface ProtoField {
  /** Field number. */
  field: number;
  /** Wire type (see {@link WIRE}). */
  wire: number;
  /** Varints as numbers; fixed64/fixed32 and length-delimited fields as their bytes. */
  value: number | Uint8Array;
}

/**
 * Split a message into its fields, in order. Throws on a truncated message or a wire type the
 * event files never use (groups).
 *
 * @param bytes An encoded message.
 */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0, scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new Error("protobuf: truncated varint");
      const b = bytes[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
  };
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.length) throw new Error("protobuf: truncated field");
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === WIRE.varint) fields.push({ field, wire, value: varint() });
    else if (wire === WIRE.fixed64) fields.push({ field, wire, value: take(8) });
    else if (wire === WIRE.bytes) fields.push({ field, wire, value: take(varint()) });
    else if (wire === WIRE.fixed32) fields.push({ field, wire, value: take(4) });
    else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
  }
  return fields;
}

/** A fixed64 field's bytes as a double. */
export function asDouble(value: number | Uint8Array): number {
  const b = value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
}

/** A fixed32 field's bytes as a float. */
export function asFloat(value: number | Uint8Array): number {
  const b = value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}

/** A packed repeated double field's bytes as numbers. */
export function asDoubles(value: number | Uint8Array): number[] {
  const b = value as Uint8Array;
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  return Array.from({ length: b.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
}
