/**
 * The T5 reference checkpoints and their expected outputs, shared by the T5 tests:
 * - `t5-a` (tests/fixtures/models/t5-a): flan-T5 style (gated-gelu, untied head), 2+2 blocks,
 *   d_model 32, vocab 100, with outputs of an independent PyTorch forward pass;
 * - `t5-relu-tied`, `t5-gated-silu`: written by tools/gen_t5_fixtures.py (a float64 forward that
 *   first reproduces t5-a's reference) for the tied head with its scaling, relu, a gated-silu
 *   block, inner width ≠ d_model, 3 decoder blocks, the max-distance clamp and decoder padding.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../../core/mod.ts";
import type { Seq2SeqLM } from "../../models/contract.ts";
import { loadSeq2SeqLM, type LoadSeq2SeqLMOptions } from "../../models/seq2seq_lm.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/models/", import.meta.url));

/** The t5-a folder. */
export const T5_A = join(FIXTURES, "t5-a");

/** The independent PyTorch outputs on t5-a. */
export interface T5AExpected {
  input_ids_right: number[][];
  attention_mask_right: number[][];
  input_ids_left: number[][];
  attention_mask_left: number[][];
  decoder_input_ids: number[][];
  encoder_last_hidden_state_right: number[][][];
  encoder_last_hidden_state_left: number[][][];
  logits_right: number[][][];
  logits_left: number[][][];
  token_logprobs_right: number[][];
  greedy_new_tokens: number[][];
}

/** t5-a's expected outputs. */
export const expectedA: T5AExpected = JSON.parse(
  await Deno.readTextFile(join(T5_A, "expected.json")),
);

/** A variant written by tools/gen_t5_fixtures.py. */
export interface T5VariantExpected {
  input_ids: number[][];
  attention_mask: number[][];
  decoder_input_ids: number[][];
  decoder_attention_mask: number[][];
  encoder_last_hidden_state: number[][][];
  logits: number[][][];
  greedy_new_tokens: number[][];
}

/** The generated variants' folders. */
export const VARIANTS = ["t5-relu-tied", "t5-gated-silu"] as const;

/** A variant's folder and expected outputs. */
export async function variant(
  name: (typeof VARIANTS)[number],
): Promise<{ dir: string; expected: T5VariantExpected }> {
  const dir = join(FIXTURES, name);
  return { dir, expected: JSON.parse(await Deno.readTextFile(join(dir, "expected.json"))) };
}

/**
 * A temporary folder holding t5-a's config and only its `pytorch_model.bin`, so loading has to
 * read the .bin (safetensors is preferred when both exist).
 */
export async function t5ABinOnly(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "t5-a-bin-" });
  for (const f of ["config.json", "pytorch_model.bin"]) {
    await Deno.copyFile(join(T5_A, f), join(dir, f));
  }
  return dir;
}

/** A model from `dir` on `backend` with notices silenced. */
export function loadT5(
  dir: string,
  backend = "cpu",
  extra: LoadSeq2SeqLMOptions = {},
): Promise<Seq2SeqLM> {
  return loadSeq2SeqLM(dir, { backend, log: () => {}, ...extra });
}

/** Rows of `ids` without their padding. */
export function unpadded(ids: number[][], mask: number[][]): number[][] {
  return ids.map((row, r) => row.filter((_, c) => mask[r][c] === 1));
}

/** Values at storage precision (f64 on cpu64), read on any backend. */
export async function valuesOf(t: Tensor): Promise<Float64Array> {
  return t.backend.readSync ? t.toFloat64ArraySync() : Float64Array.from(await t.toArray());
}

/**
 * Checks [B, T, K] values against `want` where `keep(r, c)`: |got − want| ≤ tol · max(1, |want|)
 * (relative for values beyond 1, absolute below). Fails naming the first element out of bounds;
 * returns the largest scaled error and how many elements were compared.
 */
export function assertClose3(
  got: ArrayLike<number>,
  want: number[][][],
  keep: (r: number, c: number) => boolean,
  tol: number,
  what: string,
): { worst: number; compared: number } {
  const b = want.length, t = want[0].length, k = want[0][0].length;
  assert.equal(got.length, b * t * k, `${what}: size`);
  let worst = 0, compared = 0;
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < t; c++) {
      if (!keep(r, c)) continue;
      for (let j = 0; j < k; j++) {
        const g = got[(r * t + c) * k + j], w = want[r][c][j];
        const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
        if (!(err <= tol)) {
          assert.fail(
            `${what}[${r},${c},${j}]: got ${g}, expected ${w} (scaled error ${err} > ${tol})`,
          );
        }
        worst = Math.max(worst, err);
        compared++;
      }
    }
  }
  return { worst, compared };
}
