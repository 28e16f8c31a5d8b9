/**
 * `Module`: the base of every layer and model. It owns named parameters (kept, trainable
 * tensors), buffers and child modules, and gives them the dotted names Hugging Face checkpoints
 * use (`transformer.h.0.attn.c_attn.weight`), so a state dict maps onto a checkpoint one to one.
 */

import { keep } from "../engine.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { assign } from "./assign.ts";

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true); false ignores missing and extra keys. */
  strict?: boolean;
}

/** What `loadStateDict` did not match (empty lists under `strict`, which throws otherwise). */
export interface LoadStateDictResult {
  /** Names this module has but the state dict lacks. */
  missingKeys: string[];
  /** Names the state dict has but this module lacks. */
  unexpectedKeys: string[];
}

/** A state dict: dotted names to tensors, as a Map or a plain object. */
export type StateDictInput = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/**
 * Base class of layers and models. Subclasses register parameters and children in their
 * constructor and define their own `forward`.
 *
 * Order (as torch): a module's own parameters in registration order, then each child's,
 * depth first. A tensor registered under two names (tied weights) is listed once by
 * `namedParameters()` and under both names by `stateDict()`.
 */
export class Module {
  /** Training mode (dropout active); set with `train()` / `eval()`. */
  training = true;
  /**
   * Recompute this block's activations in the backward pass instead of keeping them (honoured
   * by models that run their blocks through `runBlock`); set with
   * `gradientCheckpointingEnable()`.
   */
  gradientCheckpointing = false;
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  #children = new Map<string, Module>();
  #prefix = "";

  /**
   * Registers `t` as the trainable parameter `name`: it is kept out of scopes, requires grad
   * and is named with its full dotted name. Returns `t`.
   */
  registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName("registerParameter", name);
    t.assertLive(`registerParameter '${name}'`);
    if (t.node) {
      throw new Error(
        `registerParameter '${name}': tensor #${t.id} was produced by op '${t.node.op}'; ` +
          `parameters must be leaves`,
      );
    }
    keep(t);
    t.requiresGrad = true;
    // A tied weight keeps the name of its first owner.
    t.name ??= this.#prefix + name;
    this.#params.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor (kept); `persistent` buffers appear in `stateDict()`. */
  registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.#checkName("registerBuffer", name);
    keep(t);
    t.name ??= this.#prefix + name;
    this.#buffers.set(name, { tensor: t, persistent });
    return t;
  }

  /** Registers `child` under `name`; its parameters become `name.<their names>`. */
  registerModule<M extends Module>(name: string, child: M): M {
    this.#checkName("registerModule", name);
    if (!(child instanceof Module)) {
      throw new Error(`registerModule '${name}': expected a Module, got ${typeof child}`);
    }
    this.#children.set(name, child);
    child.#rename(this.#prefix + name + ".");
    return child;
  }

  #checkName(what: string, name: string): void {
    if (!name || name.includes(".")) {
      throw new Error(`${what}: name '${name}' must be non-empty and contain no '.'`);
    }
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`${what}: '${name}' is already registered on ${this.constructor.name}`);
    }
  }

  #rename(prefix: string): void {
    const old = this.#prefix;
    this.#prefix = prefix;
    for (const [n, t] of this.#params) if (t.name === old + n) t.name = prefix + n;
    for (const [n, b] of this.#buffers) if (b.tensor.name === old + n) b.tensor.name = prefix + n;
    for (const [n, c] of this.#children) c.#rename(prefix + n + ".");
  }

  /** The direct children, by name. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and every descendant with its dotted name ("" for this one), depth first. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.#children) {
      out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    }
    return out;
  }

  /** `[dottedName, parameter]` pairs, each tensor once (see the class notes for the order). */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.#allParams()) {
      if (seen.has(t)) continue;
      seen.add(t);
      out.push([name, t]);
    }
    return out;
  }

  #allParams(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of m.#params) out.push([prefix ? `${prefix}.${n}` : n, t]);
    }
    return out;
  }

  /** The parameters, each once, in `namedParameters()` order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** `[dottedName, buffer]` pairs of every buffer, persistent or not. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, b] of m.#buffers) out.push([prefix ? `${prefix}.${n}` : n, b.tensor]);
    }
    return out;
  }

  /**
   * Dotted names to the live parameter and persistent buffer tensors (not copies; do not
   * dispose them). Tied weights appear under every name, as in torch.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      const full = (n: string) => (prefix ? `${prefix}.${n}` : n);
      for (const [n, t] of m.#params) out.set(full(n), t);
      for (const [n, b] of m.#buffers) if (b.persistent) out.set(full(n), b.tensor);
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers in place (they keep
   * their identity, so optimizers holding them stay valid). Shapes must match. With `strict`
   * (default) missing or unexpected keys are an error naming them; nothing is changed unless
   * every check passes.
   */
  loadStateDict(state: StateDictInput, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const entries: [string, Tensor][] = state instanceof Map
      ? [...state]
      : Object.entries(state as Record<string, Tensor>);
    const given = new Map(entries);
    const mine = this.stateDict();
    const missingKeys = [...mine.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !mine.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys: ${list(missingKeys)}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${list(unexpectedKeys)}`);
    const mismatched: string[] = [];
    for (const [k, dst] of mine) {
      const src = given.get(k);
      if (!src) continue;
      if (!(src instanceof Tensor)) {
        mismatched.push(`'${k}' is ${typeof src}, not a Tensor`);
      } else if (!shapesEqual(src.shape, dst.shape)) {
        mismatched.push(
          `'${k}': checkpoint ${fmtShape(src.shape)}, model ${fmtShape(dst.shape)}`,
        );
      }
    }
    if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join("; ")}`);
    if (problems.length) {
      throw new Error(`loadStateDict (${this.constructor.name}): ${problems.join(". ")}`);
    }
    for (const [k, dst] of mine) {
      const src = given.get(k);
      if (src) assign(dst, src, `loadStateDict '${k}'`);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and all descendants; returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode (`train(false)`); returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Turns gradient checkpointing on (or off) for this module and all descendants: blocks run
   * through `runBlock` keep only their inputs for the backward pass and recompute the rest
   * (transformers' `gradient_checkpointing_enable()`). Returns this.
   */
  gradientCheckpointingEnable(on = true): this {
    for (const [, m] of this.namedModules()) m.gradientCheckpointing = on;
    return this;
  }

  /** Drops the gradients of all parameters. */
  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /** Number of trainable values (tied weights counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, t] of this.#allParams()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }

  /** Lets `using model = ...` free the weights at the end of a block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

function list(keys: string[]): string {
  const shown = keys.slice(0, 20).map((k) => `'${k}'`).join(", ");
  return keys.length > 20 ? `${shown}, ... (${keys.length} in all)` : shown;
}
