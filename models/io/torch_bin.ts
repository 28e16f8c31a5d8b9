/**
 * `pytorch_model.bin` as `torch.save` writes it since PyTorch 1.6: a zip archive holding
 * `<prefix>/data.pkl` (the state dict, pickled) and one raw little-endian file per storage,
 * `<prefix>/data/<key>`. The pickle is decoded by the restricted unpickler with an allow-list
 * of tensor-rebuilding globals only; tensors are materialised as contiguous row-major f32
 * copies, honouring storage offsets and strides.
 *
 * Nothing is allocated for a tensor before the whole file has been checked against itself: every
 * storage's declared size against the bytes its archive entry holds, and every tensor's extent
 * (offset + Σ stride·(size − 1), stride-0 expanded views included) against its storage. A view
 * that would materialise far more elements than its storage holds (a stride-0 expand of a huge
 * shape: PyTorch keeps it as a view, a copy would not fit in memory) is refused with the
 * tensor's name, as is a file whose tensors together would expand far beyond its storages.
 *
 * @module
 */

import { DTYPE_BYTES, elementReader, toFloat32 } from "./dtype.ts";
import type { HostTensor, StateDict, StoredDType } from "./host.ts";
import { type PickleCallable, unpickle } from "./pickle.ts";
import { RandomAccessFile, readWholeFile } from "./read_file.ts";
import {
  type CheckpointReader,
  ChunkBuffers,
  streamElements,
  type TensorEntry,
  type TensorSink,
} from "./tensor_stream.ts";
import {
  readZipDirectory,
  readZipDirectoryFromFile,
  readZipEntry,
  readZipEntryFromFile,
  type ZipEntry,
  zipEntryDataStart,
} from "./zip.ts";

/** Options for reading a torch checkpoint. */
export interface ReadTorchOptions {
  /** Keep only the tensors this returns true for (others are never materialised). */
  include?: (name: string) => boolean;
  /** A name for the source in error messages. */
  source?: string;
}

class StorageType {
  constructor(readonly dtype: StoredDType) {}
}

