/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian bytes.
 *
 * Reading checks the header against the file before anything is allocated: its length, each
 * tensor's byte range (inside the file, dtype × shape bytes long, tiling the data section with
 * no overlap or gap, as the reference implementation requires).
 *
 * Reading converts F32/F16/BF16/F64 and integer tensors to f32; writing emits F32 with the
 * header padded by spaces to a multiple of 8 bytes (so the data stays aligned), the way the
 * reference implementation does, with `__metadata__` `{format: "pt"}` so Python's
 * `transformers` accepts the file.
 *
 * @module
 */

import { writeFileAtomic } from "./atomic.ts";
import { RandomAccessFile, readWholeFile } from "./read_file.ts";
import {
  type CheckpointReader,
  ChunkBuffers,
  streamElements,
  type TensorEntry,
  type TensorSink,
} from "./tensor_stream.ts";
import { DTYPE_BYTES, toFloat32 } from "./dtype.ts";
import { assertShape, type HostArray, numelOf, type StateDict, type StoredDType } from "./host.ts";

/** One header entry, as stored. */
export interface SafetensorsEntry {
  /** Stored element type. */
  dtype: StoredDType;
  /** Dimensions. */
  shape: number[];
  /** Byte range `[begin, end)` inside the data section. */
  dataOffsets: [number, number];
}

/** A parsed header. */
export interface SafetensorsHeader {
  /** Free-form string metadata (`__metadata__`), `{}` when absent. */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  entries: Map<string, SafetensorsEntry>;
  /** Where the data section starts in the file. */
  dataStart: number;
}

/** Options for reading. */
export interface ReadTensorsOptions {
  /** Keep only the tensors this returns true for (others are never converted). */
  include?: (name: string) => boolean;
  /** A name for the source in error messages (default: the path, or `safetensors`). */
  source?: string;
}

// The reference implementation refuses headers above 100 MB; so do we, before parsing junk.
const MAX_HEADER_BYTES = 100_000_000;
const KNOWN_DTYPES = new Set(Object.keys(DTYPE_BYTES));

/**
 * Parse and validate the header of a safetensors file.
 *
 * @param bytes The whole file (or at least its 8-byte length and its header).
 * @param source Name used in error messages.
 * @param fileSize Size of the whole file (default: `bytes` is the whole file); byte ranges are
 *   checked against it.
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  source = "safetensors",
  fileSize: number = bytes.byteLength,
): SafetensorsHeader {
  if (bytes.byteLength < 8) {
    throw new Error(`${source}: not a safetensors file (${bytes.byteLength} bytes, need >= 8)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > Math.min(bytes.byteLength, fileSize)) {
    throw new Error(
      `${source}: header length ${headerLength} does not fit the file (${fileSize} bytes); ` +
        `the file is truncated or not safetensors`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    ));
  } catch (error) {
    throw new Error(`${source}: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error(`${source}: header must be a JSON object`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        metadata[k] = String(v);
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `${source}: tensor "${name}"`;
    if (typeof entry?.dtype !== "string" || !KNOWN_DTYPES.has(entry.dtype)) {
      throw new Error(
        `${where}: unsupported dtype ${JSON.stringify(entry?.dtype)} (supported: ${
          [...KNOWN_DTYPES].join(", ")
        })`,
      );
    }
    const dtype = entry.dtype as StoredDType;
    assertShape(entry.shape, where);
    const offsets = entry.data_offsets;
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new Error(
        `${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const expected = numelOf(entry.shape) * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(expected)) {
      throw new Error(
        `${where}: shape ${JSON.stringify(entry.shape)} is absurdly large (over 2^53 bytes)`,
      );
    }
    if (end - begin !== expected) {
      throw new Error(
        `${where}: byte range [${begin}, ${end}) holds ${end - begin} bytes but ${dtype} ` +
          `${JSON.stringify(entry.shape)} needs ${expected}`,
      );
    }
    if (end > dataLength) {
      throw new Error(
        `${where}: byte range [${begin}, ${end}) runs past the data section (${dataLength} bytes); ` +
          `the file is truncated`,
      );
    }
    entries.set(name, { dtype, shape: entry.shape, dataOffsets: [begin, end] });
  }
  // As the reference implementation: byte ranges tile the data section, with no overlap (two
  // tensors sharing bytes would be copied twice from one range) and no gap.
  const ranges = [...entries].sort((a, b) =>
    a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]
  );
  let covered = 0;
  for (const [name, { dataOffsets: [begin, end] }] of ranges) {
    if (begin !== covered) {
      throw new Error(
        `${source}: tensor "${name}": byte range [${begin}, ${end}) ${
          begin < covered ? "overlaps the tensor before it" : "leaves a gap after the one before it"
        } (which ends at ${covered}); each tensor must have its own bytes`,
      );
    }
    covered = end;
  }
  if (covered !== dataLength && ranges.length > 0) {
    throw new Error(
      `${source}: the tensors end at byte ${covered} of a ${dataLength}-byte data section; ` +
        `the file has trailing bytes`,
    );
  }
  return { metadata, entries, dataStart };
}

/**
 * Reads the header of a safetensors file on disk (nothing of the data section).
 *
 * @param file The open file.
 */
