/**
 * A minimal zip reader for the archives `torch.save` writes: it walks the central directory
 * (with ZIP64 records for large files) and returns entries stored uncompressed, or inflates
 * deflated ones with the platform's `DecompressionStream`.
 *
 * @module
 */

import type { RandomAccessFile } from "./read_file.ts";

/** One file inside an archive. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  /** Bytes in the archive. */
  compressedSize: number;
  /** Bytes once extracted. */
  size: number;
  /** Where the entry's local header starts. */
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
/** The largest expansion accepted from a deflated entry (deflate itself allows ~1032×). */
const MAX_DEFLATE_RATIO = 100;

function u64(view: DataView, at: number): number {
  return Number(view.getBigUint64(at, true));
}

/** Where the central directory lies, from the end records. */
interface DirectoryLocation {
  count: number;
  directorySize: number;
  directoryOffset: number;
}

/**
 * Reads the end-of-central-directory record (and its ZIP64 form) from `bytes`, which hold the
 * file's content from byte `base` to its end.
 */
function locateDirectory(bytes: Uint8Array, base: number, source: string): DirectoryLocation {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  let eocd = -1;
  for (let at = bytes.byteLength - 22; at >= Math.max(0, bytes.byteLength - 22 - 65535); at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error(`${source}: not a zip archive (no end-of-central-directory record)`);
  }
  let count = view.getUint16(eocd + 10, true);
  let directorySize = view.getUint32(eocd + 12, true);
  let directoryOffset = view.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (locator >= 0 && view.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
    const record = u64(view, locator + 8) - base;
    if (record < 0 || view.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) {
      throw new Error(`${source}: broken ZIP64 end record at ${record + base}`);
    }
    count = u64(view, record + 32);
    directorySize = u64(view, record + 40);
    directoryOffset = u64(view, record + 48);
  }
  return { count, directorySize, directoryOffset };
}

/**
 * List the entries of a zip archive held in memory.
 *
 * @param bytes The archive (or its tail: the bytes from `base` to the end of the file, which
 *   must include the central directory).
 * @param source Name for error messages.
 * @param base Offset in the file of `bytes[0]` (0 for a whole archive).
 */
export function readZipDirectory(
  bytes: Uint8Array,
  source = "zip",
  base = 0,
): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { count, directorySize, directoryOffset } = locateDirectory(bytes, base, source);
  if (directoryOffset < base || directoryOffset + directorySize > base + bytes.byteLength) {
    throw new Error(`${source}: central directory runs past the end of the file (truncated?)`);
  }
  // Each entry takes at least 46 bytes of the directory: a larger count is a lie.
  if (count > Math.floor(directorySize / 46)) {
    throw new Error(
      `${source}: the archive claims ${count} entries in a ${directorySize}-byte directory`,
    );
  }
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let at = directoryOffset - base;
  const directoryEnd = at + directorySize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directoryEnd || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new Error(`${source}: bad central directory entry ${i} at byte ${at + base}`);
    }
    const method = view.getUint16(at + 10, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // ZIP64: fields saturated at 0xffffffff continue, in order, in the 0x0001 extra block.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    if (extraEnd + commentLength > directoryEnd) {
      throw new Error(`${source}: central directory entry ${i} runs past the directory`);
    }
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === ZIP64_EXTRA_ID) {
        let field = extra + 4;
        const needed = 8 * [size, compressedSize, localHeaderOffset].filter((v) => v === 0xffffffff)
          .length;
        if (length < needed || extra + 4 + needed > extraEnd) {
          throw new Error(`${source}: entry "${name}" has a short ZIP64 extra field`);
        }
        if (size === 0xffffffff) {
          size = u64(view, field);
          field += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(view, field);
          field += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(view, field);
      }
      extra += 4 + length;
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}

/**
 * The extracted bytes of one entry (a view into `bytes` when stored uncompressed).
 *
 * @param bytes The archive.
 * @param entry An entry from {@link readZipDirectory}.
 * @param source Name for error messages.
 */
export async function readZipEntry(
  bytes: Uint8Array,
  entry: ZipEntry,
  source = "zip",
): Promise<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = entry.localHeaderOffset;
  if (local + 30 > bytes.byteLength || view.getUint32(local, true) !== LOCAL_SIGNATURE) {
    throw new Error(`${source}: entry "${entry.name}" has no local header at byte ${local}`);
  }
  // The local extra field may differ from the central one (torch pads it to align data).
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.byteLength) {
    throw new Error(`${source}: entry "${entry.name}" runs past the end of the file (truncated?)`);
  }
  return await extract(bytes.subarray(start, end), entry, source);
}

