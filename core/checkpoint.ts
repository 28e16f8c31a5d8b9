/**
 * Gradient checkpointing (activation recomputation): `checkpoint(fn, ...inputs)` keeps only the
 * inputs and the output of `fn` on the tape; its intermediates are freed at once and recomputed
 * during the backward pass, with the random generators rewound so dropout draws the same masks.
 * Gradients equal the plain path's: the recomputation runs the same kernels on the same values,
 * then backpropagates through them with the upstream gradient.
 *
 * What `fn` uses from outside besides its inputs (a block's parameters, or a mask, position bias
 * or encoder keys computed earlier with a tape of their own) is found by following the tape of
 * the forward run, so `fn` may close over any module or tensor; those tensors become inputs of
 * the checkpoint node, and the recomputation's backward ends at them and hands their gradients
 * to the outer pass, as the plain path's nodes do.
 *
 * @module
 */

import { backwardTo } from "./autograd.ts";
import { engine, noGrad, registerGrad, tidy } from "./engine.ts";
import { defaultGenerator, type Generator, type GeneratorState } from "./random.ts";
import { nextTensorId, Tensor } from "./tensor.ts";
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
  const firstInside = nextTensorId();
  // The forward run records its own tape, which is only read for what it captured from outside
  // and then dropped with the intermediates; the recomputation rebuilds it.
  const { out, captured } = tidy(() => {
    const y = checked(fn(...inputs));
    return { out: y, captured: capturedTensors(y, inputs, firstInside) };
  });
  if (!out.node) return out;
  const node: TapeNode = {
    op: "checkpoint",
    inputs: [...inputs, ...captured],
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

/**
 * Tensors made before the checkpoint (id below `firstInside`) that `y`'s tape reaches and that
 * gradients flow to, other than `inputs`: parameters, and earlier results with a tape of their own.
 */
function capturedTensors(y: Tensor, inputs: readonly Tensor[], firstInside: number): Tensor[] {
  const found = new Set<Tensor>();
  const seen = new Set<TapeNode>();
  const stack = y.node ? [y.node] : [];
  const given = new Set(inputs);
  while (stack.length) {
    const n = stack.pop()!;
    for (const x of n.inputs) {
      if (given.has(x)) continue;
      if (x.id < firstInside) {
        if (x.requiresGrad || x.node) found.add(x);
      } else if (x.node && !seen.has(x.node)) {
        seen.add(x.node);
        stack.push(x.node);
      }
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
      if (!y.node && !y.requiresGrad) return node.inputs.map(() => null);
      // The recomputed tape ends at the fresh inputs and at captured results of the outer tape;
      // their gradients leave with the rule's result for the outer pass to carry on. Captured
      // leaves (parameters) take theirs into `.grad` here, as soon as each block is done.
      const captured = node.inputs.slice(r.inputs);
      const ends = [...xs, ...captured.filter((x) => x.node !== null)];
      const ended = backwardTo(y, dy!, new Set(ends));
      return [...xs, ...captured].map((x) => ended.get(x) ?? null);
    });
    return grads;
  } finally {
    engine.gradEnabled = before;
    r.generators.forEach((g, i) => g.setState(now[i]));
  }
});
