/** Shape ops: views where the layout allows (reshape, permute, slice, expand), copies otherwise. */

import { engine, noGrad, registerGrad } from "../engine.ts";
import {
  broadcastShapes,
  checkShape,
  fmtShape,
  normalizeAxis,
  type Shape,
  shapesEqual,
  sizeOf,
  stridesOf,
} from "../shape.ts";
import { Tensor } from "../tensor.ts";

/** Reshape; one dimension may be -1. A view when `x` is contiguous. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  x.assertLive("reshape");
  const s = [...shape];
  const hole = s.indexOf(-1);
  if (hole >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== hole));
    if (rest === 0 || x.size % rest !== 0) {
      throw new Error(`reshape: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    }
    s[hole] = x.size / rest;
  }
  checkShape("reshape", s);
  if (sizeOf(s) !== x.size) {
    throw new Error(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`,
    );
  }
  if (shapesEqual(s, x.shape)) return identity(x);
  const src = x.isContiguous ? x : engine.contiguous(x);
  const attrs = { shape: x.shape };
  const out = engine.view("reshape", src, s, stridesOf(s), src.offset, attrs);
  if (src !== x) {
    // The copy only feeds the view; the tape must lead back to x.
    if (engine.willRecord([x])) {
      out.node = { op: "reshape", inputs: [x], outputs: [out], attrs, saved: [] };
    }
    src.dispose();
  }
  return out;
}

function identity(x: Tensor): Tensor {
  return engine.view("reshape", x, x.shape, x.strides, x.offset, { shape: x.shape });
}

registerGrad("reshape", ([dy], node) => [reshape(dy!, node.attrs.shape as number[])]);

/**
 * The same values with no link to the tape: a view sharing `x`'s storage that gradients do not
 * flow through, and a leaf that may `requireGrad()` on its own.
 */
export function detach(x: Tensor): Tensor {
  x.assertLive("detach");
  return noGrad(() => engine.view("detach", x, x.shape, x.strides, x.offset, {}));
}

/** Reorders dimensions (a view). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  x.assertLive("permute");
  if (
    perm.length !== x.rank ||
    new Set(perm.map((p) => normalizeAxis("permute", p, x.rank))).size !== x.rank
  ) {
    throw new Error(
      `permute: ${fmtShape(perm)} is not a permutation of the ${x.rank} axes of ${
        fmtShape(x.shape)
      }`,
    );
  }
  const p = perm.map((a) => normalizeAxis("permute", a, x.rank));
  return engine.view(
    "permute",
    x,
    p.map((a) => x.shape[a]),
    p.map((a) => x.strides[a]),
    x.offset,
    { perm: p },
  );
}

registerGrad("permute", ([dy], node) => {
  const perm = node.attrs.perm as number[];
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [permute(dy!, inv)];
});

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const i = normalizeAxis("transpose", a, x.rank), j = normalizeAxis("transpose", b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/**
 * A sub-block: `begin` and `size` per axis (size -1 means to the end). A view.
 * @example
 * ```ts
 * import { arange, reshape, slice } from "@tether/rlhf/core";
 * const x = reshape(arange(12), [2, 6]);
 * const cols = slice(x, [0, 2], [-1, 3]); // all rows, columns 2..4
 * console.log(cols.shape, await cols.toArray()); // [2, 3] [2, 3, 4, 8, 9, 10]
 * ```
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  x.assertLive("slice");
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(
      `slice: begin ${fmtShape(begin)} and size ${
        fmtShape(size)
      } must have one entry per axis of ` +
        `${fmtShape(x.shape)}`,
    );
  }
  const b = begin.map((v, i) => (v < 0 ? v + x.shape[i] : v));
  const s = size.map((v, i) => (v === -1 ? x.shape[i] - b[i] : v));
  for (let i = 0; i < x.rank; i++) {
    if (b[i] < 0 || s[i] < 0 || b[i] + s[i] > x.shape[i]) {
      throw new Error(
        `slice: axis ${i}: begin ${begin[i]} size ${size[i]} is outside ${fmtShape(x.shape)}`,
      );
    }
  }
  let offset = x.offset;
  for (let i = 0; i < x.rank; i++) offset += b[i] * x.strides[i];
  return engine.view("slice", x, s, x.strides, offset, { begin: b, inShape: x.shape });
}

registerGrad("slice", ([dy], node) => [
  engine.run("sliceGrad", [dy!], { begin: node.attrs.begin }, {
    outShapes: [node.attrs.inShape as number[]],
  })[0],
]);

/** Selects index `i` along `axis`, dropping that axis (a view). */
export function select(x: Tensor, axis: number, i: number): Tensor {
  const a = normalizeAxis("select", axis, x.rank);
  const begin = x.shape.map((_, d) => (d === a ? i : 0));
  const size = x.shape.map((n, d) => (d === a ? 1 : n));
  return squeeze(slice(x, begin, size), [a]);
}

