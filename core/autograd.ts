/** Reverse-mode differentiation over the tape: iterative topological order, one rule table. */

import { engine, findGrad, noGrad } from "./engine.ts";
import { fmtShape, shapesEqual } from "./shape.ts";
import type { TapeNode, Tensor } from "./tensor.ts";

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the tape after the pass so a second backward through it works. */
  retainGraph?: boolean;
}

/**
 * Accumulates d(root)/d(leaf) into `leaf.grad` for every leaf that requires grad.
 * Gradients add up across calls, as in PyTorch, until `zeroGrad()`.
 */
export function backward(root: Tensor, seed?: Tensor, opts: BackwardOptions = {}): void {
  backwardPass(root, seed, opts, null);
}

/**
 * A backward pass that ends at `boundary`: gradients reaching those tensors are returned (kept
 * out of scopes) instead of propagating past them or accumulating into `.grad`. Gradient
 * checkpointing's recomputation ends at its block's inputs and at what the block captured from
 * outside (parameters, a mask or position bias made earlier), whose tape belongs to the outer pass.
 */
export function backwardTo(
  root: Tensor,
  seed: Tensor,
  boundary: ReadonlySet<Tensor>,
): Map<Tensor, Tensor> {
  return backwardPass(root, seed, {}, boundary);
}

function backwardPass(
  root: Tensor,
  seed: Tensor | undefined,
  opts: BackwardOptions,
  boundary: ReadonlySet<Tensor> | null,
): Map<Tensor, Tensor> {
  root.assertLive("backward");
  if (!seed && root.size !== 1) {
    throw new Error(
      `backward: tensor #${root.id} has shape ${fmtShape(root.shape)}; a non-scalar needs a ` +
        `seed gradient of the same shape: t.backward(seedTensor)`,
    );
  }
  if (seed && !shapesEqual(seed.shape, root.shape)) {
    throw new Error(
      `backward: seed shape ${fmtShape(seed.shape)} does not match tensor shape ` +
        `${fmtShape(root.shape)}`,
    );
  }
  if (!root.node && freedGraphs.has(root)) {
    throw new Error(
      `backward: the graph behind tensor #${root.id} was already freed by an earlier backward(); ` +
        `pass { retainGraph: true } to the first call to backpropagate through it twice`,
    );
  }
  if (!root.node && !root.requiresGrad) {
    throw new Error(
      `backward: tensor #${root.id} does not require grad and was not produced by a recorded op ` +
        `(was it computed under noGrad(), or from inputs that do not require grad?)`,
    );
  }
  if (!seed && root.backend.readSync) {
    const v = root.itemSync();
    if (!Number.isFinite(v)) {
      throw new Error(
        `backward: the loss is ${v}${root.node ? ` (produced by op '${root.node.op}')` : ""}; ` +
          `refusing to backpropagate a non-finite value`,
      );
    }
  }

  const order = topoOrder(root, boundary);
  // Gradients at the boundary leave the scope as its result (the caller's scope owns them).
  const ended = engine.tidy(() =>
    noGrad(() => {
      const grads = new Map<Tensor, Tensor>();
      const atBoundary: [Tensor, Tensor][] = [];
      grads.set(root, seed ?? onesLike(root));
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i];
        const dys = node.outputs.map((o) => grads.get(o) ?? null);
        if (dys.every((d) => d === null)) continue;
        const rule = findGrad(node.op);
        if (!rule) throw new Error(`backward: op '${node.op}' has no gradient rule`);
        for (const t of node.inputs) t.assertLive(`backward of '${node.op}' (saved input)`);
        for (const t of node.saved) t.assertLive(`backward of '${node.op}' (saved tensor)`);
        const dxs = rule(dys, node);
        const claimed = new Set<Tensor>();
        for (let j = 0; j < node.inputs.length; j++) {
          const x = node.inputs[j];
          let dx = dxs[j];
          if (!dx || !(x.requiresGrad || x.node)) continue;
          if (!shapesEqual(dx.shape, x.shape)) {
            throw new Error(
              `backward of '${node.op}': gradient for input ${j} has shape ${
                fmtShape(dx.shape)
              }, ` +
                `expected ${fmtShape(x.shape)}`,
            );
          }
          // Rules may pass dy straight through or hand one tensor to several inputs, while each
          // gradient slot is disposed on its own: give every slot its own handle on the storage.
          if (claimed.has(dx) || dys.includes(dx)) dx = alias(dx);
          claimed.add(dx);
          const prev = grads.get(x);
          grads.set(x, prev ? accumulate(prev, dx) : dx);
        }
        for (const o of node.outputs) {
          const g = grads.get(o);
          if (g && g !== seed) g.dispose();
          grads.delete(o);
        }
        if (!opts.retainGraph) release(node);
      }
      for (const [x, g] of grads) {
        if (boundary?.has(x)) {
          atBoundary.push([x, g]);
          continue;
        }
        if (!x.requiresGrad || x.node) continue;
        const total = x.grad ? accumulate(x.grad, g) : g;
        engine.keep(total);
        x.grad = total;
      }
      return atBoundary;
    })
  );
  return new Map(ended);
}

function accumulate(a: Tensor, b: Tensor): Tensor {
  const sum = engine.run("add", [a, b], {}, { outShapes: [a.shape] })[0];
  a.dispose();
  b.dispose();
  return sum;
}

/** Another handle on `t`'s storage (no tape node: backward runs with recording off). */
function alias(t: Tensor): Tensor {
  return engine.view("alias", t, t.shape, t.strides, t.offset, {});
}

function onesLike(t: Tensor): Tensor {
  return engine.fromValues(new Float32Array(t.size).fill(1), t.shape, t.backend.name);
}

/** Nodes reachable from root, each after all nodes it depends on (inputs first). */
function topoOrder(root: Tensor, boundary: ReadonlySet<Tensor> | null): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  if (!root.node) return order;
  const stack: [TapeNode, number][] = [[root.node, 0]];
  seen.add(root.node);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i].node;
      if (child && !seen.has(child) && !boundary?.has(node.inputs[i])) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

/** Tensors whose tape node a backward pass released (for a clear error on a second pass). */
const freedGraphs = new WeakSet<Tensor>();

function release(node: TapeNode): void {
  for (const o of node.outputs) {
    if (o.node === node) {
      o.node = null;
      freedGraphs.add(o);
    }
  }
  for (const s of node.saved) s.dispose();
}
