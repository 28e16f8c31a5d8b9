/**
 * GPU storage buffers and the size-bucket pool they return to when freed.
 *
 * Creating and destroying buffers each op would churn the driver's allocator, so freed buffers
 * wait in per-bucket free lists for the next allocation of the same bucket, up to a byte cap.
 */

/** Usage flags of tensor buffers; read on use, since runtimes without WebGPU lack the global. */
function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

let nextBufferId = 1;

/** One storage buffer: the handle WebGPU kernels see in `KernelTensor.handle`. */
export class GpuBuffer {
  /** Unique id (bind groups are cached by the ids of their buffers). */
  readonly id: number = nextBufferId++;
  /**
   * True while the contents are stale (a recycled buffer): the backend clears it before anything
   * reads it, so every allocation still behaves as zero-filled.
   */
  dirty: boolean = false;
  /** The submit epoch of the last command that used this buffer (see `WebGPUBackend`). */
  usedEpoch: number = -1;

  /** Wraps a created buffer (the pool creates them). */
  constructor(
    /** The WebGPU buffer. */
    readonly buffer: GPUBuffer,
    /** Capacity in bytes (the bucket size). */
    readonly bytes: number,
  ) {}
}

/** The bucket a request of `bytes` is served from: powers of two, then quarter steps. */
export function bucketBytes(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const pow = 2 ** Math.ceil(Math.log2(b));
  if (pow <= 65536) return pow;
  const step = pow / 8; // quarter steps of the lower power of two: at most 25% waste
  return Math.ceil(b / step) * step;
}

/** Free lists of storage buffers by bucket size, holding at most `capBytes`. */
export class BufferPool {
  #free = new Map<number, GpuBuffer[]>();
  #pooledBytes = 0;
  #created = 0;
  #reused = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Bytes the free lists may hold; buffers beyond it are destroyed when freed. */
    public capBytes: number,
    /** Called for each buffer the pool destroys (so caches can forget it). */
    private readonly onDestroy: (b: GpuBuffer) => void,
  ) {}

  /** Bytes waiting in the free lists. */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** Buffers created and allocations served from the free lists, for benches. */
  get stats(): { created: number; reused: number } {
    return { created: this.#created, reused: this.#reused };
  }

  /** A buffer of at least `bytes`; recycled ones come back marked dirty. */
  acquire(bytes: number): GpuBuffer {
    const size = bucketBytes(bytes);
    const list = this.#free.get(size);
    const recycled = list?.pop();
    if (recycled) {
      this.#pooledBytes -= size;
      this.#reused++;
      recycled.dirty = true;
      return recycled;
    }
    this.#created++;
    const buffer = this.device.createBuffer({ size, usage: storageUsage() });
    return new GpuBuffer(buffer, size);
  }

  /** Returns a buffer no pending command uses; destroys it when the pool is full. */
  release(b: GpuBuffer): void {
    if (this.#pooledBytes + b.bytes > this.capBytes) {
      this.#destroy(b);
      return;
    }
    let list = this.#free.get(b.bytes);
    if (!list) this.#free.set(b.bytes, list = []);
    list.push(b);
    this.#pooledBytes += b.bytes;
  }

  /** Destroys every pooled buffer. */
  drain(): void {
    for (const list of this.#free.values()) for (const b of list) this.#destroy(b);
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  #destroy(b: GpuBuffer): void {
    this.onDestroy(b);
    b.buffer.destroy();
  }
}
