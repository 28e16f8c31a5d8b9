/**
 * The CPU backends: `cpu` stores f32 and takes fast routes (onnxruntime's MLAS matmul, WASM SIMD)
 * where they pay; `cpu64` stores f64 and runs only the plain TypeScript kernels, the numeric
 * reference that gradient checks and the other backends are tested against.
 */

import type {
  Backend,
  BackendCounters,
  BackendLimits,
  DataArray,
  KernelTensor,
} from "../../backend.ts";
import { allocShared, releaseShared } from "./storage_pool.ts";

/** A backend whose storage is a host typed array. */
export class CpuBackend implements Backend {
  readonly limits: BackendLimits = { maxBufferBytes: 2 ** 31 - 1 };
  readonly features: ReadonlySet<string> = new Set();
  readonly counters: BackendCounters = { submits: 0, readbacks: 0, dispatches: 0 };
  readonly bytesPerElement: number;

  constructor(readonly name: string, readonly f64: boolean) {
    this.bytesPerElement = f64 ? 8 : 4;
  }

  alloc(size: number): DataArray {
    return this.f64 ? new Float64Array(size) : allocShared(size);
  }

  free(handle: unknown): void {
    // f32 storage goes back to the pool; f64 arrays are left to the garbage collector.
    if (!this.f64) releaseShared(handle as Float32Array);
  }

  write(handle: unknown, values: ArrayLike<number>, offset: number): void {
    (handle as DataArray).set(values, offset);
  }

  read(handle: unknown, offset: number, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(handle, offset, size));
  }

  readSync(handle: unknown, offset: number, size: number): Float32Array {
    this.counters.readbacks++;
    return new Float32Array((handle as DataArray).subarray(offset, offset + size));
  }

  flush(): void {}
}

/** The elements of a contiguous kernel tensor as a typed-array view. */
export function data(t: KernelTensor): DataArray {
  return (t.handle as DataArray).subarray(t.offset, t.offset + t.size);
}
