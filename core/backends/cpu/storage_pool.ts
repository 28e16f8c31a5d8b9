/**
 * Host storage of the f32 `cpu` backend: an arena of SharedArrayBuffer chunks, so helper
 * threads can work on the same tensors (see fast/parallel.ts), with its own allocator.
 *
 * Why not one SharedArrayBuffer per tensor: V8 never collects a SharedArrayBuffer for memory
 * pressure (4 GB of dropped 10 MB buffers stayed resident in a test; plain ArrayBuffers stay
 * bounded), so freed storage must be reused by us, exactly. A tensor is a view of a block of a
 * chunk; freeing returns the block, merged with free neighbours, so a growing KV cache or a
 * different batch shape reuses the memory a previous one released. Resident memory is the most
 * the program ever held at once plus fragmentation (a caching GPU allocator behaves alike);
 * pages of a chunk count only once written.
 *
 * Best fit over the free blocks of every chunk; chunks of at least `CHUNK_BYTES`, a larger
 * request gets a chunk of its own size (reusable, and splittable, after it is freed).
 *
 * @module
 */

/** Smallest chunk the arena reserves. */
export const CHUNK_BYTES = 64 * 2 ** 20;

/** Block alignment in bytes (a cache line). */
const ALIGN = 64;

/** Requests below this many floats get their own small buffer (cheap, and collected normally). */
const MIN_ARENA = 1024;

interface Block {
  chunk: SharedArrayBuffer;
  offset: number;
  bytes: number;
  free: boolean;
  prev: Block | null;
  next: Block | null;
}

/** Free blocks by size, ascending (best fit is a binary search). */
const freeBlocks: Block[] = [];
/** Blocks handed out, by their array. */
const used = new WeakMap<Float32Array, Block>();
let chunkBytes = 0, usedBytes = 0, peakUsedBytes = 0;

/** Counters of the arena (for tests and benches). */
export const poolStats = { allocations: 0, chunks: 0 };

const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function firstAtLeast(bytes: number): number {
  let lo = 0, hi = freeBlocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (freeBlocks[mid].bytes < bytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function addFree(b: Block): void {
  b.free = true;
  freeBlocks.splice(firstAtLeast(b.bytes), 0, b);
}

function removeFree(b: Block): void {
  let i = firstAtLeast(b.bytes);
  while (freeBlocks[i] !== b) i++;
  freeBlocks.splice(i, 1);
  b.free = false;
}

function newChunk(bytes: number): Block {
  const size = Math.max(CHUNK_BYTES, bytes);
  const chunk = new SharedArrayBuffer(size);
  chunkBytes += size;
  poolStats.chunks++;
  return { chunk, offset: 0, bytes: size, free: false, prev: null, next: null };
}

/** A zero-filled f32 array of `n` floats on shared memory. */
export function allocShared(n: number): Float32Array {
  if (n < MIN_ARENA) return new Float32Array(new SharedArrayBuffer(n * 4));
  poolStats.allocations++;
  const bytes = roundUp(n * 4);
  const i = firstAtLeast(bytes);
  let b: Block;
  if (i < freeBlocks.length) {
    b = freeBlocks[i];
    freeBlocks.splice(i, 1);
    b.free = false;
  } else b = newChunk(bytes);
  if (b.bytes > bytes) {
    // Split: the tail stays free.
    const rest: Block = {
      chunk: b.chunk,
      offset: b.offset + bytes,
      bytes: b.bytes - bytes,
      free: false,
      prev: b,
      next: b.next,
    };
    if (b.next) b.next.prev = rest;
    b.next = rest;
    b.bytes = bytes;
    addFree(rest);
  }
  usedBytes += b.bytes;
  if (usedBytes > peakUsedBytes) peakUsedBytes = usedBytes;
  const a = new Float32Array(b.chunk, b.offset, n);
  a.fill(0);
  used.set(a, b);
  return a;
}

/** Returns an array from `allocShared` to the arena; it must not be used afterwards. */
export function releaseShared(a: Float32Array): void {
  if (a.length < MIN_ARENA) return;
  const b = used.get(a);
  if (!b) {
    if (a.buffer instanceof SharedArrayBuffer && a.length >= MIN_ARENA) {
      throw new Error("cpu: a storage buffer was freed twice, or was not allocated here");
    }
    return;
  }
  used.delete(a);
  usedBytes -= b.bytes;
  let block = b;
  if (block.prev?.free) {
    const p = block.prev;
    removeFree(p);
    p.bytes += block.bytes;
    p.next = block.next;
    if (block.next) block.next.prev = p;
    block = p;
  }
  if (block.next?.free) {
    const n = block.next;
    removeFree(n);
    block.bytes += n.bytes;
    block.next = n.next;
    if (n.next) n.next.prev = block;
  }
  addFree(block);
}

/** Bytes of free space in the arena's chunks. */
export function pooledByteCount(): number {
  return chunkBytes - usedBytes;
}

/** Bytes reserved in chunks, in use now, and the most ever in use at once. */
export function arenaBytes(): { reserved: number; used: number; peakUsed: number } {
  return { reserved: chunkBytes, used: usedBytes, peakUsed: peakUsedBytes };
}
