// Shared pieces of the fused-LM-head trainer tests: tiny GPT-2s, a switch that sends a model
// through its logits instead, and the comparison the tests make.

import assert from "node:assert/strict";
import { Generator, type Tensor } from "../../core/mod.ts";
import { GPT2LMHeadModel } from "../../models/gpt2/model.ts";

/** Largest |a − b| over the largest |b|: the tests' measure of agreement. */
export function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / Math.max(scale, 1e-30);
}

/** Fused and logits path must agree this closely (values, statistics, gradients). */
export const FUSED_TOL = 1e-5;

/** Asserts `a` and `b` agree within {@link FUSED_TOL}, naming `what`. */
export function assertAgree(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const err = scaledError(a, b);
  assert.ok(err <= FUSED_TOL, `${what}: fused and logits path differ by ${err.toExponential(2)}`);
}

/** A tiny GPT-2 (tied head, no dropout) with seeded random weights. */
export function tinyGpt2(
  seed: number,
  opts: { vocab?: number; width?: number; layers?: number; positions?: number } = {},
): GPT2LMHeadModel {
  return new GPT2LMHeadModel(
    {
      vocab_size: opts.vocab ?? 64,
      n_positions: opts.positions ?? 64,
      n_embd: opts.width ?? 16,
      n_layer: opts.layers ?? 2,
      n_head: 2,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      eos_token_id: 2,
      bos_token_id: 1,
    },
    { backend: "cpu", generator: new Generator(seed) },
  );
}

/**
 * The same model, scored through its logits: `outputEmbeddings()` answers null, so every
 * trainer takes the [B, L, V] logits path (what a model without a plain LM head gets).
 */
export function viaLogits<M extends object>(model: M): M {
  Object.defineProperty(model, "outputEmbeddings", { value: () => null, configurable: true });
  return model;
}

/** Each trainable parameter's gradient, in order (zeros where none arrived). */
export function gradients(params: readonly Tensor[]): Float32Array[] {
  return params.filter((p) => p.requiresGrad).map((p) =>
    p.grad ? new Float32Array(p.grad.toFloat64ArraySync()) : new Float32Array(p.size)
  );
}

/** Flattened values of `params`, as numbers. */
export function values(params: readonly Tensor[]): number[] {
  return params.flatMap((p) => [...p.toFloat64ArraySync()]);
}
