/**
 * The optimizer base: parameter groups with their own hyperparameters (as torch.optim), lazily
 * created per-parameter state, `zeroGrad`, and state dicts that let a checkpoint resume.
 */

import { keep } from "../engine.ts";
import { zeros } from "../ops/create.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { assign } from "../nn/assign.ts";
import { checkGrad, describe } from "./update_op.ts";

/** Hyperparameters of one group (numbers, booleans, or small tuples such as betas). */
export type Hyperparams = Record<string, unknown>;

/** A group of parameters sharing hyperparameters; schedulers change `lr` here. */
export type ParamGroup<H extends Hyperparams> = H & { params: Tensor[] };

/** A group as given to a constructor: hyperparameters left out take the optimizer's defaults. */
export type ParamGroupInput<H extends Hyperparams> = Partial<H> & { params: Iterable<Tensor> };

/** What optimizers accept: a list of parameters, or a list of groups. */
export type ParamsInput<H extends Hyperparams> =
  | Iterable<Tensor>
  | readonly ParamGroupInput<H>[];

/** Per-parameter state: how many updates it has had and its named buffers (moments, momentum). */
export interface ParamState {
  /** Updates applied to this parameter. */
  step: number;
  /** Named state buffers, kept tensors shaped like the parameter. */
  buffers: Record<string, Tensor>;
}

/**
 * A snapshot of an optimizer, torch-style: parameters are referred to by their index in group
 * order. The buffers are the optimizer's live tensors (not copies): serialize them before the
 * next step, and do not dispose them.
 */
export interface OptimizerStateDict<H extends Hyperparams = Hyperparams> {
  /** State of the parameters that have been updated, by parameter index. */
  state: Map<number, ParamState>;
  /** Hyperparameters of each group and the indices of its parameters. */
  paramGroups: (H & { params: number[] })[];
}

/** Base class of the optimizers: subclasses implement `update` for one parameter. */
export abstract class Optimizer<H extends Hyperparams> {
  /** Parameter groups, in the order given. */
  readonly paramGroups: ParamGroup<H>[];
  /** Hyperparameters used where a group does not set its own. */
  readonly defaults: Readonly<H>;
  #state = new Map<Tensor, ParamState>();

