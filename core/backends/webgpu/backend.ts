/**
 * The WebGPU backend: tensor storage in pooled GPU buffers, kernels encoded into one command
 * encoder and submitted in batches, and readbacks only when the caller awaits `toArray()`.
 *
 * Ordering rules that keep recycled buffers correct:
 * - `queue.writeBuffer` takes effect before anything still waiting in the unsubmitted encoder, so
 *   a buffer freed while the pending encoder uses it returns to the pool only after the next
 *   submit, and a host write into a buffer the pending encoder uses submits first.
 * - Recycled buffers hold stale bytes; they are marked dirty and cleared (inside the encoder)
 *   before anything reads them, so allocations still behave as zero-filled.
 */

import type { Backend, BackendCounters, BackendLimits } from "../../backend.ts";
import type { DeviceInfo, GpuLimits } from "./device.ts";
import { BufferPool, type GpuBuffer } from "./pool.ts";
import { PARAM_BYTES, PipelineCache } from "./pipeline_cache.ts";

/** Words of a dispatch's parameter block. */
export const PARAM_WORDS = PARAM_BYTES / 4;

/** A dispatch's parameters: u32, i32 and f32 words, read in WGSL through `pu(i)`/`pf(i)`. */
export class Params {
  /** The words written so far. */
  readonly words: Uint32Array = new Uint32Array(PARAM_WORDS);
  #f = new Float32Array(this.words.buffer);
  #i = new Int32Array(this.words.buffer);
  /** Number of words written. */
  length = 0;

