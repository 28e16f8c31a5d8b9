/**
 * Caches of compute pipelines (by kernel key), bind-group layouts (by binding counts) and bind
 * groups (by the buffers they bind). Every kernel binds the same way: binding 0 is a 256-byte
 * slice of the shared uniform arena at a dynamic offset, then the inputs (read-only storage),
 * then the outputs (read-write storage).
 */

import type { GpuBuffer } from "./pool.ts";

/** Bytes of one dispatch's parameter block (64 words). */
export const PARAM_BYTES = 256;

const BIND_GROUP_CAP = 4096;

/** Pipelines, layouts and bind groups, created once and reused. */
export class PipelineCache {
  #layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #bindGroups = new Map<string, GPUBindGroup>();
  #keysByBuffer = new Map<number, string[]>();
  /** Bind-group cache hits and misses, for benches. */
  readonly stats = { pipelines: 0, bindGroupHits: 0, bindGroupMisses: 0 };

  constructor(private readonly device: GPUDevice, private readonly uniform: GPUBuffer) {}

  #layout(nIn: number, nOut: number) {
    const key = `${nIn}/${nOut}`;
    let l = this.#layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{
        binding: 0,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: PARAM_BYTES },
      }];
      for (let i = 0; i < nIn + nOut; i++) {
        entries.push({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: i < nIn ? "read-only-storage" : "storage" },
        });
      }
      const bgl = this.device.createBindGroupLayout({ label: `tether ${key}`, entries });
      const pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
      this.#layouts.set(key, l = { bgl, pl });
    }
    return l;
  }

  /** The pipeline cached under `key`, compiling `wgsl()` on first use. */
  pipeline(key: string, nIn: number, nOut: number, wgsl: () => string): GPUComputePipeline {
    const full = `${nIn}/${nOut}:${key}`;
    let p = this.#pipelines.get(full);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code: wgsl() });
      p = this.device.createComputePipeline({
        label: key,
        layout: this.#layout(nIn, nOut).pl,
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(full, p);
      this.stats.pipelines++;
    }
    return p;
  }

  /** The bind group for these buffers (inputs then outputs). */
  bindGroup(nIn: number, buffers: readonly GpuBuffer[]): GPUBindGroup {
    const nOut = buffers.length - nIn;
    let key = `${nIn}/${nOut}`;
    for (const b of buffers) key += `:${b.id}`;
    const hit = this.#bindGroups.get(key);
    if (hit) {
      // Re-insert to keep the Map in least-recently-used order.
      this.#bindGroups.delete(key);
      this.#bindGroups.set(key, hit);
      this.stats.bindGroupHits++;
      return hit;
    }
    this.stats.bindGroupMisses++;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.uniform, size: PARAM_BYTES } },
    ];
    buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer } }));
    const bg = this.device.createBindGroup({ layout: this.#layout(nIn, nOut).bgl, entries });
    this.#bindGroups.set(key, bg);
    for (const b of new Set(buffers)) {
      let keys = this.#keysByBuffer.get(b.id);
      if (!keys) this.#keysByBuffer.set(b.id, keys = []);
      keys.push(key);
      // Keys evicted by the LRU stay listed until pruned; prune so long-lived buffers stay cheap.
      if (keys.length > 64) {
        this.#keysByBuffer.set(b.id, keys.filter((k) => this.#bindGroups.has(k)));
      }
    }
    if (this.#bindGroups.size > BIND_GROUP_CAP) {
      const oldest = this.#bindGroups.keys().next().value as string;
      this.#bindGroups.delete(oldest);
    }
    return bg;
  }

  /** Drops every bind group that references a destroyed buffer. */
  forget(b: GpuBuffer): void {
    const keys = this.#keysByBuffer.get(b.id);
    if (!keys) return;
    for (const k of keys) this.#bindGroups.delete(k);
    this.#keysByBuffer.delete(b.id);
  }
}
