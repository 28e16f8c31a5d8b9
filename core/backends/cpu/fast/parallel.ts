/**
 * Data-parallel kernels for the f32 `cpu` backend: a kernel over an index range [start, end)
 * (rows, heads, elements) runs split across the main thread and helper workers that share the
 * tensors' memory (the backend stores f32 tensors in SharedArrayBuffers). Each worker imports
 * the same range kernels, so a split run computes exactly what a serial one does, element for
 * element; only the order in which disjoint ranges finish differs.
 *
 * The main thread takes the first range and then blocks (Atomics.wait) until the workers are
 * done. Work too small to pay the ~20–70 µs round trip, arguments that are not shared memory,
 * or a pool still starting up all run serially on the main thread.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import { findRangeKernel, type RangeArg } from "./range_kernels.ts";
import { cpuThreads } from "./threads.ts";

/** Helper threads beside the main one (`cpuThreads()` − 1). */
let helperCount = cpuThreads() - 1;

interface Pool {
  workers: Worker[];
  /** [0]: helpers still running the current task; [1]: helpers ready; [2]: failure flag. */
  control: Int32Array;
  /** A failing helper's message, UTF-8, NUL-terminated. */
  message: Uint8Array;
}

let pool: Pool | null | undefined;

let enabled = true;

/**
 * Turns splitting on or off without stopping the helpers (off: every kernel runs on this thread)
 * and returns the previous setting; tests compare split runs with serial ones through it.
 */
export function setParallelEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** How many kernel calls ran split across threads, and how many on this thread alone. */
export const parallelStats = { split: 0, serial: 0 };
let startError = "";

/** How a range kernel may be split. */
export interface ParallelOptions {
  /** The smallest number of items worth giving one thread (default 1). */
  grain?: number;
  /**
   * Indices of the arguments the kernel writes: they must be shared memory for a split (other
   * arguments are copied to the helpers when they are not).
   */
  writes: readonly number[];
}

/**
 * Sets how many helper threads split kernels use (0 turns splitting off) and returns the
 * previous count; takes effect for pools started afterwards (the pool starts on first use).
 */
export function setParallelHelpers(n: number): number {
  const prev = helperCount;
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`setParallelHelpers: expected an integer >= 0, got ${n}`);
  }
  if (pool) { for (const w of pool.workers) void w.terminate(); }
  pool = undefined;
  helperCount = n;
  return prev;
}

/** Threads a split kernel uses now: 1 + the helpers that are ready. */
export function parallelThreads(): number {
  const p = startPool();
  return 1 + (p ? Math.min(Atomics.load(p.control, 1), p.workers.length) : 0);
}

/**
 * Resolves once the helper threads are ready (or at once when there are none), so tests and
 * benches can measure split runs from the first call; rejects after `timeoutMs`.
 */
export async function parallelReady(timeoutMs = 30_000): Promise<number> {
  const p = startPool();
  if (!p) return 1;
  const t0 = performance.now();
  while (Atomics.load(p.control, 1) < p.workers.length) {
    if (Atomics.load(p.control, 2) !== 0 || performance.now() - t0 > timeoutMs) {
      throw new Error(
        `cpu (parallel): helper threads not ready after ${timeoutMs} ms ${startError}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return 1 + p.workers.length;
}

/** Why the pool did not start ("" when it did or was not asked to). */
export function parallelUnavailableReason(): string {
  return startError;
}

function startPool(): Pool | null {
  if (pool !== undefined) return pool;
  pool = null;
  if (helperCount === 0) return null;
  try {
    const control = new Int32Array(new SharedArrayBuffer(12));
    const message = new Uint8Array(new SharedArrayBuffer(1024));
    const url = new URL("./parallel_worker.ts", import.meta.url);
    const workers: Worker[] = [];
    for (let i = 0; i < helperCount; i++) {
      const w = new Worker(url, { workerData: { control, message } });
      // Idle helpers must not keep the process alive.
      w.unref();
      w.on("error", (e: unknown) => {
        startError = `a helper thread failed: ${e instanceof Error ? e.message : e}`;
        Atomics.store(control, 2, 1);
      });
      workers.push(w);
    }
    pool = { workers, control, message };
  } catch (e) {
    startError = `helper threads did not start: ${e instanceof Error ? e.message : e}`;
  }
  return pool;
}

function shared(a: RangeArg): boolean {
  return ArrayBuffer.isView(a) && a.buffer instanceof SharedArrayBuffer;
}

/**
 * Typed arrays travel as their shared buffer plus offset and length: Deno's worker_threads
 * clones typed-array views element by element (~180 ms for a few MB), raw SharedArrayBuffers
 * cost nothing. Unshared ones (read-only scratch) are copied into a shared buffer first.
 */
function encode(a: RangeArg): unknown {
  if (!ArrayBuffer.isView(a)) return a;
  const kind = a instanceof Float32Array ? "f32" : a instanceof Float64Array ? "f64" : "i32";
  if (a.buffer instanceof SharedArrayBuffer) {
    return { sab: a.buffer, kind, offset: a.byteOffset, length: a.length };
  }
  const copy = new (a.constructor as Float32ArrayConstructor)(
    new SharedArrayBuffer(a.byteLength),
  );
  copy.set(a as Float32Array);
  return { sab: copy.buffer, kind, offset: 0, length: a.length };
}

/**
 * Runs range kernel `name` over [0, n) with `args`, split across the threads when each gets at
 * least `grain` items, the pool is ready and every written argument is shared memory; else in
 * one call on this thread.
 */
export function parallelFor(
  name: string,
  args: readonly RangeArg[],
  n: number,
  opts: ParallelOptions,
): void {
  const kernel = findRangeKernel(name);
  const grain = Math.max(1, opts.grain ?? 1);
  const p = enabled && n >= 2 * grain ? startPool() : null;
  const ready = p ? Math.min(Atomics.load(p.control, 1), p.workers.length) : 0;
  const threads = Math.min(1 + ready, Math.floor(n / grain));
  if (!p || threads < 2 || !opts.writes.every((i) => shared(args[i]))) {
    parallelStats.serial++;
    kernel(args, 0, n);
    return;
  }
  parallelStats.split++;
  const per = Math.ceil(n / threads);
  const encoded = args.map(encode);
  const c = p.control;
  Atomics.store(c, 0, threads - 1);
  for (let t = 1; t < threads; t++) {
    const start = t * per, end = Math.min(n, start + per);
    p.workers[t - 1].postMessage({ name, args: encoded, start, end });
  }
  let mainError: unknown = null;
  try {
    kernel(args, 0, Math.min(n, per));
  } catch (e) {
    mainError = e;
  }
  // Wait for the helpers even when this thread failed: they are writing into shared outputs.
  for (let left = Atomics.load(c, 0); left > 0; left = Atomics.load(c, 0)) {
    if (Atomics.wait(c, 0, left, 30_000) === "timed-out" && Atomics.load(c, 0) === left) {
      throw new Error(`cpu (parallel): '${name}' helpers did not finish within 30 s`);
    }
  }
  if (mainError) throw mainError;
  if (Atomics.load(c, 2) !== 0) {
    Atomics.store(c, 2, 0);
    const end = p.message.indexOf(0);
    const text = new TextDecoder().decode(p.message.slice(0, end < 0 ? undefined : end));
    throw new Error(`cpu (parallel): '${name}' failed in a helper thread: ${text}`);
  }
}