  /** `name` is used in error messages (`AdamW`, `SGD`, ...). */
  constructor(readonly name: string, params: ParamsInput<H>, defaults: H) {
    this.defaults = { ...defaults };
    const groups = toGroups(name, params);
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      const { params: list, ...overrides } = g;
      const ps = [...list];
      for (const p of ps) {
        if (!(p instanceof Tensor)) {
          throw new Error(`${name}: group ${gi} holds ${typeof p}, not a Tensor parameter`);
        }
        p.assertLive(name);
        if (p.node) {
          throw new Error(
            `${name}: ${describe(p)} was produced by op '${p.node.op}'; optimizers update leaf ` +
              `tensors only (parameters created with requiresGrad)`,
          );
        }
        if (seen.has(p)) {
          throw new Error(`${name}: ${describe(p)} appears more than once in the parameter list`);
        }
        seen.add(p);
      }
      const group = { ...this.defaults, ...overrides, params: ps } as ParamGroup<H>;
      this.validate(group, gi);
      return group;
    });
    if (seen.size === 0) throw new Error(`${name}: got an empty parameter list`);
  }

  /** Checks a group's hyperparameters; throws naming the field and the bad value. */
  protected abstract validate(group: ParamGroup<H>, index: number): void;

  /** Applies one update to `param` from `grad`; `state.step` is already incremented. */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    group: ParamGroup<H>,
  ): void;

  /** Updates every parameter that has a gradient (those without one are skipped, as in torch). */
  step(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        p.assertLive(`${this.name}.step`);
        checkGrad(`${this.name}.step`, p, p.grad);
        let state = this.#state.get(p);
        if (!state) {
          state = { step: 0, buffers: {} };
          this.#state.set(p, state);
        }
        state.step++;
        this.update(p, p.grad, state, group);
      }
    }
  }

  /** Drops (disposes) the gradients of all parameters. */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.zeroGrad();
  }

  /** The state of `param`, once it has been updated. */
  stateOf(param: Tensor): ParamState | undefined {
    return this.#state.get(param);
  }

  /** A zero-filled state buffer shaped and placed like `param`, kept out of scopes. */
  protected newBuffer(param: Tensor, name: string): Tensor {
    const t = keep(zeros(param.shape, { backend: param.backend.name }));
    t.name = param.name ? `${param.name}.${name}` : name;
    return t;
  }

  /** Every parameter in group order (the indices state dicts use). */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The optimizer's state, for checkpoints (see `OptimizerStateDict`). */
  stateDict(): OptimizerStateDict<H> {
    const state = new Map<number, ParamState>();
    this.params().forEach((p, i) => {
      const s = this.#state.get(p);
      if (s) state.set(i, { step: s.step, buffers: { ...s.buffers } });
    });
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...hyper, params: params.map(() => next++) } as unknown as H & {
        params: number[];
      };
    });
    return { state, paramGroups };
  }

  /**
   * Restores a state dict: hyperparameters of each group, and each parameter's step and buffers
   * (copied into this optimizer's own tensors, so the source may be disposed afterwards).
   */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    const where = `${this.name}.loadStateDict`;
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${where}: the state has ${sd.paramGroups.length} parameter groups, this optimizer has ` +
          `${this.paramGroups.length}`,
      );
    }
    sd.paramGroups.forEach((g, i) => {
      for (const key of Object.keys(g)) {
        if (key !== "params" && !(key in this.paramGroups[i])) {
          throw new Error(
            `${where}: group ${i} was saved with hyperparameter '${key}', which ${this.name} ` +
              `does not have; was the state saved by another optimizer?`,
          );
        }
      }
      const mine = this.paramGroups[i].params.length;
      if (g.params.length !== mine) {
        throw new Error(
          `${where}: group ${i} has ${g.params.length} parameters in the state, ${mine} here`,
        );
      }
    });
    const params = this.params();
    for (const [i, s] of sd.state) {
      const p = params[i];
      if (!p) {
        throw new Error(`${where}: state for parameter index ${i}, but there are ${params.length}`);
      }
      // Check every shape before changing anything, so a bad state leaves this one intact.
      for (const [k, t] of Object.entries(s.buffers)) {
        if (!shapesEqual(t.shape, p.shape)) {
          throw new Error(
            `${where}: buffer '${k}' of ${describe(p)} (index ${i}) has shape ` +
              `${fmtShape(t.shape)}; was the state saved for a different model?`,
          );
        }
      }
    }
    sd.paramGroups.forEach((g, i) => {
      const { params: _indices, ...hyper } = g;
      Object.assign(this.paramGroups[i], hyper);
    });
    params.forEach((p, i) => {
      if (sd.state.has(i)) return;
      // A parameter the saved optimizer never updated starts fresh, as after torch's load.
      const stale = this.#state.get(p);
      if (stale) { for (const t of Object.values(stale.buffers)) t.dispose(); }
      this.#state.delete(p);
    });
    for (const [i, s] of sd.state) {
      const p = params[i];
      let mine = this.#state.get(p);
      if (!mine) {
        mine = { step: 0, buffers: {} };
        this.#state.set(p, mine);
      }
      mine.step = s.step;
      for (const [k, t] of Object.entries(s.buffers)) {
        mine.buffers[k] ??= this.newBuffer(p, k);
        assign(mine.buffers[k], t, `${where}: buffer '${k}' of ${describe(p)}`);
      }
    }
  }

  /** Frees the state buffers (the parameters belong to their module and are left alone). */
  dispose(): void {
    for (const s of this.#state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.#state.clear();
  }
}

function toGroups<H extends Hyperparams>(
  name: string,
  params: ParamsInput<H>,
): ParamGroupInput<H>[] {
  const list = [...(params as Iterable<unknown>)];
  if (list.length > 0 && !(list[0] instanceof Tensor)) {
    for (const [i, g] of list.entries()) {
      if (!g || typeof g !== "object" || !("params" in g)) {
        throw new Error(
          `${name}: parameter group ${i} must be an object with a 'params' list; got ${
            g instanceof Tensor ? "a Tensor among groups" : typeof g
          }`,
        );
      }
    }
    return list as ParamGroupInput<H>[];
  }
  return [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>];
}
