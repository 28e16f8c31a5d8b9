/**
 * The tiny GPT-2 reference checkpoint (tests/fixtures/models/gpt2-a: 2 layers, 32 wide, vocab
 * 97) and PyTorch's outputs on it, plus comparison helpers shared by the GPT-2 tests.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../../core/mod.ts";
import { loadGpt2LMHeadModel } from "../../models/causal_lm.ts";
import type { GPT2LMHeadModel } from "../../models/gpt2/model.ts";

/** The fixture folder. */
export const GPT2_A = fileURLToPath(new URL("../fixtures/models/gpt2-a/", import.meta.url));

/** PyTorch's outputs on the fixture (transformers' GPT2LMHeadModel, f32). */
export interface Gpt2Expected {
  input_ids_right: number[][];
  attention_mask_right: number[][];
  logits_right: number[][][];
  token_logprobs_right: number[][];
  input_ids_left: number[][];
  attention_mask_left: number[][];
  logits_left: number[][][];
  greedy_new_tokens_left: number[][];
}

/** The expected outputs. */
export const expected: Gpt2Expected = JSON.parse(
  await Deno.readTextFile(`${GPT2_A}expected.json`),
);

/** The fixture model on `backend`, in eval mode, with notices silenced. */
export function loadGpt2A(
  backend = "cpu",
  extra: Parameters<typeof loadGpt2LMHeadModel>[1] = {},
): Promise<GPT2LMHeadModel> {
  return loadGpt2LMHeadModel(GPT2_A, { backend, log: () => {}, ...extra });
}

/** The unpadded prompts of the left-padded batch. */
export function leftPrompts(): number[][] {
  return expected.input_ids_left.map((row, r) =>
    row.filter((_, c) => expected.attention_mask_left[r][c] === 1)
  );
}

/** Values at storage precision (f64 on cpu64). */
export function valuesOf(t: Tensor): Float64Array {
  return t.toFloat64ArraySync();
}

/**
 * Largest |got − want| over positions where `mask` is 1, for [B, T, V] logits flattened;
 * fails naming the first element beyond `tol`.
 */
export function assertLogitsClose(
  got: ArrayLike<number>,
  want: number[][][],
  mask: number[][],
  tol: number,
  what: string,
): number {
  const b = want.length, t = want[0].length, v = want[0][0].length;
  assert.equal(got.length, b * t * v, `${what}: size`);
  let worst = 0;
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < t; c++) {
      if (mask[r][c] !== 1) continue;
      for (let k = 0; k < v; k++) {
        const err = Math.abs(got[(r * t + c) * v + k] - want[r][c][k]);
        if (!(err <= tol)) {
          assert.fail(
            `${what}[${r},${c},${k}]: got ${got[(r * t + c) * v + k]}, expected ${
              want[r][c][k]
            } (error ${err} > ${tol})`,
          );
        }
        worst = Math.max(worst, err);
      }
    }
  }
  return worst;
}
