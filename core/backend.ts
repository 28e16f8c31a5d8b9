/**
 * The backend interface and the kernel registry keyed by (op, backend).
 *
 * A backend owns storage (allocation, upload, readback) and a set of kernels. Kernels receive
 * contiguous inputs (except `stridedCopy`, which exists to make things contiguous) and write into
 * outputs the engine has already allocated.
 */

/** The element arrays a CPU backend stores: f32 normally, f64 for the reference backend. */
export type DataArray = Float32Array | Float64Array;

/** What a kernel sees of a tensor: a storage handle and where its elements live in it. */
export interface KernelTensor {
  /** Backend-specific storage handle (a typed array on CPU, a GPU buffer on WebGPU). */
  readonly handle: unknown;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Element strides; equal to the contiguous strides except for `stridedCopy` inputs. */
  readonly strides: readonly number[];
  /** Element offset of the first element inside the storage. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
}

/** Op-specific attributes: plain data only (numbers, booleans, strings, arrays of them). */
export type Attrs = Readonly<Record<string, unknown>>;

/** A kernel computes `outputs` from `inputs`; the outputs are freshly allocated storage. */
export type Kernel = (
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: Attrs,
  backend: Backend,
) => void;

/** Numbers a backend reports about itself (sizes in bytes). */
export interface BackendLimits {
  /** Largest single storage allocation in bytes. */
  readonly maxBufferBytes: number;
}

/** Counters a backend keeps so tests and benches can show its overhead. */
export interface BackendCounters {
  /** Command submissions (GPU) or kernel launches (CPU). */
  submits: number;
  /** Reads from device memory back to the host. */
  readbacks: number;
  /** Kernel dispatches. */
  dispatches: number;
}

/** A place tensors live and kernels run. */
export interface Backend {
  /** Registry name: `cpu`, `cpu64`, `webgpu`. */
  readonly name: string;
  /** Bytes per stored element (4 for f32, 8 for the f64 reference backend). */
  readonly bytesPerElement: number;
  /** Limits of this backend. */
  readonly limits: BackendLimits;
  /** Optional capabilities (for example `shader-f16`, `timestamp-query`). */
  readonly features: ReadonlySet<string>;
  /** Overhead counters. */
  readonly counters: BackendCounters;
  /** Allocates storage for `size` elements, zero-filled. */
  alloc(size: number): unknown;
  /** Releases storage; the handle must not be used again. */
  free(handle: unknown): void;
  /** Copies host values into storage starting at element `offset`. */
  write(handle: unknown, values: ArrayLike<number>, offset: number): void;
  /** Reads `size` elements starting at `offset` back to the host. */
  read(handle: unknown, offset: number, size: number): Promise<Float32Array>;
  /** Synchronous read; only backends whose memory the host can see provide it. */
  readSync?(handle: unknown, offset: number, size: number): Float32Array;
  /** Submits queued work (no-op on CPU). */
  flush(): void;
}

const backends = new Map<string, Backend>();
const kernels = new Map<string, Kernel>();

/** Makes a backend available by its name. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend registered under `name`; the error lists the registered ones. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (!b) {
    throw new Error(
      `backend '${name}' is not registered (registered: ${[...backends.keys()].join(", ")}); ` +
        `for WebGPU await initWebGPU() first`,
    );
  }
  return b;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/** Registers the kernel that runs `op` on `backend`; a later registration replaces it. */
export function registerKernel(op: string, backend: string, kernel: Kernel): void {
  kernels.set(`${op}/${backend}`, kernel);
}

/** The kernel for `op` on `backend`, or undefined. */
export function findKernel(op: string, backend: string): Kernel | undefined {
  return kernels.get(`${op}/${backend}`);
}

/** Ops that have a kernel on `backend` (for coverage tests). */
export function kernelsFor(backend: string): string[] {
  const suffix = `/${backend}`;
  return [...kernels.keys()].filter((k) => k.endsWith(suffix)).map((k) =>
    k.slice(0, -suffix.length)
  );
}
