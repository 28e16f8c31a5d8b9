/**
 * Host storage of the f32 `cpu` backend: SharedArrayBuffers, so helper threads can work on the
 * same tensors (see fast/parallel.ts), recycled through a pool of size classes so that a freed
 * tensor's memory serves the next allocation at once instead of waiting for the garbage
 * collector (which let resident memory run ~1 GB above the live tensors in a GPT-2 step).
 *
 * Capacities are rounded up to classes 8/8 … 15/8 of a power of two (at most 12.5% unused), so a
 * KV cache that grows by a token a step, or the shorter last chunk of a batch, still finds a
 * buffer. The pool holds at most `POOL_CAP_BYTES`; beyond it the oldest free buffers are dropped
 * to the garbage collector.
 *
 * @module
 */

/** Most bytes of free buffers the pool keeps. */
export const POOL_CAP_BYTES = 512 * 2 ** 20;

/** Allocations below this many floats skip the pool (small arrays are cheap to make). */
const MIN_POOLED = 1024;

/** The capacity class of `n` floats: n rounded up to (8..15)/8 · 2^k. */
export function capacityOf(n: number): number {
  if (n <= 16) return n;
  const k = Math.floor(Math.log2(n)) - 3;
  const step = 2 ** k;
  return Math.ceil(n / step) * step;
}

const free = new Map<number, SharedArrayBuffer[]>();
/** Buffers now in the pool: a second release of one would hand it to two tensors. */
const inPool = new WeakSet<SharedArrayBuffer>();
/** Free buffers oldest first, for eviction. */
const order: SharedArrayBuffer[] = [];
let pooledBytes = 0;

/** Counters of the pool (for tests and benches). */
export const poolStats = { hits: 0, misses: 0, evictions: 0 };

/** A zero-filled f32 array of `n` floats on shared memory, recycled when possible. */
export function allocShared(n: number): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(new SharedArrayBuffer(n * 4));
  const cap = capacityOf(n);
  const list = free.get(cap);
  const sab = list?.pop();
  if (sab) {
    poolStats.hits++;
    inPool.delete(sab);
    pooledBytes -= sab.byteLength;
    order.splice(order.lastIndexOf(sab), 1);
    const a = new Float32Array(sab, 0, n);
    a.fill(0);
    return a;
  }
  poolStats.misses++;
  return new Float32Array(new SharedArrayBuffer(cap * 4), 0, n);
}

/** Returns an array from `allocShared` to the pool; it must not be used afterwards. */
export function releaseShared(a: Float32Array): void {
  const sab = a.buffer;
  if (!(sab instanceof SharedArrayBuffer) || a.length < MIN_POOLED) return;
  const cap = sab.byteLength / 4;
  if (cap !== capacityOf(cap) || sab.byteLength > POOL_CAP_BYTES) return;
  if (inPool.has(sab)) throw new Error("cpu: a storage buffer was freed twice");
  inPool.add(sab);
  let list = free.get(cap);
  if (!list) free.set(cap, list = []);
  list.push(sab);
  order.push(sab);
  pooledBytes += sab.byteLength;
  while (pooledBytes > POOL_CAP_BYTES && order.length) {
    const old = order.shift()!;
    const l = free.get(old.byteLength / 4)!;
    l.splice(l.indexOf(old), 1);
    inPool.delete(old);
    pooledBytes -= old.byteLength;
    poolStats.evictions++;
  }
}

/** Bytes of free buffers the pool holds now. */
export function pooledByteCount(): number {
  return pooledBytes;
}

/** Drops every pooled buffer (for tests, or to give memory back between phases). */
export function clearPool(): void {
  for (const sab of order) inPool.delete(sab);
  free.clear();
  order.length = 0;
  pooledBytes = 0;
}
