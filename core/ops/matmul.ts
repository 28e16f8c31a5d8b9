/** Batched matrix multiply with optionally transposed operands. */

import { engine, registerGrad } from "../engine.ts";
import { broadcastShapes, fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { expand, reshape, sumTo } from "./shape.ts";

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Use the transpose of the last two axes of `a`. */
  transA?: boolean;
  /** Use the transpose of the last two axes of `b`. */
  transB?: boolean;
}

/**
 * `op(a) @ op(b)` over the last two axes, with batch axes broadcast.
 * `a` is [..., m, k] (or [..., k, m] with transA), `b` is [..., k, n] (or [..., n, k] with transB).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  a.assertLive("matmul");
  b.assertLive("matmul");
  const transA = !!opts.transA, transB = !!opts.transB;
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(
      `matmul: operands need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const [m, k] = transA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : a.shape.slice(-2);
  const [k2, n] = transB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : b.shape.slice(-2);
  if (k !== k2) {
    throw new Error(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? "ᵀ" : ""} @ ` +
        `${fmtShape(b.shape)}${transB ? "ᵀ" : ""} (${k} vs ${k2})`,
    );
  }
  // A shared 2-D right operand needs no batch copies: fold a's batch axes into its rows.
  if (b.rank === 2 && a.rank > 2 && !transA) {
    const flat = reshape(a, [-1, k]);
    const y =
      engine.run("matmul", [flat, b], { transA, transB }, { outShapes: [[flat.shape[0], n]] })[0];
    return reshape(y, [...a.shape.slice(0, -2), m, n]);
  }
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ea = expandBatch(a, batch), eb = b.rank === 2 ? b : expandBatch(b, batch);
  return engine.run("matmul", [ea, eb], { transA, transB }, { outShapes: [[...batch, m, n]] })[0];
}

function expandBatch(x: Tensor, batch: number[]): Tensor {
  const target = [...batch, ...x.shape.slice(-2)];
  return x.rank === target.length && x.shape.every((d, i) => d === target[i])
    ? x
    : expand(x, target);
}

registerGrad("matmul", ([dy], node) => {
  const [a, b] = node.inputs;
  const { transA, transB } = node.attrs as { transA: boolean; transB: boolean };
  const g = dy!;
  const wants = (t: Tensor) => t.requiresGrad || t.node !== null;
  // dA = dY·op(B)ᵀ (or its transpose), dB = op(A)ᵀ·dY (or its transpose).
  const da = !wants(a)
    ? null
    : transA
    ? matmul(b, g, { transA: transB, transB: true })
    : matmul(g, b, { transB: !transB });
  let db: Tensor | null = null;
  if (wants(b)) {
    if (b.rank === 2 && a.rank > 2 && !transA) {
      const a2 = reshape(a, [-1, a.shape[a.rank - 1]]);
      const g2 = reshape(g, [-1, g.shape[g.rank - 1]]);
      db = transB ? matmul(g2, a2, { transA: true }) : matmul(a2, g2, { transA: true });
    } else {
      db = transB
        ? matmul(g, a, { transA: true, transB: transA })
        : matmul(a, g, { transA: !transA });
      db = sumTo(db, b.shape);
    }
  }
  return [da && sumTo(da, a.shape), db];
});