class StorageRef {
  constructor(readonly dtype: StoredDType, readonly key: string, readonly numel: number) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const STORAGE_DTYPES: Record<string, StoredDType> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

const TORCH_DTYPES: Record<string, StoredDType> = {
  float32: "F32",
  float: "F32",
  float16: "F16",
  half: "F16",
  bfloat16: "BF16",
  float64: "F64",
  double: "F64",
  int64: "I64",
  long: "I64",
  int32: "I32",
  int: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};

function callable(qualifiedName: string, call: (args: readonly unknown[]) => unknown) {
  return { qualifiedName, call } satisfies PickleCallable;
}

function intList(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v))) {
    throw new Error(`${what} must be a tuple of integers, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}

/** The only globals a torch checkpoint's pickle may name. */
function torchGlobals(): Map<string, unknown> {
  const globals = new Map<string, unknown>();
  globals.set(
    "torch._utils._rebuild_tensor_v2",
    callable("torch._utils._rebuild_tensor_v2", (args) => {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) {
        throw new Error("_rebuild_tensor_v2: first argument is not a checkpoint storage");
      }
      if (!Number.isSafeInteger(offset)) {
        throw new Error(`_rebuild_tensor_v2: storage offset ${offset} is not an integer`);
      }
      const shape = intList(size, "_rebuild_tensor_v2 size");
      const strides = intList(stride, "_rebuild_tensor_v2 stride");
      if (shape.length !== strides.length) {
        throw new Error(`_rebuild_tensor_v2: size ${shape} and stride ${strides} differ in rank`);
      }
      return new TensorRef(storage, offset as number, [...shape], [...strides]);
    }),
  );
  globals.set(
    "torch._utils._rebuild_parameter",
    callable("torch._utils._rebuild_parameter", (args) => args[0]),
  );
  globals.set(
    "collections.OrderedDict",
    callable("collections.OrderedDict", (args) => {
      const dict = new Map<unknown, unknown>();
      const pairs = args[0];
      if (Array.isArray(pairs)) {
        for (const pair of pairs) if (Array.isArray(pair)) dict.set(pair[0], pair[1]);
      }
      return dict;
    }),
  );
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
    globals.set(`torch.${name}`, new StorageType(dtype));
  }
  for (const [name, dtype] of Object.entries(TORCH_DTYPES)) {
    globals.set(`torch.${name}`, new StorageType(dtype));
  }
  return globals;
}

function persistentLoad(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
    throw new Error(`unsupported persistent id ${JSON.stringify(pid)} (expected a storage)`);
  }
  const [, type, key, , numel] = pid;
  if (!(type instanceof StorageType)) {
    throw new Error(`persistent id for storage ${key} has no known storage type`);
  }
  if (typeof key !== "string" || !Number.isSafeInteger(numel)) {
    throw new Error(`malformed storage persistent id ${JSON.stringify(pid)}`);
  }
  return new StorageRef(type.dtype, key, numel as number);
}

function collectTensors(
  value: unknown,
  prefix: string,
  out: Map<string, TensorRef>,
): void {
  if (!(value instanceof Map)) return;
  for (const [key, item] of value) {
    const name = prefix + String(key);
    if (item instanceof TensorRef) out.set(name, item);
    else if (item instanceof Map) collectTensors(item, `${name}.`, out);
  }
}

/**
 * A view may hold more elements than its storage (a stride-0 expand repeats them) only up to
 * this many; larger ones are refused rather than copied.
 */
export const MAX_EXPANDED_ELEMENTS = 1 << 20;

/**
 * All tensors together may hold at most this many times the elements of the storages they view
 * (tied weights view one storage several times), plus {@link MAX_EXPANDED_ELEMENTS}.
 */
export const MAX_VIEWS_PER_STORAGE = 16;

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/** Checks one view against its storage's declared size; returns its element count. */
function checkView(ref: TensorRef, where: string): number {
  const { shape, stride, offset, storage } = ref;
  const layout = `offset ${offset}, shape [${shape}], stride [${stride}]`;
  if (offset < 0 || shape.some((d) => d < 0) || stride.some((v) => v < 0)) {
    throw new Error(`${where}: negative size, stride or offset (${layout})`);
  }
  if (shape.includes(0)) return 0;
  let numel = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d];
    last += (shape[d] - 1) * stride[d];
    if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) {
      throw new Error(
        `${where}: shape [${shape}] is absurdly large (over 2^53 elements or offset)`,
      );
    }
  }
  if (last >= storage.numel) {
    throw new Error(
      `${where}: view (${layout}) reaches element ${last}, past its storage of ` +
        `${storage.numel} elements`,
    );
  }
  if (numel > storage.numel && numel > MAX_EXPANDED_ELEMENTS) {
    throw new Error(
      `${where}: shape [${shape}] (${numel} elements, ${formatBytes(4 * numel)} as f32) repeats ` +
        `the ${storage.numel} elements of its storage (a stride-0 / expanded view, ${layout}); ` +
        `views expanding past their storage are refused above ${MAX_EXPANDED_ELEMENTS} ` +
        `elements. If it is real, save tensor.contiguous() instead`,
    );
  }
  return numel;
}

function materialise(
  ref: TensorRef,
  bytes: Uint8Array,
  where: string,
): Float32Array {
  const { shape, stride, offset, storage } = ref;
  const itemBytes = DTYPE_BYTES[storage.dtype];
  const available = Math.floor(bytes.byteLength / itemBytes);
  let numel = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
  }
  if (numel === 0) return new Float32Array(0);
  if (offset < 0 || last >= available || stride.some((s) => s < 0)) {
    throw new Error(
      `${where}: view (offset ${offset}, shape [${shape}], stride [${stride}]) reaches element ` +
        `${last}, past its storage of ${available} elements`,
    );
  }
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) {
    return toFloat32(
      bytes.subarray(offset * itemBytes, (offset + numel) * itemBytes),
      storage.dtype,
    );
  }
  // General strided view: walk a row-major multi-index, carrying the storage position.
  const read = elementReader(bytes, storage.dtype);
  const out = new Float32Array(numel);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = offset;
  for (let i = 0; i < numel; i++) {
    out[i] = read(at);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** The tensors a torch checkpoint's pickle describes, and where its storages live. */
interface TorchIndex {
  /** Tensor views by name, in pickle order. */
  refs: Map<string, TensorRef>;
  /** The archive's root folder (`<prefix>data/<key>` holds a storage). */
  prefix: string;
}

async function readTorchIndex(
  entries: Map<string, ZipEntry>,
  readEntry: (entry: ZipEntry) => Promise<Uint8Array>,
  source: string,
): Promise<TorchIndex> {
  const pickles = [...entries.keys()].filter((name) =>
    name === "data.pkl" || name.endsWith("/data.pkl")
  );
  if (pickles.length === 0) throw new Error(`${source}: the archive has no data.pkl`);
  // The archive root folder is named after the file torch.save wrote; use the shallowest.
  pickles.sort((a, b) => a.split("/").length - b.split("/").length);
  const pickleName = pickles[0];
  const prefix = pickleName.slice(0, pickleName.length - "data.pkl".length);
  const pickleBytes = await readEntry(entries.get(pickleName)!);
  const root = unpickle(pickleBytes, {
    globals: torchGlobals(),
    persistentLoad,
    source: `${source} (${pickleName})`,
  });
  if (!(root instanceof Map)) {
    throw new Error(
      `${source}: expected a state dict (a dict of tensors) at the top of ${pickleName}; ` +
        `save model.state_dict(), not the model object`,
    );
  }
  const refs = new Map<string, TensorRef>();
  collectTensors(root, "", refs);
  return { refs, prefix };
}

/**
 * Checks every tensor in `names` against the archive before anything is allocated for one:
 * its storage's entry exists and holds the storage's declared bytes, its view stays inside the
 * storage (see `checkView`), and all views together do not expand far beyond their storages.
 * Returns each storage's entry.
 */
function checkTensors(
  index: TorchIndex,
  entries: Map<string, ZipEntry>,
  names: readonly string[],
  source: string,
): Map<string, ZipEntry> {
  const storageEntries = new Map<string, ZipEntry>();
  const storageElements = new Map<string, number>();
  let elements = 0, stored = 0;
  for (const name of names) {
    const ref = index.refs.get(name)!;
    const where = `${source}: tensor "${name}"`;
    const { key, numel, dtype } = ref.storage;
    const entry: ZipEntry | undefined = entries.get(`${index.prefix}data/${key}`);
    if (!entry) {
      throw new Error(`${where} needs storage ${index.prefix}data/${key}, which is missing`);
    }
    const needed = numel * DTYPE_BYTES[dtype];
    if (numel < 0 || !Number.isSafeInteger(needed) || entry.size < needed) {
      throw new Error(
        `${where}: its storage ${key} declares ${numel} ${dtype} elements (${needed} bytes) ` +
          `but the archive entry holds ${entry.size} bytes`,
      );
    }
    storageEntries.set(key, entry);
    const before = storageElements.get(key) ?? 0;
    if (numel > before) {
      stored += numel - before;
      storageElements.set(key, numel);
    }
    elements += checkView(ref, where);
    if (elements > MAX_VIEWS_PER_STORAGE * stored + MAX_EXPANDED_ELEMENTS) {
      throw new Error(
        `${where}: the tensors up to here hold ${elements} elements, over ` +
          `${MAX_VIEWS_PER_STORAGE}× the ${stored} elements their storages hold; refusing a ` +
          `file whose views expand that far`,
      );
    }
  }
  return storageEntries;
}

function notZip(bytes: Uint8Array, source: string): void {
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new Error(
      `${source}: not a zip archive. Checkpoints saved by PyTorch < 1.6 (the legacy format) are ` +
        `not supported: re-save with torch.save in a newer PyTorch, or convert to safetensors`,
    );
  }
}

/**
 * Decode an in-memory `pytorch_model.bin` (zip format) into f32 host tensors.
 *
 * @param bytes The whole file.
 * @param options Filter and source name.
 */
export async function decodeTorchCheckpoint(
  bytes: Uint8Array,
  options: ReadTorchOptions = {},
): Promise<StateDict> {
  const source = options.source ?? "pytorch_model.bin";
  notZip(bytes, source);
  const entries = readZipDirectory(bytes, source);
  const index = await readTorchIndex(entries, (e) => readZipEntry(bytes, e, source), source);
  const wanted = [...index.refs].filter(([name]) => !options.include || options.include(name));
  // Every size is checked against the file before anything is allocated for a tensor.
  const storageEntries = checkTensors(index, entries, wanted.map(([name]) => name), source);
  const storages = new Map<string, Uint8Array>();
  const out: StateDict = new Map();
  for (const [name, ref] of wanted) {
    const key = ref.storage.key;
    let storageBytes = storages.get(key);
    if (storageBytes === undefined) {
      storageBytes = await readZipEntry(bytes, storageEntries.get(key)!, source);
      storages.set(key, storageBytes);
    }
    const tensor: HostTensor = {
      dtype: ref.storage.dtype,
      shape: ref.shape,
      data: materialise(ref, storageBytes, `${source}: tensor "${name}"`),
    };
    out.set(name, tensor);
  }
  return out;
}

/**
 * A `pytorch_model.bin` on disk, read one tensor at a time: only the zip directory and the
 * pickle are read on open; each tensor's values stream from its storage when asked for.
 */
export class TorchCheckpointFile implements CheckpointReader {
  readonly #file: RandomAccessFile;
  readonly #buffers = new ChunkBuffers();
  readonly #storages: Map<string, ZipEntry>;
  readonly #index: TorchIndex;
  /** Each tensor's stored dtype and shape, in pickle order. */
  readonly entries: ReadonlyMap<string, TensorEntry>;

  private constructor(
    file: RandomAccessFile,
    storages: Map<string, ZipEntry>,
    index: TorchIndex,
    readonly source: string,
  ) {
    this.#file = file;
    this.#storages = storages;
    this.#index = index;
    this.entries = new Map(
      [...index.refs].map(([name, ref]) => [name, { dtype: ref.storage.dtype, shape: ref.shape }]),
    );
  }

  /**
   * Opens `path`, reading its directory and pickle and checking every tensor against the
   * archive (as `decodeTorchCheckpoint` does) before any is read.
   *
   * @param path The checkpoint file.
   */
  static async open(path: string): Promise<TorchCheckpointFile> {
    const file = await RandomAccessFile.open(path);
    try {
      notZip(await file.read(0, Math.min(2, file.size)), path);
      const zip = await readZipDirectoryFromFile(file, path);
      const index = await readTorchIndex(zip, (e) => readZipEntryFromFile(file, e, path), path);
      const storages = checkTensors(index, zip, [...index.refs.keys()], path);
      return new TorchCheckpointFile(file, storages, index, path);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Streams tensor `name` as f32 in row-major order. Contiguous tensors in stored (uncompressed)
   * entries are read chunk by chunk; strided views and compressed entries read their storage.
   */
  async read(name: string, sink: TensorSink, chunkElements?: number): Promise<void> {
    const ref = this.#index.refs.get(name);
    if (!ref) throw new Error(`${this.source}: no tensor "${name}"`);
    const entry = this.#storages.get(ref.storage.key)!;
    const itemBytes = DTYPE_BYTES[ref.storage.dtype];
    const numel = ref.shape.reduce((a, d) => a * d, 1);
    const stored = entry.method === 0 && entry.size === entry.compressedSize;
    if (stored && isContiguous(ref) && ref.offset + numel <= ref.storage.numel) {
      const start = await zipEntryDataStart(this.#file, entry, this.source);
      await streamElements(
        this.#file,
        start + ref.offset * itemBytes,
        numel,
        ref.storage.dtype,
        sink,
        chunkElements,
        this.#buffers,
      );
      return;
    }
    const bytes = await readZipEntryFromFile(this.#file, entry, this.source);
    sink(materialise(ref, bytes, `${this.source}: tensor "${name}"`), 0);
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

function isContiguous(ref: TensorRef): boolean {
  for (let d = ref.shape.length - 1, expect = 1; d >= 0; d--) {
    if (ref.shape[d] !== 1 && ref.stride[d] !== expect) return false;
    expect *= ref.shape[d];
  }
  return true;
}

/**
 * Read a `pytorch_model.bin` (zip format) into f32 host tensors.
 *
 * @param path The file.
 * @param options Filter and source name.
 */
export async function readTorchCheckpoint(
  path: string,
  options: ReadTorchOptions = {},
): Promise<StateDict> {
  const bytes = await readWholeFile(path);
  return await decodeTorchCheckpoint(bytes, { ...options, source: options.source ?? path });
}
