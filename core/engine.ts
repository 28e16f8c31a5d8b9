/**
 * The engine runs ops: it checks inputs, allocates outputs, calls the kernel registered for the
 * inputs' backend, records the op on the tape when gradients are wanted, and tracks every live
 * tensor so scopes can free intermediates and `memory()` can count them.
 */

import { type Attrs, findKernel, getBackend, type KernelTensor } from "./backend.ts";
import { fmtShape, type Shape, sizeOf, stridesOf } from "./shape.ts";
import { type GradRule, Storage, type TapeNode, Tensor } from "./tensor.ts";
import { activeProfile, recordKernel, recordLiveBytes } from "./profile.ts";

/** Live-memory counters (see `memory()`). */
export interface MemoryInfo {
  /** Tensors not yet disposed. */
  tensors: number;
  /** Storages not yet freed. */
  storages: number;
  /** Bytes held by live storages, all backends together. */
  bytes: number;
}

const gradRules = new Map<string, GradRule>();

/** Registers the gradient rule of `op` (one table for all backends). */
export function registerGrad(op: string, rule: GradRule): void {
  gradRules.set(op, rule);
}

/** The gradient rule of `op`, if any. */
export function findGrad(op: string): GradRule | undefined {
  return gradRules.get(op);
}

/** Options of `Engine.run`. */
export interface RunOptions {
  /** Output shapes, one per kernel output. */
  outShapes: Shape[];
  /** How many leading outputs are returned to the caller; the rest are saved for backward. */
  visible?: number;
  /** Never record: the op has no gradient (comparisons, sign, argmax), so nothing flows back. */
  noGrad?: boolean;
  /**
   * Inputs the op created itself (numbers lifted to scalar tensors): freed with the tape node
   * when the op is recorded, at once otherwise, so they never outlive the op's own intermediates.
   */
  owned?: readonly Tensor[];
}

class Engine {
  defaultBackend = "cpu";
  gradEnabled = true;
  #scopes: Set<Tensor>[] = [];
  #liveTensors = 0;
  #liveStorages = 0;
  #liveBytes = 0;

  /** Called by every Tensor constructor. */
  track(t: Tensor): void {
    this.#liveTensors++;
    const scope = this.#scopes[this.#scopes.length - 1];
    if (scope) scope.add(t);
  }

  /** Called by Tensor.dispose. */
  untrack(t: Tensor): void {
    this.#liveTensors--;
    const scope = this.#scopes[this.#scopes.length - 1];
    if (scope) scope.delete(t);
  }

  /** Allocates storage on a backend, counting it. */
  allocStorage(backendName: string, size: number): Storage {
    const backend = getBackend(backendName);
    const bytes = size * backend.bytesPerElement;
    if (bytes > backend.limits.maxBufferBytes) {
      throw new Error(
        `alloc: ${size} elements (${bytes} bytes) exceed backend '${backend.name}' max buffer of ` +
          `${backend.limits.maxBufferBytes} bytes`,
      );
    }
    const s = new Storage(backend, backend.alloc(size), size);
    this.#liveStorages++;
    this.#liveBytes += bytes;
    if (activeProfile) recordLiveBytes(this.#liveBytes);
    return s;
  }

  /** Frees storage whose last tensor was disposed. */
  freeStorage(s: Storage): void {
    s.backend.free(s.handle);
    this.#liveStorages--;
    this.#liveBytes -= s.size * s.backend.bytesPerElement;
  }

  memory(): MemoryInfo {
    return { tensors: this.#liveTensors, storages: this.#liveStorages, bytes: this.#liveBytes };
  }

  /** Creates a tensor from host values on a backend. */
  fromValues(values: ArrayLike<number>, shape: Shape, backendName: string): Tensor {
    const n = sizeOf(shape);
    if (values.length !== n) {
      throw new Error(
        `tensor: ${values.length} values do not fill shape ${fmtShape(shape)} (${n} elements)`,
      );
    }
    const s = this.allocStorage(backendName, n);
    if (n > 0) s.backend.write(s.handle, values, 0);
    return new Tensor(s, [...shape]);
  }

  /** True when an op on these inputs would be recorded on the tape. */
  willRecord(inputs: readonly Tensor[]): boolean {
    return this.gradEnabled && inputs.some((t) => t.requiresGrad || t.node !== null);
  }

  /** Runs `op` on the inputs' backend and returns its visible outputs. */
  run(op: string, inputs: readonly Tensor[], attrs: Attrs, opts: RunOptions): Tensor[] {
    const backendName = this.#checkInputs(op, inputs);
    const kernel = findKernel(op, backendName);
    if (!kernel) throw new Error(`${op}: no kernel registered for backend '${backendName}'`);
    const ready = inputs.map((t) => t.isContiguous ? t : this.contiguous(t));
    const outputs = opts.outShapes.map((shape) =>
      new Tensor(this.allocStorage(backendName, sizeOf(shape)), [...shape])
    );
    const backend = getBackend(backendName);
    if (activeProfile) {
      const t0 = performance.now();
      kernel(ready.map(kernelView), outputs.map(kernelView), attrs, backend);
      const bytes = outputs.reduce((s, t) => s + t.size, 0) * backend.bytesPerElement;
      recordKernel(op, performance.now() - t0, bytes);
    } else kernel(ready.map(kernelView), outputs.map(kernelView), attrs, backend);
    for (let i = 0; i < ready.length; i++) if (ready[i] !== inputs[i]) ready[i].dispose();

    const visible = opts.visible ?? outputs.length;
    const shown = outputs.slice(0, visible);
    const saved = [...outputs.slice(visible), ...(opts.owned ?? [])];
    if (this.willRecord(inputs) && !opts.noGrad) {
      const node: TapeNode = { op, inputs: [...inputs], outputs: shown, attrs, saved };
      for (const t of shown) t.node = node;
    } else {
      for (const t of saved) t.dispose();
    }
    return shown;
  }

  /**
   * Records `outputs` as produced by `op` from `inputs` when gradients are wanted, for ops whose
   * forward is a composition of other ops run without recording (chunked or recomputed ones);
   * `saved` go with the node, or are freed at once when nothing is recorded.
   */
  record(
    op: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    attrs: Attrs,
    saved: readonly Tensor[] = [],
  ): void {
    if (this.willRecord(inputs)) {
      const node: TapeNode = { op, inputs: [...inputs], outputs: [...outputs], attrs, saved };
      for (const t of outputs) t.node = node;
    } else {
      for (const t of saved) t.dispose();
    }
  }

  /** Creates a view sharing `src`'s storage, recorded on the tape as `op`. */
  view(
    op: string,
    src: Tensor,
    shape: Shape,
    strides: readonly number[],
    offset: number,
    attrs: Attrs,
  ): Tensor {
    src.assertLive(op);
    const out = new Tensor(src.storage, [...shape], [...strides], offset);
    if (this.willRecord([src])) {
      out.node = { op, inputs: [src], outputs: [out], attrs, saved: [] };
    }
    return out;
  }

  /** A contiguous copy of a strided view (not recorded: callers record the op they implement). */
  contiguous(t: Tensor): Tensor {
    const backendName = t.backend.name;
    const kernel = findKernel("stridedCopy", backendName);
    if (!kernel) throw new Error(`stridedCopy: no kernel registered for backend '${backendName}'`);
    const out = new Tensor(this.allocStorage(backendName, t.size), [...t.shape]);
    const t0 = activeProfile ? performance.now() : 0;
    kernel([kernelView(t)], [kernelView(out)], {}, t.backend);
    if (activeProfile) {
      recordKernel("stridedCopy", performance.now() - t0, t.size * t.backend.bytesPerElement);
    }
    return out;
  }

  #checkInputs(op: string, inputs: readonly Tensor[]): string {
    let name: string | undefined;
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (!(t instanceof Tensor)) {
        throw new Error(`${op}: input ${i} is ${typeof t}, not a Tensor`);
      }
      t.assertLive(`${op} (input ${i})`);
      if (name === undefined) name = t.backend.name;
      else if (t.backend.name !== name) {
        throw new Error(
          `${op}: inputs live on different backends ('${name}' and '${t.backend.name}'); ` +
            `move them with toBackend()`,
        );
      }
    }
    return name ?? this.defaultBackend;
  }