export async function readSafetensorsHeader(
  file: RandomAccessFile,
  source = file.path,
): Promise<SafetensorsHeader> {
  if (file.size < 8) {
    throw new Error(`${source}: not a safetensors file (${file.size} bytes, need >= 8)`);
  }
  const lengthBytes = await file.read(0, 8);
  const headerLength = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > file.size) {
    throw new Error(
      `${source}: header length ${headerLength} does not fit the file (${file.size} bytes); ` +
        `the file is truncated or not safetensors`,
    );
  }
  const bytes = new Uint8Array(8 + headerLength);
  bytes.set(lengthBytes);
  await file.readInto(8, bytes.subarray(8));
  return parseSafetensorsHeader(bytes, source, file.size);
}

/**
 * A safetensors file on disk, read one tensor at a time: the header on open, each tensor's
 * bytes (converted to f32 in chunks) when asked for.
 */
export class SafetensorsFile implements CheckpointReader {
  readonly #file: RandomAccessFile;
  readonly #buffers = new ChunkBuffers();
  readonly #header: SafetensorsHeader;
  /** Each tensor's stored dtype and shape, in header order. */
  readonly entries: ReadonlyMap<string, TensorEntry>;

  private constructor(file: RandomAccessFile, header: SafetensorsHeader, readonly source: string) {
    this.#file = file;
    this.#header = header;
    this.entries = header.entries;
  }

  /** Header metadata (`__metadata__`). */
  get metadata(): Record<string, string> {
    return this.#header.metadata;
  }