/**
 * Every index along `axis` as its own view (torch.unbind): `[q, k, v] = unbind(qkv, 0)`. One
 * tape node for all of them, so the backward stacks their gradients once instead of writing each
 * into a zero tensor of the input's size and adding those up.
 */
export function unbind(x: Tensor, axis = 0): Tensor[] {
  x.assertLive("unbind");
  const a = normalizeAxis("unbind", axis, x.rank);
  const shape = x.shape.filter((_, d) => d !== a);
  const strides = x.strides.filter((_, d) => d !== a);
  const outs = noGrad(() =>
    Array.from(
      { length: x.shape[a] },
      (_, i) => engine.view("unbind", x, shape, strides, x.offset + i * x.strides[a], {}),
    )
  );
  engine.record("unbind", [x], outs, { axis: a });
  return outs;
}

registerGrad("unbind", (dys, node) => {
  const axis = node.attrs.axis as number;
  const like = node.outputs[0];
  // An output no gradient reached contributes zeros (the engine allocates zero-filled storage).
  const parts = dys.map((d) =>
    d ?? new Tensor(engine.allocStorage(like.backend.name, like.size), [...like.shape])
  );
  return [stack(parts, axis)];
});

/** Broadcasts to a larger shape without copying (stride 0 on broadcast axes). */
export function expand(x: Tensor, shape: Shape): Tensor {
  x.assertLive("expand");
  const target = broadcastShapes("expand", x.shape, shape);
  if (!shapesEqual(target, shape)) {
    throw new Error(`expand: ${fmtShape(x.shape)} cannot be expanded to ${fmtShape(shape)}`);
  }
  if (shapesEqual(x.shape, shape)) return identity(x);
  const lead = shape.length - x.rank;
  const strides = shape.map((_, i) => {
    const j = i - lead;
    return j < 0 || x.shape[j] === 1 ? 0 : x.strides[j];
  });
  return engine.view("expand", x, shape, strides, x.offset, { inShape: x.shape });
}

registerGrad("expand", ([dy], node) => [sumTo(dy!, node.attrs.inShape as number[])]);

/** Sums a broadcast result back to `shape` (the gradient of broadcasting). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  const summed = engine.run("sum", [x], { axes }, {
    outShapes: [x.shape.filter((_, i) => !axes.includes(i))],
  })[0];
  return reshape(summed, shape);
}

/** Removes size-1 axes (all of them, or the listed ones). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const drop = axes ? axes.map((a) => normalizeAxis("squeeze", a, x.rank)) : null;
  if (drop) {
    for (const a of drop) {
      if (x.shape[a] !== 1) {
        throw new Error(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
      }
    }
  }
  return reshape(x, x.shape.filter((d, i) => (drop ? !drop.includes(i) : d !== 1)));
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("unsqueeze", axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** A contiguous copy when `x` is a strided view; `x` itself (as a new handle) otherwise. */
export function contiguous(x: Tensor): Tensor {
  x.assertLive("contiguous");
  if (x.isContiguous) return identity(x);
  // One strided copy; going through engine.run would first copy the input to make it contiguous.
  const out = engine.contiguous(x);
  if (engine.willRecord([x])) {
    out.node = { op: "contiguous", inputs: [x], outputs: [out], attrs: {}, saved: [] };
  }
  return out;
}

registerGrad("contiguous", ([dy]) => [dy]);

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("concat: needs at least one tensor");
  const rank = xs[0].rank;
  const a = normalizeAxis("concat", axis, rank);
  const shape = [...xs[0].shape];
  shape[a] = 0;
  for (let i = 0; i < xs.length; i++) {
    const s = xs[i].shape;
    if (s.length !== rank || s.some((d, j) => j !== a && d !== xs[0].shape[j])) {
      throw new Error(
        `concat: tensor ${i} has shape ${fmtShape(s)}, incompatible with ${
          fmtShape(xs[0].shape)
        } along axis ${a}`,
      );
    }
    shape[a] += s[a];
  }
  return engine.run("concat", xs, { axis: a }, { outShapes: [shape] })[0];
}

registerGrad("concat", ([dy], node) => {
  const axis = node.attrs.axis as number;
  let start = 0;
  return node.inputs.map((x) => {
    const begin = x.shape.map((_, i) => (i === axis ? start : 0));
    start += x.shape[axis];
    return contiguous(slice(dy!, begin, x.shape));
  });
});

/** Stacks same-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("stack: needs at least one tensor");
  return concat(xs.map((x) => unsqueeze(x, axis)), axis);
}
