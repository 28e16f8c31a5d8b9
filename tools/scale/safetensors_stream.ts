/**
 * A streaming safetensors writer for random-weight checkpoints: the header is computed from the
 * tensor list, then each tensor's values are drawn and written chunk by chunk, so a 500 MB
 * checkpoint never sits in memory. Values follow what a freshly initialised transformers model
 * holds, drawn from a seeded xorshift stream: norm weights 1, biases 0, GPT-2's causal-mask
 * buffers lower-triangular ones, `position_ids` buffers 0..n-1, everything else uniform with
 * standard deviation 0.02.
 *
 * @module
 */

import type { ByteSink } from "./hub_cache.ts";

/** The stored dtypes a checkpoint may use. */
export type StoredType = "F32" | "F16" | "BF16" | "I64";

/** One tensor of a checkpoint: its name as the Hub's file spells it, shape, stored dtype. */
export interface TensorSpec {
  /** Name in the file. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Stored dtype (default: the checkpoint's). */
  dtype?: StoredType;
}

const BYTES: Record<StoredType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

/** What a tensor is filled with, from its name. */
type Fill = "ones" | "zeros" | "tril" | "arange" | "random" | "masked_bias";

function fillOf(name: string): Fill {
  if (/attn\.masked_bias$/.test(name)) return "masked_bias";
  if (/attn\.bias$/.test(name)) return "tril";
  if (/position_ids$/.test(name)) return "arange";
  if (/\.bias$/.test(name)) return "zeros";
  if (/(norm|ln_\d|ln_f|LayerNorm)[^.]*\.weight$/i.test(name)) return "ones";
  return "random";
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** FNV-1a of a string: the per-tensor seed, so each tensor's values depend on its name only. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) || 1;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of a float (round to nearest even; values here are small and finite). */
function toF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  const mant = b & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0x1000) >>> 13);
  }
  if (exp >= 31) return sign | 0x7c00;
  return sign | ((exp << 10) + ((mant + 0x1000) >>> 13));
}

/** The bfloat16 bits of a float (round to nearest even). */
function toBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

const CHUNK = 1 << 20;
const SCALE = 0.02 * Math.sqrt(3); // uniform on [-a, a] has standard deviation a / √3

/** Values of one tensor, chunk by chunk, as stored bytes. */
async function writeTensor(sink: ByteSink, spec: TensorSpec, dtype: StoredType): Promise<void> {
  const n = numel(spec.shape);
  const fill = fillOf(spec.name);
  const width = BYTES[dtype];
  const cols = spec.shape[spec.shape.length - 1] ?? 1;
  let state = seedOf(spec.name);
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const bytes = new Uint8Array(count * width);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) {
      const at = start + i;
      let x: number;
      switch (fill) {
        case "ones":
          x = 1;
          break;
        case "zeros":
          x = 0;
          break;
        case "tril":
          x = at % cols <= Math.floor(at / cols) % cols ? 1 : 0;
          break;
        case "arange":
          x = at % cols;
          break;
        case "masked_bias":
          x = -1e4;
          break;
        default:
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          x = ((state >>> 0) / 4294967296 * 2 - 1) * SCALE;
      }
      if (dtype === "F32") view.setFloat32(i * 4, x, true);
      else if (dtype === "F16") view.setUint16(i * 2, toF16(x), true);
      else if (dtype === "BF16") view.setUint16(i * 2, toBf16(x), true);
      else view.setBigInt64(i * 8, BigInt(Math.round(x)), true);
    }
    await sink.write(bytes);
  }
}

/**
 * A `model.safetensors` writer for `tensors` (in file order) stored as `dtype` unless a tensor
 * says otherwise.
 *
 * @param tensors Names and shapes.
 * @param dtype The checkpoint's stored dtype.
 */
export function safetensorsFile(
  tensors: readonly TensorSpec[],
  dtype: StoredType,
): (sink: ByteSink) => Promise<void> {
  return async (sink) => {
    const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
    let offset = 0;
    for (const t of tensors) {
      const d = t.dtype ?? dtype;
      const size = numel(t.shape) * BYTES[d];
      header[t.name] = { dtype: d, shape: t.shape, data_offsets: [offset, offset + size] };
      offset += size;
    }
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const head = new Uint8Array(8 + json.length);
    new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
    head.set(new TextEncoder().encode(json), 8);
    await sink.write(head);
    for (const t of tensors) await writeTensor(sink, t, t.dtype ?? dtype);
  };
}

/**
 * Weights in a tensor list (buffers such as causal masks and position ids excluded).
 *
 * @param tensors Names and shapes.
 */
export function countWeights(tensors: readonly TensorSpec[]): number {
  return tensors.filter((t) => !/(attn\.(masked_)?bias|position_ids)$/.test(t.name))
    .reduce((s, t) => s + numel(t.shape), 0);
}
