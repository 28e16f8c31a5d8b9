/**
 * The reference model of KL-regularised training, in one type for every trainer: a separate
 * frozen model, the policy with its LoRA adapters switched off, a frozen copy of the policy's
 * trainable weights taken before training (TRL's `create_reference_model`), or the policy as it
 * is now (valid until its first update: DPO precomputes reference log-probs from it).
 * Precomputed log-probs are a cache filled from one of these.
 *
 * @module
 */

import { add, keep, noGrad, type Tensor } from "../../core/mod.ts";
import { assign } from "../../core/nn/assign.ts";
import { type LogitsModel, tokenLogprobs, type TokenLogprobsOptions } from "./rollout.ts";

/** Something that can switch a model's adapters off for a call (a LoRA handle). */
export interface AdapterSwitch {
  /** Runs `fn` with the adapters off. */
  withAdaptersDisabled<T>(fn: () => T): T;
}

/** How a {@link Reference} computes. */
export type ReferenceKind = "model" | "adapters" | "copy" | "initial";

/** A model with parameters, whose trainable ones a frozen copy snapshots. */
export interface ParameterizedModel extends LogitsModel {
  /** Its parameters; those with `requiresGrad` change in training. */
  parameters(): Tensor[];
}

/**
 * The reference π_ref. `run(fn)` hands `fn` a model that computes π_ref; `logprobs` is the
 * log-prob step on it, without gradients.
 *
 * @example
 * ```ts
 * import { Reference } from "@tether/rlhf/common";
 * import { tensor } from "@tether/rlhf/core";
 * import { loadCausalLM } from "@tether/rlhf/models";
 *
 * const policy = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * // A full fine-tune keeps a frozen copy; with LoRA, Reference.adaptersOff(policy, lora).
 * const ref = Reference.frozenCopy(policy);
 * const refLogps = ref.logprobs(tensor([[5, 9, 17]]), tensor([[1, 1, 1]]));
 * console.log(ref.kind, refLogps.shape); // copy [1, 2]
 * ref.dispose();
 * ```
 */
export class Reference<M extends LogitsModel = LogitsModel> {
  readonly #run: <T>(fn: (model: M) => T) => T;
  readonly #dispose: () => void;

  private constructor(
    /** Which of the four it is. */
    readonly kind: ReferenceKind,
    run: <T>(fn: (model: M) => T) => T,
    dispose: () => void = () => {},
  ) {
    this.#run = run;
    this.#dispose = dispose;
  }

  /**
   * A separate frozen model (in eval mode whenever it runs).
   *
   * @param model The reference model.
   */
  static model<M extends LogitsModel>(model: M): Reference<M> {
    return new Reference("model", (fn) => {
      (model as { eval?: () => unknown }).eval?.();
      return fn(model);
    });
  }

  /**
   * The policy with its LoRA adapters off: the frozen base, with no second copy of the weights.
   *
   * @param policy The policy (adapters inside).
   * @param adapters The handle that switches them (e.g. `applyLora`'s result).
   */
  static adaptersOff<M extends LogitsModel>(policy: M, adapters: AdapterSwitch): Reference<M> {
    return new Reference("adapters", (fn) => adapters.withAdaptersDisabled(() => fn(policy)));
  }

  /**
   * A frozen copy of the policy as it is now (TRL's `create_reference_model` for a full
   * fine-tune): the trainable weights are copied once; while the reference runs they are
   * swapped into the policy and swapped back afterwards (also when `fn` throws or its promise
   * rejects), so the copy costs one set of trainable weights, as a deep copy does. The policy's
   * train/eval mode is left as it is.
   *
   * @param policy The policy, before its first update.
   */
  static frozenCopy<M extends ParameterizedModel>(policy: M): Reference<M> {
    const params = policy.parameters().filter((p) => p.requiresGrad);
    const frozen = noGrad(() => params.map((p) => keep(add(p, 0))));
    const swapIn = (): Tensor[] =>
      noGrad(() => {
        const live = params.map((p) => keep(add(p, 0)));
        params.forEach((p, i) => assign(p, frozen[i], `frozen reference '${p.name ?? i}'`));
        return live;
      });
    const swapBack = (live: Tensor[]) => {
      noGrad(() => params.forEach((p, i) => assign(p, live[i], `policy '${p.name ?? i}'`)));
      for (const t of live) t.dispose();
    };
    return new Reference("copy", (fn) => {
      const live = swapIn();
      let result;
      try {
        result = fn(policy);
      } catch (error) {
        swapBack(live);
        throw error;
      }
      if (result instanceof Promise) {
        return result.finally(() => swapBack(live)) as typeof result;
      }
      swapBack(live);
      return result;
    }, () => {
      for (const t of frozen) t.dispose();
    });
  }

  /**
   * The policy as it is: its own reference only until its first update (DPO's precomputed
   * reference log-probs are taken this way, before training).
   *
   * @param policy The untrained policy.
   */
  static initial<M extends LogitsModel>(policy: M): Reference<M> {
    return new Reference("initial", (fn) => fn(policy));
  }

  /**
   * Run `fn` on a model that computes π_ref (the policy's adapters stay off, or its weights
   * stay swapped, until a returned promise settles).
   *
   * @param fn Work on the reference model.
   */
  run<T>(fn: (model: M) => T): T {
    return this.#run(fn);
  }

  /**
   * log π_ref of each next token of padded rows, [B, L−1], without gradients.
   *
   * @param inputIds Token ids [B, L].
   * @param attentionMask Attention mask [B, L].
   * @param options Temperature.
   */
  logprobs(inputIds: Tensor, attentionMask: Tensor, options: TokenLogprobsOptions = {}): Tensor {
    return noGrad(() =>
      this.#run((m) => tokenLogprobs(m, inputIds, attentionMask, options).logprobs)
    );
  }

  /** Frees a frozen copy's weights (nothing to free for the other kinds). */
  dispose(): void {
    this.#dispose();
  }
}

/** Where a trainer's reference can come from. */
export interface ReferenceParts<M> {
  /** A separate frozen reference model. */
  refModel?: M;
  /** The policy's LoRA handle: adapters off = the reference. */
  adapters?: AdapterSwitch;
}

/**
 * The reference a trainer uses, in TRL's order: `refModel` when given; else the policy with
 * its adapters off (`adapters`, or the policy's own `withAdaptersDisabled`); else a frozen copy
 * of the policy's trainable weights.
 *
 * @param policy The policy.
 * @param parts `refModel` and `adapters`, as the trainer was given them.
 */
export function resolveReference<M extends ParameterizedModel>(
  policy: M,
  parts: ReferenceParts<M>,
): Reference<M> {
  if (parts.refModel) return Reference.model(parts.refModel);
  const own = policy as { withAdaptersDisabled?: AdapterSwitch["withAdaptersDisabled"] };
  const adapters = parts.adapters ??
    (typeof own.withAdaptersDisabled === "function"
      ? { withAdaptersDisabled: <T>(fn: () => T) => own.withAdaptersDisabled!(fn) }
      : undefined);
  if (adapters) return Reference.adaptersOff(policy, adapters);
  return Reference.frozenCopy(policy);
}
