/**
 * Host storage of the f32 `cpu` backend: SharedArrayBuffers, so helper threads can work on the
 * same tensors (see fast/parallel.ts), recycled through a pool of size classes so that a freed
 * tensor's memory serves the next allocation at once instead of waiting for the garbage
 * collector (which let resident memory run ~1 GB above the live tensors in a GPT-2 step).
 *
 * Capacities are rounded up to classes 8/8 … 15/8 of a power of two (at most 12.5% unused), and an
 * allocation takes the smallest free buffer of its class or up to 2× larger, so a KV cache that
 * grows by a token a step, the shorter last chunk of a batch, or a block whose sizes differ from
 * the last one's still reuse memory instead of growing the process.
 *
 * Freed SharedArrayBuffers only leave memory when the garbage collector gets to them, which in
 * a GPT-2 training step was seconds and gigabytes later: a pool that dropped what it could not
 * hold made resident memory grow by ~1.6 GB a step. So the pool keeps what the program freed, up
 * to `POOL_CAP_BYTES`, and resident memory settles at the most the program ever held at once
 * (as a caching GPU allocator does); `clearPool()` hands the free buffers to the collector.
 *
 * @module
 */

/** Most bytes of free buffers the pool keeps (beyond it the oldest are dropped). */
export const POOL_CAP_BYTES = 16 * 2 ** 30;

/** A free buffer serves requests down to half its capacity. */
const MAX_OVERSIZE = 2;

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
/** The capacities with free buffers, ascending. */
const classes: number[] = [];
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
  const sab = takeFree(cap);
  if (sab) {
    poolStats.hits++;
    const a = new Float32Array(sab, 0, n);
    a.fill(0);
    return a;
  }
  poolStats.misses++;
  return new Float32Array(new SharedArrayBuffer(cap * 4), 0, n);
}

/** Index of the first capacity >= `cap` in `classes`. */
function firstClassAtLeast(cap: number): number {
  let lo = 0, hi = classes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (classes[mid] < cap) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest free buffer of capacity in [cap, 2·cap], removed from the pool. */
function takeFree(cap: number): SharedArrayBuffer | undefined {
  const i = firstClassAtLeast(cap);
  if (i >= classes.length || classes[i] > cap * MAX_OVERSIZE) return undefined;
  const c = classes[i];
  const list = free.get(c)!;
  const sab = list.pop()!;
  if (list.length === 0) {
    free.delete(c);
    classes.splice(i, 1);
  }
  inPool.delete(sab);
  pooledBytes -= sab.byteLength;
  order.splice(order.lastIndexOf(sab), 1);
  return sab;
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
  if (!list) {
    free.set(cap, list = []);
    classes.splice(firstClassAtLeast(cap), 0, cap);
  }
  list.push(sab);
  order.push(sab);
  pooledBytes += sab.byteLength;
  while (pooledBytes > POOL_CAP_BYTES && order.length) {
    const old = order.shift()!;
    const c = old.byteLength / 4;
    const l = free.get(c)!;
    l.splice(l.indexOf(old), 1);
    if (l.length === 0) {
      free.delete(c);
      classes.splice(classes.indexOf(c), 1);
    }
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
  classes.length = 0;
  order.length = 0;
  pooledBytes = 0;
}