  #room(n: number): number {
    if (this.length + n > PARAM_WORDS) {
      throw new Error(`webgpu: a dispatch has more than ${PARAM_WORDS} parameter words`);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  /** Appends unsigned integers. */
  u(...vs: readonly number[]): this {
    const at = this.#room(vs.length);
    vs.forEach((v, i) => this.words[at + i] = v >>> 0);
    return this;
  }

  /** Appends signed integers. */
  i(...vs: readonly number[]): this {
    const at = this.#room(vs.length);
    vs.forEach((v, i) => this.#i[at + i] = v);
    return this;
  }

  /** Appends f32 values. */
  f(...vs: readonly number[]): this {
    const at = this.#room(vs.length);
    vs.forEach((v, i) => this.#f[at + i] = v);
    return this;
  }

  /** Appends `count` unsigned integers, padding `vs` with `fill`. */
  padded(vs: readonly number[], count: number, fill = 0): this {
    const at = this.#room(count);
    for (let i = 0; i < count; i++) this.words[at + i] = (i < vs.length ? vs[i] : fill) >>> 0;
    return this;
  }
}

/** Options of the backend's overhead controls. */
export interface WebGPUBackendOptions {
  /** Dispatches encoded before an automatic submit (default 128). */
  maxDispatchesPerSubmit?: number;
  /** Bytes the buffer pool may hold (default: a quarter of the largest buffer, at most 1 GiB). */
  poolCapBytes?: number;
}

/** Limits of the WebGPU backend: the generic ones plus the device's own. */
export interface WebGPULimits extends BackendLimits {
  /** The limits the device was opened with. */
  readonly device: GpuLimits;
}

/** A workgroup grid: x, y, z counts. */
export type Grid = readonly [number, number, number];

/** The `webgpu` backend. Create it through `initWebGPU()`. */
export class WebGPUBackend implements Backend {
  /** Registry name. */
  readonly name = "webgpu";
  /** Bytes per element (f32). */
  readonly bytesPerElement = 4;
  /** Limits; every tensor buffer is bound whole, so the binding limit caps a tensor. */
  readonly limits: WebGPULimits;
  /** Optional features enabled on the device. */
  readonly features: ReadonlySet<string>;
  /** Submits, readbacks and dispatches so far. */
  readonly counters: BackendCounters = { submits: 0, readbacks: 0, dispatches: 0 };
  /** Dispatches encoded before an automatic submit. */
  maxDispatchesPerSubmit: number;
  /** Uncaptured device errors (validation, out of memory); tests assert this stays empty. */
  readonly errors: string[] = [];

  readonly #device: GPUDevice;
  readonly #pool: BufferPool;
  readonly #cache: PipelineCache;
  readonly #uniform: GPUBuffer;
  readonly #slotBytes: number;
  readonly #slots: number;
  readonly #arena: Uint32Array<ArrayBuffer>;
  #slotsUsed = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #epoch = 0;
  #deferred: GpuBuffer[] = [];
  #elements = new WeakMap<GpuBuffer, number>();

  /** Wraps an opened device; use `initWebGPU()` instead, which also registers the kernels. */
  constructor(
    /** The device and what was detected about its adapter. */
    readonly info: DeviceInfo,
    opts: WebGPUBackendOptions = {},
  ) {
    const device = info.device;
    this.#device = device;
    this.features = info.features;
    const l = info.limits;
    this.limits = {
      maxBufferBytes: Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize),
      device: l,
    };
    this.maxDispatchesPerSubmit = opts.maxDispatchesPerSubmit ?? 128;
    this.#slotBytes = Math.max(PARAM_BYTES, l.minUniformBufferOffsetAlignment);
    this.#slots = Math.max(this.maxDispatchesPerSubmit, 64);
    this.#arena = new Uint32Array((this.#slots * this.#slotBytes) / 4);
    this.#uniform = device.createBuffer({
      label: "tether params",
      size: this.#slots * this.#slotBytes,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#cache = new PipelineCache(device, this.#uniform);
    const cap = opts.poolCapBytes ?? Math.min(2 ** 30, Math.floor(l.maxBufferSize / 4));
    this.#pool = new BufferPool(device, cap, (b) => this.#cache.forget(b));
    device.addEventListener("uncapturederror", (e) => {
      const msg = (e as GPUUncapturedErrorEvent).error.message;
      if (this.errors.length < 100) this.errors.push(msg);
      if (this.errors.length <= 3) console.error(`webgpu: device error: ${msg}`);
    });
    device.lost.then((i) => {
      if (i.reason !== "destroyed") {
        console.error(`webgpu: device lost (${i.reason}): ${i.message}`);
      }
    });
  }

  /** The WebGPU device. */
  get device(): GPUDevice {
    return this.#device;
  }

  /** Bytes waiting in the buffer pool (not counted by `memory()`, which counts live tensors). */
  get poolBytes(): number {
    return this.#pool.pooledBytes;
  }

  /** Cache and pool statistics, for benches. */
  stats(): Record<string, number> {
    return {
      poolBytes: this.#pool.pooledBytes,
      buffersCreated: this.#pool.stats.created,
      buffersReused: this.#pool.stats.reused,
      pipelines: this.#cache.stats.pipelines,
      bindGroupHits: this.#cache.stats.bindGroupHits,
      bindGroupMisses: this.#cache.stats.bindGroupMisses,
    };
  }

  /** Sets the pool's byte cap (buffers beyond it are destroyed when freed). */
  setPoolCap(bytes: number): void {
    this.#pool.capBytes = bytes;
  }

  /** Destroys the pooled buffers (live tensors keep theirs). */
  drainPool(): void {
    this.flush();
    this.#pool.drain();
  }

  alloc(size: number): GpuBuffer {
    const b = this.#pool.acquire(Math.max(size, 1) * 4);
    this.#elements.set(b, size);
    return b;
  }

  free(handle: unknown): void {
    const b = handle as GpuBuffer;
    if (this.#encoder && b.usedEpoch === this.#epoch) this.#deferred.push(b);
    else this.#pool.release(b);
  }

  write(handle: unknown, values: ArrayLike<number>, offset: number): void {
    const b = handle as GpuBuffer;
    if (values.length === 0) return;
    // The write would land before pending commands that still use this buffer: submit them first.
    if (this.#encoder && b.usedEpoch === this.#epoch) this.flush();
    const elements = this.#elements.get(b) ?? b.bytes / 4;
    if (b.dirty && !(offset === 0 && values.length >= elements)) {
      const full = new Float32Array(elements);
      full.set(values, offset);
      this.#device.queue.writeBuffer(b.buffer, 0, full);
    } else {
      const data = values instanceof Float32Array && values.buffer instanceof ArrayBuffer
        ? values as Float32Array<ArrayBuffer>
        : Float32Array.from(values);
      this.#device.queue.writeBuffer(b.buffer, offset * 4, data);
    }
    b.dirty = false;
  }

  async read(handle: unknown, offset: number, size: number): Promise<Float32Array> {
    const b = handle as GpuBuffer;
    if (size === 0) return new Float32Array(0);
    if (b.dirty) return new Float32Array(size);
    const staging = this.#device.createBuffer({
      size: size * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.#open();
    this.#endPass();
    enc.copyBufferToBuffer(b.buffer, offset * 4, staging, 0, size * 4);
    b.usedEpoch = this.#epoch;
    this.flush();
    this.counters.readbacks++;
    try {
      await staging.mapAsync(GPUMapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  flush(): void {
    const enc = this.#encoder;
    if (!enc) return;
    this.#endPass();
    if (this.#slotsUsed > 0) {
      const words = (this.#slotsUsed * this.#slotBytes) / 4;
      this.#device.queue.writeBuffer(this.#uniform, 0, this.#arena, 0, words);
    }
    this.#device.queue.submit([enc.finish()]);
    this.counters.submits++;
    this.#encoder = null;
    this.#slotsUsed = 0;
    this.#epoch++;
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const b of deferred) this.#pool.release(b);
  }

  /** Waits until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.#device.queue.onSubmittedWorkDone();
  }

  /** A scratch buffer for multi-pass kernels; give it back with `free()` after encoding. */
  scratch(elements: number): GpuBuffer {
    return this.alloc(elements);
  }

  /** A 1-D grid covering `threads` threads in workgroups of `wg`, split over y when too long. */
  grid(threads: number, wg: number): Grid {
    const groups = Math.ceil(threads / wg);
    const maxX = this.limits.device.maxComputeWorkgroupsPerDimension;
    if (groups <= maxX) return [groups, 1, 1];
    return [maxX, Math.ceil(groups / maxX), 1];
  }

  /**
   * Encodes one dispatch of the pipeline cached under `key` (compiled from `wgsl()` on first
   * use). `zeroOutputs` clears recycled outputs first, for kernels that write only some elements.
   */
  dispatch(
    key: string,
    wgsl: () => string,
    inputs: readonly GpuBuffer[],
    outputs: readonly GpuBuffer[],
    params: Params,
    grid: Grid,
    zeroOutputs = false,
  ): void {
    if (grid[0] * grid[1] * grid[2] === 0) return;
    const bound = inputs.length + outputs.length;
    if (bound > this.limits.device.maxStorageBuffersPerShaderStage) {
      throw new Error(
        `webgpu ${key}: binds ${bound} storage buffers but this device allows ` +
          `${this.limits.device.maxStorageBuffersPerShaderStage} per shader stage`,
      );
    }
    for (const o of outputs) {
      if (inputs.includes(o)) {
        throw new Error(`webgpu ${key}: an output buffer is also bound as an input`);
      }
    }
    if (this.#slotsUsed >= this.#slots || this.#slotsUsed >= this.maxDispatchesPerSubmit) {
      this.flush();
    }
    this.#open();
    for (const b of inputs) if (b.dirty) this.#clear(b);
    for (const b of outputs) {
      if (b.dirty && zeroOutputs) this.#clear(b);
      b.dirty = false;
    }
    const pipeline = this.#cache.pipeline(key, inputs.length, outputs.length, wgsl);
    const bg = this.#cache.bindGroup(inputs.length, [...inputs, ...outputs]);
    const slot = this.#slotsUsed++;
    this.#arena.set(params.words.subarray(0, params.length), (slot * this.#slotBytes) / 4);
    if (!this.#pass) this.#pass = this.#encoder!.beginComputePass();
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bg, [slot * this.#slotBytes]);
    this.#pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    for (const b of inputs) b.usedEpoch = this.#epoch;
    for (const b of outputs) b.usedEpoch = this.#epoch;
    this.counters.dispatches++;
  }

  /** Encodes a buffer-to-buffer copy of `elements` f32 values. */
  copy(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, elements: number) {
    if (elements === 0) return;
    const enc = this.#open();
    if (src.dirty) this.#clear(src);
    // A partial copy into a recycled buffer must leave the rest reading as zeros.
    if (dst.dirty) this.#clear(dst);
    this.#endPass();
    enc.copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, elements * 4);
    src.usedEpoch = dst.usedEpoch = this.#epoch;
  }

  /** Makes a (possibly recycled) buffer all zeros before a kernel writes part of it. */
  zero(b: GpuBuffer): void {
    this.#open();
    if (b.dirty) this.#clear(b);
  }

  /** Flushes, empties the pool and destroys the device; the backend is unusable afterwards. */
  destroy(): void {
    this.flush();
    this.#pool.drain();
    this.#uniform.destroy();
    this.#device.destroy();
  }

  #open(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.#device.createCommandEncoder();
    return this.#encoder;
  }

  #endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  #clear(b: GpuBuffer): void {
    this.#endPass();
    this.#encoder!.clearBuffer(b.buffer);
    b.dirty = false;
    b.usedEpoch = this.#epoch;
  }
}
