/**
 * Checkpoints read one tensor at a time: a `CheckpointReader` lists every tensor's stored dtype
 * and shape up front (from headers only) and streams one tensor's values, converted to f32, in
 * chunks into a sink. Loading a model through it holds the model's weights plus one chunk,
 * never a second copy of the checkpoint.
 *
 * @module
 */

import { decodeInto, DTYPE_BYTES } from "./dtype.ts";
import { numelOf, type StateDict, type StoredDType } from "./host.ts";
import type { RandomAccessFile } from "./read_file.ts";

/** A tensor as a checkpoint stores it. */
export interface TensorEntry {
  /** Stored element type (values are delivered as f32 whatever it is). */
  dtype: StoredDType;
  /** Dimensions, outermost first. */
  shape: readonly number[];
}

/**
 * Receives a tensor's values in row-major order: `values` holds elements `offset ..
 * offset + values.length`. The array may be reused for the next chunk once the sink returns.
 */
export type TensorSink = (values: Float32Array, offset: number) => void;

/** A checkpoint (one file or several shards) whose tensors are read on demand. */
export interface CheckpointReader extends Disposable {
  /** Where the tensors come from, for messages. */
  readonly source: string;
  /** Every tensor's stored dtype and shape, in file order. */
  readonly entries: ReadonlyMap<string, TensorEntry>;
  /**
   * Streams tensor `name` into `sink` as f32 chunks of at most `chunkElements` elements
   * (default 4Mi).
   */
  read(name: string, sink: TensorSink, chunkElements?: number): Promise<void>;
  /** Releases the open files. */
  close(): void;
}

/** Default chunk: 4Mi elements (16 MiB of f32). */
export const DEFAULT_CHUNK_ELEMENTS = 4 << 20;

/**
 * Buffers a reader reuses from one tensor to the next, so streaming a checkpoint allocates
 * one chunk, not one per tensor (garbage the collector may free late).
 */
export class ChunkBuffers {
  #values = new ArrayBuffer(0);
  #raw = new ArrayBuffer(0);

  /** An f32 view of `elements` values, and a byte view of `bytes` raw bytes. */
  take(elements: number, bytes: number): { values: Float32Array; raw: Uint8Array } {
    if (this.#values.byteLength < elements * 4) this.#values = new ArrayBuffer(elements * 4);
    if (this.#raw.byteLength < bytes) this.#raw = new ArrayBuffer(bytes);
    return {
      values: new Float32Array(this.#values, 0, elements),
      raw: new Uint8Array(this.#raw, 0, bytes),
    };
  }
}

/**
 * Streams `count` little-endian elements of `dtype` starting at byte `offset` of `file` into
 * `sink` as f32 chunks, reusing one buffer (F32 elements are read straight into it).
 * @param buffers Reused from call to call when given (one per reader).
 */
export async function streamElements(
  file: RandomAccessFile,
  offset: number,
  count: number,
  dtype: StoredDType,
  sink: TensorSink,
  chunkElements: number = DEFAULT_CHUNK_ELEMENTS,
  buffers: ChunkBuffers = new ChunkBuffers(),
): Promise<void> {
  if (count === 0) {
    sink(new Float32Array(0), 0);
    return;
  }
  const itemBytes = DTYPE_BYTES[dtype];
  const chunk = Math.max(1, Math.min(count, Math.floor(chunkElements)));
  const taken = buffers.take(chunk, dtype === "F32" ? 0 : chunk * itemBytes);
  const values = taken.values;
  const raw = dtype === "F32" ? new Uint8Array(values.buffer, 0, chunk * 4) : taken.raw;
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    const bytes = raw.subarray(0, n * itemBytes);
    await file.readInto(offset + done * itemBytes, bytes);
    const out = n === chunk ? values : values.subarray(0, n);
    if (dtype !== "F32") decodeInto(bytes, dtype, out);
    sink(out, done);
  }
}

/**
 * A reader over tensors already in memory (a `StateDict`), for checkpoints built or edited in
 * code.
 *
 * @param state The tensors.
 * @param source A name for messages.
 */
export function stateDictReader(state: StateDict, source = "state dict"): CheckpointReader {
  const entries = new Map(
    [...state].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }] as const),
  );
  return {
    source,
    entries,
    read(name: string, sink: TensorSink): Promise<void> {
      const t = state.get(name);
      if (!t) return Promise.reject(new Error(`${source}: no tensor "${name}"`));
      if (t.data.length !== numelOf(t.shape)) {
        return Promise.reject(
          new Error(`${source}: tensor "${name}" holds ${t.data.length} values for [${t.shape}]`),
        );
      }
      sink(t.data, 0);
      return Promise.resolve();
    },
    close() {},
    [Symbol.dispose]() {},
  };
}

/**
 * Reads every tensor of a reader into host memory (what `loadStateDict` returns).
 *
 * @param reader The checkpoint.
 * @param include Keep only the tensors this returns true for.
 */
export async function readAll(
  reader: CheckpointReader,
  include?: (name: string) => boolean,
): Promise<StateDict> {
  const out: StateDict = new Map();
  for (const [name, entry] of reader.entries) {
    if (include && !include(name)) continue;
    const data = new Float32Array(numelOf(entry.shape));
    await reader.read(name, (values, offset) => data.set(values, offset));
    out.set(name, { dtype: entry.dtype, shape: [...entry.shape], data });
  }
  return out;
}