  /** Runs `fn` in a scope that disposes the tensors it created, except the returned ones. */
  tidy<T>(fn: () => T): T {
    const scope = new Set<Tensor>();
    this.#scopes.push(scope);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#scopes.pop();
      for (const t of scope) if (!t.kept) t.dispose();
      throw e;
    }
    if (result instanceof Promise) {
      this.#scopes.pop();
      throw new Error("tidy: the function returned a Promise; tidy scopes must be synchronous");
    }
    this.#scopes.pop();
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    for (const t of scope) {
      if (t.kept || t.disposed) continue;
      if (survivors.has(t)) {
        const parent = this.#scopes[this.#scopes.length - 1];
        if (parent) parent.add(t);
      } else t.dispose();
    }
    return result;
  }

  /** Removes a tensor from every scope's reach. */
  keep<T extends Tensor>(t: T): T {
    t.kept = true;
    for (const s of this.#scopes) s.delete(t);
    return t;
  }
}

function kernelView(t: Tensor): KernelTensor {
  return {
    handle: t.storage.handle,
    shape: t.shape,
    strides: t.strides,
    offset: t.offset,
    size: t.size,
  };
}

function collectTensors(x: unknown, out: Set<Tensor>): void {
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) { for (const v of x) collectTensors(v, out); }
  else if (x && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) collectTensors(v, out);
  }
}

/** The single engine instance. */
export const engine: Engine = new Engine();

/** Counts of live tensors, storages and bytes: flat across training steps means no leak. */
export function memory(): MemoryInfo {
  return engine.memory();
}

/** Runs `fn` and frees every tensor it created except those it returns (or `keep()`s). */
export function tidy<T>(fn: () => T): T {
  return engine.tidy(fn);
}

/** Protects a tensor from the enclosing scopes. */
export function keep<T extends Tensor>(t: T): T {
  return engine.keep(t);
}

/** Disposes every tensor found in a value (tensor, array, or plain object of them). */
export function dispose(x: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(x, found);
  for (const t of found) t.dispose();
}

/** Runs `fn` with gradient recording off. */
export function noGrad<T>(fn: () => T): T {
  const prev = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    return fn();
  } finally {
    engine.gradEnabled = prev;
  }
}

/** Whether ops are currently recorded on the tape. */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}

/** Sets the backend new tensors are created on (`cpu`, `cpu64`, `webgpu`). */
export function setBackend(name: string): void {
  getBackend(name);
  engine.defaultBackend = name;
}

/** The backend new tensors are created on. */
export function currentBackend(): string {
  return engine.defaultBackend;
}

/** Contiguous strides helper re-exported for view ops. */
export { stridesOf };