async function extract(raw: Uint8Array, entry: ZipEntry, source: string): Promise<Uint8Array> {
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) {
      throw new Error(
        `${source}: stored entry "${entry.name}" claims ${entry.size} bytes but holds ` +
          `${entry.compressedSize}`,
      );
    }
    return raw;
  }
  if (entry.method !== 8) {
    throw new Error(
      `${source}: entry "${entry.name}" uses compression method ${entry.method}; ` +
        `only stored (0) and deflate (8) are supported`,
    );
  }
  // torch.save stores entries uncompressed; a re-zipped checkpoint's weights shrink little.
  // An entry claiming to expand far more is refused before anything is allocated for it.
  if (entry.size > MAX_DEFLATE_RATIO * entry.compressedSize + (1 << 20)) {
    throw new Error(
      `${source}: entry "${entry.name}" claims ${entry.size} bytes from ${entry.compressedSize} ` +
        `deflated bytes (over ${MAX_DEFLATE_RATIO}×); refusing it as a decompression bomb. ` +
        `Re-save the checkpoint with torch.save (which stores entries uncompressed)`,
    );
  }
  // Inflate into a buffer of the declared size, stopping as soon as the output would exceed it.
  const out = new Uint8Array(entry.size);
  let at = 0;
  const reader = new Blob([raw.slice()]).stream()
    .pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.byteLength > out.byteLength) {
        throw new Error(
          `${source}: entry "${entry.name}" inflates past its declared ${entry.size} bytes`,
        );
      }
      out.set(value, at);
      at += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (at !== entry.size) {
    throw new Error(
      `${source}: entry "${entry.name}" inflated to ${at} bytes, expected ${entry.size}`,
    );
  }
  return out;
}

// The end record, a ZIP64 locator and record, and the longest comment.
const TAIL_BYTES = 22 + 65535 + 20 + 56;

/**
 * List the entries of a zip archive on disk, reading only its tail and central directory.
 *
 * @param file The open archive.
 */
export async function readZipDirectoryFromFile(
  file: RandomAccessFile,
  source = file.path,
): Promise<Map<string, ZipEntry>> {
  const tailStart = Math.max(0, file.size - TAIL_BYTES);
  const tail = await file.read(tailStart, file.size - tailStart);
  const { directoryOffset } = locateDirectory(tail, tailStart, source);
  if (directoryOffset >= tailStart) return readZipDirectory(tail, source, tailStart);
  if (directoryOffset < 0 || directoryOffset > file.size) {
    throw new Error(`${source}: central directory offset ${directoryOffset} is outside the file`);
  }
  const rest = await file.read(directoryOffset, file.size - directoryOffset);
  return readZipDirectory(rest, source, directoryOffset);
}

/**
 * Where an entry's (stored or compressed) bytes start in the file, read from its local header
 * (torch pads the local extra field to align the data, so the central one does not tell).
 *
 * @param file The open archive.
 * @param entry An entry of it.
 */
export async function zipEntryDataStart(
  file: RandomAccessFile,
  entry: ZipEntry,
  source = file.path,
): Promise<number> {
  const local = entry.localHeaderOffset;
  const header = local + 30 <= file.size ? await file.read(local, 30) : null;
  const view = header && new DataView(header.buffer);
  if (!view || view.getUint32(0, true) !== LOCAL_SIGNATURE) {
    throw new Error(`${source}: entry "${entry.name}" has no local header at byte ${local}`);
  }
  const start = local + 30 + view.getUint16(26, true) + view.getUint16(28, true);
  if (start + entry.compressedSize > file.size) {
    throw new Error(`${source}: entry "${entry.name}" runs past the end of the file (truncated?)`);
  }
  return start;
}

/**
 * The extracted bytes of one entry of an archive on disk.
 *
 * @param file The open archive.
 * @param entry An entry of it.
 */
export async function readZipEntryFromFile(
  file: RandomAccessFile,
  entry: ZipEntry,
  source = file.path,
): Promise<Uint8Array> {
  const start = await zipEntryDataStart(file, entry, source);
  return await extract(await file.read(start, entry.compressedSize), entry, source);
}
