/**
 * Reading a whole (large) file into one buffer.
 *
 * @module
 */

const CHUNK = 16 << 20;

/**
 * Read a file into a buffer sized from its length, in large chunks. For checkpoints this is
 * several times faster than `Deno.readFile`, which grows its buffer as it goes.
 *
 * @param path The file.
 */
export async function readWholeFile(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const n = await file.read(out.subarray(at, Math.min(size, at + CHUNK)));
    if (n === null) break;
    at += n;
  }
  if (at !== size) {
    throw new Error(`${path}: read ${at} of ${size} bytes (file changed while reading?)`);
  }
  return out;
}

/**
 * A file read at chosen offsets (checkpoint headers, then one tensor at a time), so a large
 * checkpoint never has to sit in memory whole.
 */
export class RandomAccessFile implements Disposable {
  readonly #file: Deno.FsFile;

  private constructor(file: Deno.FsFile, readonly path: string, readonly size: number) {
    this.#file = file;
  }

  /**
   * Opens `path` for reading.
   *
   * @param path The file.
   */
  static async open(path: string): Promise<RandomAccessFile> {
    const file = await Deno.open(path);
    try {
      return new RandomAccessFile(file, path, (await file.stat()).size);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Fills `out` with the bytes starting at `offset`; a file shorter than that is an error.
   *
   * @param offset Byte offset in the file.
   * @param out Destination; its whole length is read.
   */
  async readInto(offset: number, out: Uint8Array): Promise<void> {
    if (offset < 0 || offset + out.byteLength > this.size) {
      throw new Error(
        `${this.path}: bytes [${offset}, ${offset + out.byteLength}) lie past the end of the ` +
          `file (${this.size} bytes); the file is truncated`,
      );
    }
    await this.#file.seek(offset, Deno.SeekMode.Start);
    let at = 0;
    while (at < out.byteLength) {
      const n = await this.#file.read(out.subarray(at, Math.min(out.byteLength, at + CHUNK)));
      if (n === null) {
        throw new Error(`${this.path}: read ${at} of ${out.byteLength} bytes at ${offset}`);
      }
      at += n;
    }
  }

  /**
   * The `length` bytes starting at `offset`, in a new buffer.
   *
   * @param offset Byte offset in the file.
   * @param length Number of bytes.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  /** Lets `using file = await RandomAccessFile.open(path)` close it at the end of a block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
