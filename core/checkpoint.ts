/**
 * Gradient checkpointing (activation recomputation): `checkpoint(fn, ...inputs)` keeps only the
 * inputs and the output of `fn` on the tape; its intermediates are freed at once and recomputed
 * during the backward pass, with the random generators rewound so dropout draws the same masks.
 * Gradients equal the plain path's: the recomputation runs the same kernels on the same values,
 * then backpropagates through them with the upstream gradient.
 *
 * The trainable tensors `fn` uses (a block's parameters) are found by following the tape of the
 * forward run, so `fn` may close over any module; their gradients accumulate into `.grad` during
 * the backward pass, as those of the plain path do.
 *
 * @module
 */

import { backward } from "./autograd.ts";
import { engine, noGrad, registerGrad, tidy } from "./engine.ts";
import { defaultGenerator, type Generator, type GeneratorState } from "./random.ts";
import { Tensor } from "./tensor.ts";
import type { TapeNode } from "./tensor.ts";

/** Options of `checkpointWith`. */
export interface CheckpointOptions {
  /**
   * Generators `fn` draws from besides the global one (a block's dropout generators): rewound
   * before the recomputation so it draws what the forward pass drew.
   */
  generators?: readonly Generator[];
}

interface Recompute {
  fn: (...xs: Tensor[]) => Tensor;
  inputs: number;
  generators: Generator[];
  states: GeneratorState[];
}

/** The recomputation data of each checkpoint node (functions stay out of the op's attrs). */
const recomputes = new WeakMap<TapeNode, Recompute>();

/**
 * Runs `fn(...inputs)`, keeping only its inputs and output for the backward pass; see the module
 * doc. Without gradient recording it simply runs `fn` in a scope that frees its intermediates.
 *
 * @example
 * ```ts
 * import { checkpoint, geluTanh, matmul, randn, sum, tidy } from "@tether/rlhf/core";
 * const w = randn([8, 8], { requiresGrad: true });
 * const x = randn([4, 8]);
 * tidy(() => sum(checkpoint((h) => geluTanh(matmul(h, w)), x)).backward());
 * console.log(w.grad!.shape); // [8, 8]
 * ```
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  return checkpointWith({}, fn, ...inputs);
}

/** `checkpoint` with options (the generators to rewind). */
export function checkpointWith(
  opts: CheckpointOptions,
  fn: (...xs: Tensor[]) => Tensor,
  ...inputs: Tensor[]
): Tensor {
  for (const [i, x] of inputs.entries()) {
    if (!(x instanceof Tensor)) throw new Error(`checkpoint: input ${i} is not a Tensor`);
    x.assertLive(`checkpoint (input ${i})`);
  }
  if (!engine.gradEnabled) return tidy(() => checked(fn(...inputs)));
  const generators = [defaultGenerator(), ...(opts.generators ?? [])].filter(
    (g, i, all) => all.indexOf(g) === i,
  );
  const states = generators.map((g) => g.getState());
  // The forward run records its own tape, which is only read for the trainable leaves it reached
  // and then dropped with the intermediates; the recomputation rebuilds it.
  const { out, leaves } = tidy(() => {
    const y = checked(fn(...inputs));
    return { out: y, leaves: trainableLeaves(y, inputs) };
  });
  if (!out.node) return out;
  const node: TapeNode = {
    op: "checkpoint",
    inputs: [...inputs, ...leaves],
    outputs: [out],
    attrs: {},
    saved: [],
  };
  recomputes.set(node, { fn, inputs: inputs.length, generators, states });
  out.node = node;
  return out;
}

function checked(y: unknown): Tensor {
  if (!(y instanceof Tensor)) {
    throw new Error("checkpoint: the function must return one Tensor (the block's output)");
  }
  return y;
}

/** Leaves requiring grad that `y`'s tape reaches, other than `inputs` (a block's parameters). */
function trainableLeaves(y: Tensor, inputs: readonly Tensor[]): Tensor[] {
  const found = new Set<Tensor>();
  const seen = new Set<TapeNode>();
  const stack = y.node ? [y.node] : [];
  const given = new Set(inputs);
  while (stack.length) {
    const n = stack.pop()!;
    for (const x of n.inputs) {
      if (given.has(x)) continue;
      if (x.node) {
        if (!seen.has(x.node)) {
          seen.add(x.node);
          stack.push(x.node);
        }
      } else if (x.requiresGrad) found.add(x);
    }
  }
  return [...found];
}

registerGrad("checkpoint", ([dy], node) => {
  const r = recomputes.get(node);
  if (!r) throw new Error("backward of 'checkpoint': the node lost its recomputation");
  const inputs = node.inputs.slice(0, r.inputs);
  const now = r.generators.map((g) => g.getState());
  r.generators.forEach((g, i) => g.setState(r.states[i]));
  const before = engine.gradEnabled;
  engine.gradEnabled = true;
  try {
    const grads = tidy(() => {
      // Fresh leaves over the same storage: the recomputed tape ends at them.
      const xs = inputs.map((x) =>
        noGrad(() => engine.view("detach", x, x.shape, x.strides, x.offset, {})).requireGrad(
          x.requiresGrad || x.node !== null,
        )
      );
      const y = checked(r.fn(...xs));
      if (y.node || y.requiresGrad) backward(y, dy!);
      // The inputs' gradients leave with the rule's result; disposing a leaf would free its grad.
      return xs.map((x) => {
        const g = x.grad;
        x.grad = null;
        return g;
      });
    });
    return [...grads, ...node.inputs.slice(r.inputs).map(() => null)];
  } finally {
    engine.gradEnabled = before;
    r.generators.forEach((g, i) => g.setState(now[i]));
  }
});
