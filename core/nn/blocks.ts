/**
 * How a model runs its repeated blocks (transformer layers): `runBlock` frees a block's
 * intermediates as soon as it returns when nothing is recorded (inference keeps one block's
 * activations, not every block's), and recomputes them in the backward pass when the block has
 * gradient checkpointing on (`Module.gradientCheckpointingEnable()`, transformers'
 * `gradient_checkpointing_enable()` and TRL's `gradient_checkpointing=True`). Any architecture
 * gets both by calling its blocks through it.
 *
 * @module
 */

import { checkpointWith } from "../checkpoint.ts";
import { isGradEnabled, tidy } from "../engine.ts";
import { defaultGenerator, type Generator } from "../random.ts";
import { Tensor } from "../tensor.ts";
import { Dropout } from "./dropout.ts";
import type { Module } from "./module.ts";

/** The generators of `block`'s dropout layers (rewound when the block is recomputed). */
export function dropoutGenerators(block: Module): Generator[] {
  const out = new Set<Generator>();
  for (const [, m] of block.namedModules()) {
    if (m instanceof Dropout) out.add(m.generator ?? defaultGenerator());
  }
  return [...out];
}

/**
 * Runs `fn` in a scope that frees what it made (except its result) when nothing is recorded,
 * plainly otherwise: inside a block, a sub-layer's intermediates (attention's heads, the MLP's
 * expansion) go as soon as the sub-layer returns instead of when the block does.
 */
export function inferenceScope<T>(fn: () => T): T {
  return isGradEnabled() ? fn() : tidy(fn);
}

/** A block's result: its output tensor, or an object whose `out` is (other fields are extras). */
export type BlockResult = Tensor | { out: Tensor };

/** Options of `runBlock`. */
export interface RunBlockOptions {
  /**
   * `x` is the model's own intermediate, used by nothing after this block: free it once the
   * block has run when nothing is recorded (default false).
   */
  consumeInput?: boolean;
}

/**
 * Runs `fn(x)` as block `block` of a model:
 * - nothing recorded (inference, `noGrad`): in a scope that frees everything `fn` made except
 *   what it returns (and `x` too with `consumeInput`);
 * - recording, with `block.gradientCheckpointing`: through `checkpoint`, so only `x` and the
 *   output stay for the backward pass. Only the output is kept then: other fields of an object
 *   result (a KV cache) are dropped, as transformers turns the cache off under checkpointing;
 * - recording otherwise: plainly.
 *
 * @example
 * ```ts
 * // Inside a model's forward:
 * // for (const block of this.blocks) {
 * //   x = runBlock(block, (h) => block.forward(h, mask), x, { consumeInput: true });
 * // }
 * ```
 */
export function runBlock<T extends BlockResult>(
  block: Module,
  fn: (x: Tensor) => T,
  x: Tensor,
  opts: RunBlockOptions = {},
): T {
  if (!isGradEnabled()) {
    const r = tidy(() => fn(x));
    if (opts.consumeInput && (r instanceof Tensor ? r : r.out) !== x) x.dispose();
    return r;
  }
  if (!block.gradientCheckpointing) return fn(x);
  let asObject = false;
  const out = checkpointWith({ generators: dropoutGenerators(block) }, (h) => {
    const r = fn(h);
    asObject = !(r instanceof Tensor);
    return r instanceof Tensor ? r : r.out;
  }, x);
  return (asObject ? { out } : out) as T;
}
