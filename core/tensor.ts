/** The Tensor: a shaped, strided view of reference-counted backend storage, with a tape link. */

import type { Attrs, Backend } from "./backend.ts";
import { fmtShape, type Shape, sizeOf, stridesOf } from "./shape.ts";
import { backward } from "./autograd.ts";
import { engine } from "./engine.ts";

/** Backend memory shared by a tensor and its views; freed when the last one is disposed. */
export class Storage {
  /** Live tensors that reference this storage. */
  refs = 0;
  /** Wraps a backend handle of `size` elements. */
  constructor(
    /** The backend that owns the memory. */
    readonly backend: Backend,
    /** The backend's handle. */
    readonly handle: unknown,
    /** Capacity in elements. */
    readonly size: number,
  ) {}
}

/** Computes the gradients of a recorded op's inputs from the gradients of its outputs. */
export type GradRule = (dys: readonly (Tensor | null)[], node: TapeNode) => (Tensor | null)[];

/** One recorded op on the autograd tape. */
export interface TapeNode {
  /** Op name, as in the kernel registry and the gradient table. */
  readonly op: string;
  /** Inputs as the op received them. */
  readonly inputs: readonly Tensor[];
  /** Outputs the op returned. */
  readonly outputs: readonly Tensor[];
  /** The op's attributes. */
  readonly attrs: Attrs;
  /** Extra tensors the forward kept for the backward (freed with the node). */
  readonly saved: readonly Tensor[];
}

let nextId = 1;

/** The id the next tensor will get: tensors with smaller ids existed before this call. */
export function nextTensorId(): number {
  return nextId;
}

/** An n-dimensional array of f32 values on one backend, optionally tracked by autograd. */
export class Tensor {
  /** Unique id, handy in error messages. */
  readonly id: number = nextId++;
  /** Element strides into the storage. */
  readonly strides: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf that requires grad. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded. */
  node: TapeNode | null = null;
  /** Optional name (parameters carry their dotted Hugging Face name). */
  name?: string;
  /** Set by `keep()`: scopes no longer dispose this tensor. */
  kept = false;
  #disposed = false;

  /** Wraps storage; users create tensors through `tensor()`, `zeros()` and ops instead. */
  constructor(
    readonly storage: Storage,
    /** Logical shape. */
    readonly shape: Shape,
    strides?: readonly number[],
    /** Element offset into the storage. */
    readonly offset = 0,
  ) {
    this.strides = strides ?? stridesOf(shape);
    this.size = sizeOf(shape);
    storage.refs++;
    engine.track(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** The backend holding this tensor. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** True once disposed; any further use is an error. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** True when the elements are laid out row-major without gaps. */
  get isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  /** Throws a clear error when this tensor was disposed. */
  assertLive(where: string): void {
    if (this.#disposed) {
      throw new Error(
        `${where}: tensor #${this.id} ${fmtShape(this.shape)}${
          this.name ? ` '${this.name}'` : ""
        } was used after dispose()`,
      );
    }
  }

  /** Frees this tensor (and its storage when no other view shares it). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    engine.untrack(this);
    if (--this.storage.refs === 0) engine.freeStorage(this.storage);
  }

  /** Lets `using t = ...` free the tensor at the end of a block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Reads the values back to the host as a contiguous Float32Array. */
  async toArray(): Promise<Float32Array> {
    this.assertLive("toArray");
    const t = this.isContiguous ? this : engine.contiguous(this);
    try {
      return await t.backend.read(t.storage.handle, t.offset, t.size);
    } finally {
      if (t !== this) t.dispose();
    }
  }

  /** Synchronous read, for backends whose memory the host can see (CPU). */
  toArraySync(): Float32Array {
    this.assertLive("toArraySync");
    const b = this.backend;
    if (!b.readSync) {
      throw new Error(
        `toArraySync: backend '${b.name}' cannot read synchronously; use await tensor.toArray()`,
      );
    }
    const t = this.isContiguous ? this : engine.contiguous(this);
    try {
      return b.readSync(t.storage.handle, t.offset, t.size);
    } finally {
      if (t !== this) t.dispose();
    }
  }

  /**
   * Values as f64, synchronously (CPU backends): exact on `cpu64`, widened from f32 on `cpu`.
   * Reference checks use it where `toArraySync`'s f32 rounding would hide f64 agreement.
   */
  toFloat64ArraySync(): Float64Array {
    this.assertLive("toFloat64ArraySync");
    if (!this.backend.readSync) {
      throw new Error(
        `toFloat64ArraySync: backend '${this.backend.name}' cannot read synchronously; ` +
          `use await tensor.toArray()`,
      );
    }
    const t = this.isContiguous ? this : engine.contiguous(this);
    try {
      const store = t.storage.handle as Float32Array | Float64Array;
      return Float64Array.from(store.subarray(t.offset, t.offset + t.size));
    } finally {
      if (t !== this) t.dispose();
    }
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new Error(
        `item: tensor #${this.id} has shape ${fmtShape(this.shape)}, not one element`,
      );
    }
    return (await this.toArray())[0];
  }

  /** Synchronous `item()` on CPU backends. */
  itemSync(): number {
    if (this.size !== 1) {
      throw new Error(
        `itemSync: tensor #${this.id} has shape ${fmtShape(this.shape)}, not one element`,
      );
    }
    return this.toArraySync()[0];
  }

  /** Backpropagates from this tensor; a non-scalar needs a seed gradient of its shape. */
  backward(seed?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    backward(this, seed, opts);
  }

  /** Marks this leaf as trainable (or not); returns it for chaining. */
  requireGrad(on = true): this {
    if (on && this.node) {
      throw new Error(
        `requireGrad: tensor #${this.id} was produced by '${this.node.op}'; only leaves can ` +
          `require grad (detach() it first)`,
      );
    }
    this.requiresGrad = on;
    return this;
  }

  /** Drops this tensor's accumulated gradient. */
  zeroGrad(): void {
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** A short description for logs. */
  toString(): string {
    return `Tensor#${this.id}${fmtShape(this.shape)}@${this.backend.name}`;
  }
}
