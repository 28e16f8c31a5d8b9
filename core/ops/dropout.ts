/** Dropout with a mask drawn from a seeded Generator, so the same seed drops the same units. */

import { engine, noGrad, registerGrad } from "../engine.ts";
import { defaultGenerator, type Generator } from "../random.ts";
import type { Tensor } from "../tensor.ts";
import { tensor, zeros } from "./create.ts";
import { mul } from "./elementwise.ts";
import { reshape } from "./shape.ts";

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Apply dropout (default true); false returns the input unchanged, as in eval mode. */
  training?: boolean;
  /** Source of the mask (default: the global generator of `manualSeed`). */
  generator?: Generator;
}

/**
 * Zeroes each element with probability `p` and scales the survivors by 1/(1 − p) (inverted
 * dropout, as `F.dropout`). When not training or when p = 0 it returns a view of `x`; the
 * gradient is dy times the same mask.
 */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  x.assertLive("dropout");
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  if (opts.training === false || p === 0) return reshape(x, x.shape);
  const backend = x.backend.name;
  const mask = p === 1
    ? zeros(x.shape, { backend })
    : tensor((opts.generator ?? defaultGenerator()).dropoutMask(x.size, p), x.shape, { backend });
  const y = noGrad(() => mul(x, mask));
  // The mask is saved on the node (not an input) so the tape frees it after the backward.
  if (engine.willRecord([x])) {
    y.node = { op: "dropout", inputs: [x], outputs: [y], attrs: { p }, saved: [mask] };
  } else mask.dispose();
  return y;
}

registerGrad("dropout", ([dy], node) => [mul(dy!, node.saved[0])]);