  /**
   * Opens `path` and reads its header.
   *
   * @param path The file.
   */
  static async open(path: string): Promise<SafetensorsFile> {
    const file = await RandomAccessFile.open(path);
    try {
      return new SafetensorsFile(file, await readSafetensorsHeader(file, path), path);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Streams tensor `name` as f32 chunks. */
  async read(name: string, sink: TensorSink, chunkElements?: number): Promise<void> {
    const entry = this.#header.entries.get(name);
    if (!entry) throw new Error(`${this.source}: no tensor "${name}"`);
    const [begin] = entry.dataOffsets;
    await streamElements(
      this.#file,
      this.#header.dataStart + begin,
      numelOf(entry.shape),
      entry.dtype,
      sink,
      chunkElements,
      this.#buffers,
    );
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  /** Lets `using` close the file. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Decode every tensor of an in-memory safetensors file to f32. Without an `include` filter,
 * aligned F32 tensors are views into `bytes` (no copy); everything else is copied.
 *
 * @param bytes The whole file.
 * @param options Filter and error-message name.
 */
export function decodeSafetensors(bytes: Uint8Array, options: ReadTensorsOptions = {}): StateDict {
  const source = options.source ?? "safetensors";
  const header = parseSafetensorsHeader(bytes, source);
  const out: StateDict = new Map();
  for (const [name, entry] of header.entries) {
    if (options.include && !options.include(name)) continue;
    const [begin, end] = entry.dataOffsets;
    const raw = bytes.subarray(header.dataStart + begin, header.dataStart + end);
    // Without a filter every tensor is kept, so aligned F32 data can alias the file buffer
    // instead of doubling peak memory; with one, copies let the unused rest be freed.
    const data = entry.dtype === "F32" && raw.byteOffset % 4 === 0 && options.include === undefined
      ? new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
      : toFloat32(raw, entry.dtype);
    out.set(name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return out;
}

/**
 * Read a `.safetensors` file into f32 host tensors.
 *
 * @param path The file.
 * @param options Filter and error-message name.
 */
export async function readSafetensors(
  path: string,
  options: ReadTensorsOptions = {},
): Promise<StateDict> {
  const bytes = await readWholeFile(path);
  return decodeSafetensors(bytes, { ...options, source: options.source ?? path });
}

/**
 * One tensor to stream into a safetensors file ({@link streamSafetensors}): its layout is known
 * up front, its values are read only when its turn comes.
 */
export interface SafetensorsSource {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Stored type: `F32` takes a Float32Array, `F64` a Float64Array. */
  readonly dtype: "F32" | "F64";
  /** The values, called once, when this tensor is written. */
  read(): Float32Array | Float64Array | Promise<Float32Array | Float64Array>;
}

/** The header (length prefix, JSON padded to 8 bytes) and data size of a file laid out so. */
function encodeHeader(
  list: readonly (readonly [string, { shape: readonly number[]; dtype: "F32" | "F64" }])[],
  metadata: Record<string, string>,
): { header: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, { shape, dtype }] of list) {
    if (name === "__metadata__") {
      throw new Error(`safetensors: "__metadata__" is not a tensor name`);
    }
    assertShape(shape as number[], `safetensors: tensor "${name}"`);
    const bytes = numelOf(shape) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(8 + Math.ceil(json.byteLength / 8) * 8).fill(0x20);
  new DataView(padded.buffer).setBigUint64(0, BigInt(padded.byteLength - 8), true);
  padded.set(json, 8);
  return { header: padded, dataBytes: offset };
}

/** `data` as bytes, after checking it is what the header promised for `name`. */
function checkedBytes(
  name: string,
  source: { shape: readonly number[]; dtype: "F32" | "F64" },
  data: Float32Array | Float64Array | undefined,
): Uint8Array {
  const count = numelOf(source.shape);
  const want = source.dtype === "F64" ? Float64Array : Float32Array;
  if (!(data instanceof want) || data.length !== count) {
    throw new Error(
      `safetensors: tensor "${name}" has shape ${JSON.stringify(source.shape)} (${count} ` +
        `values) but its data is ${data?.constructor?.name} of length ${data?.length} ` +
        `(dtype ${source.dtype} takes a ${want.name})`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A host tensor as a source: Float32Array data is stored as F32 (what transformers loads),
 * Float64Array as F64. */
function hostSource(tensor: HostArray): SafetensorsSource {
  return {
    shape: tensor.shape,
    dtype: tensor.data instanceof Float64Array ? "F64" : "F32",
    read: () => tensor.data,
  };
}

function entriesOf<T>(tensors: Map<string, T> | Record<string, T>): [string, T][] {
  return tensors instanceof Map ? [...tensors] : Object.entries(tensors);
}

/**
 * Encode tensors as a safetensors file, in the order given: Float32Array data as F32 (what
 * transformers loads), Float64Array data as F64 (exact training checkpoints of the f64 backend).
 *
 * @param tensors Named tensors (a Map keeps insertion order; so does a plain object).
 * @param metadata Header `__metadata__` (default `{format: "pt"}`, what transformers expects).
 */
export function encodeSafetensors(
  tensors: Map<string, HostArray> | Record<string, HostArray>,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const list = entriesOf(tensors).map(([name, t]) => [name, hostSource(t)] as const);
  const { header, dataBytes } = encodeHeader(list, metadata);
  const out = new Uint8Array(header.byteLength + dataBytes);
  out.set(header);
  let at = header.byteLength;
  for (const [name, source] of list) {
    const bytes = checkedBytes(name, source, source.read() as Float32Array | Float64Array);
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

/**
 * A safetensors file as a byte stream that reads one tensor at a time, for files larger than
 * the memory left to hold them twice (a model and its optimizer state at full size): the header
 * comes from the shapes alone, then each source is read as the writer asks for it. A source
 * that throws, or returns values that do not match its shape and dtype, errors the stream.
 *
 * @example
 * ```ts
 * import { streamSafetensors } from "@tether/rlhf/models";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await Deno.writeFile(path, streamSafetensors(new Map([
 *   ["bias", { shape: [2], dtype: "F32", read: () => new Float32Array([1, 2]) }],
 * ])));
 * console.log((await Deno.stat(path)).size); // 104: an 8-byte length, the header, 8 data bytes
 * ```
 *
 * @param sources Named tensors, written in this order.
 * @param metadata Header `__metadata__` (default `{format: "pt"}`).
 */
export function streamSafetensors(
  sources: Map<string, SafetensorsSource> | Record<string, SafetensorsSource>,
  metadata: Record<string, string> = { format: "pt" },
): ReadableStream<Uint8Array> {
  const list = entriesOf(sources);
  const { header } = encodeHeader(list, metadata);
  let next = -1;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next === -1) {
        next = 0;
        return controller.enqueue(header);
      }
      if (next === list.length) return controller.close();
      const [name, source] = list[next++];
      controller.enqueue(checkedBytes(name, source, await source.read()));
    },
  }, { highWaterMark: 0 });
}

/**
 * Host tensors as a safetensors byte stream ({@link streamSafetensors}): written straight from
 * their arrays, with no second copy of the whole file in memory.
 *
 * @param tensors Named tensors, written in this order.
 * @param metadata Header `__metadata__` (default `{format: "pt"}`).
 */
export function streamHostSafetensors(
  tensors: Map<string, HostArray> | Record<string, HostArray>,
  metadata: Record<string, string> = { format: "pt" },
): ReadableStream<Uint8Array> {
  return streamSafetensors(
    new Map(entriesOf(tensors).map(([name, t]) => [name, hostSource(t)])),
    metadata,
  );
}

/**
 * Write tensors as a safetensors file atomically (temporary file, then rename).
 *
 * @param path Destination.
 * @param tensors Named tensors.
 * @param metadata Header `__metadata__` (default `{format: "pt"}`).
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, HostArray> | Record<string, HostArray>,
  metadata: Record<string, string> = { format: "pt" },
): Promise<void> {
  await writeFileAtomic(path, streamHostSafetensors(tensors, metadata));
}
