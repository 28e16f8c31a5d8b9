/**
 * The tiny causal reference checkpoints (tests/fixtures/models/{llama-a,qwen2-a,opt-a}, copied
 * from independent PyTorch forward passes) and the checks every architecture must pass on
 * them: logits of a right- and a left-padded batch (compared where the mask is 1), per-token
 * log-probs, greedy tokens, and a KV-cached pass that equals the uncached one.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { slice, type Tensor, tensor, tidy, tokenLogProbs } from "../../core/mod.ts";
import type { CausalLM } from "../../models/contract.ts";
import type { CachedLayer } from "../../models/generation.ts";

/** Relative tolerance against the references: |got − want| ≤ TOL · max(1, |want|). */
export const TOL = 1e-4;

/** A fixture folder by name (`llama-a`, `llama-a/bf16`, `qwen2-a`, ...). */
export function fixtureDir(name: string): string {
  return fileURLToPath(new URL(`../fixtures/models/${name}/`, import.meta.url));
}

/** PyTorch's outputs on a causal fixture. */
export interface CausalExpected {
  input_ids_right: number[][];
  attention_mask_right: number[][];
  position_ids_right: number[][];
  logits_right: number[][][];
  token_logprobs_right: number[][];
  input_ids_left: number[][];
  attention_mask_left: number[][];
  position_ids_left: number[][];
  logits_left: number[][][];
  greedy_new_tokens_left: number[][];
}

/** The expected outputs stored in a fixture folder. */
export async function expectedOf(name: string): Promise<CausalExpected> {
  return JSON.parse(await Deno.readTextFile(`${fixtureDir(name)}expected.json`));
}

/** The unpadded prompts of the left-padded batch. */
export function leftPrompts(e: CausalExpected): number[][] {
  return e.input_ids_left.map((row, r) => row.filter((_, c) => e.attention_mask_left[r][c] === 1));
}

/** Reads a tensor back (any backend). */
export async function values(t: Tensor): Promise<Float64Array> {
  return t.backend.readSync ? t.toFloat64ArraySync() : Float64Array.from(await t.toArray());
}

/**
 * Worst relative error of [B, T, V] logits against `want` over positions where `mask` is 1;
 * fails naming the first element beyond `TOL`.
 */
export function assertLogitsClose(
  got: ArrayLike<number>,
  want: number[][][],
  mask: number[][],
  what: string,
): number {
  const b = want.length, t = want[0].length, v = want[0][0].length;
  assert.equal(got.length, b * t * v, `${what}: size`);
  let worst = 0;
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < t; c++) {
      if (mask[r][c] !== 1) continue;
      for (let k = 0; k < v; k++) {
        const w = want[r][c][k], g = got[(r * t + c) * v + k];
        const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
        if (!(err <= TOL)) {
          assert.fail(`${what}[${r},${c},${k}]: got ${g}, expected ${w} (relative error ${err})`);
        }
        worst = Math.max(worst, err);
      }
    }
  }
  return worst;
}

/** Logits of both padded batches match the reference. */
export async function checkLogits(model: CausalLM, e: CausalExpected, what: string) {
  const backend = model.backend;
  for (const side of ["right", "left"] as const) {
    const logits = tidy(() =>
      model.forward({
        inputIds: tensor(e[`input_ids_${side}`], undefined, { backend }),
        attentionMask: tensor(e[`attention_mask_${side}`], undefined, { backend }),
      }).logits
    );
    const got = await values(logits);
    logits.dispose();
    assertLogitsClose(got, e[`logits_${side}`], e[`attention_mask_${side}`], `${what} ${side}`);
  }
}

/** Per-token log-probs of the right-padded batch match the reference. */
export async function checkLogProbs(model: CausalLM, e: CausalExpected, what: string) {
  const backend = model.backend;
  const ids = e.input_ids_right, mask = e.attention_mask_right;
  const [b, t] = [ids.length, ids[0].length];
  const lp = tidy(() => {
    const x = tensor(ids, undefined, { backend });
    const logits = model.forward({
      inputIds: x,
      attentionMask: tensor(mask, undefined, { backend }),
    }).logits;
    const v = logits.shape[2];
    return tokenLogProbs(slice(logits, [0, 0, 0], [b, t - 1, v]), slice(x, [0, 1], [b, t - 1]));
  });
  const got = await values(lp);
  lp.dispose();
  let compared = 0;
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < t - 1; c++) {
      if (mask[r][c + 1] !== 1) continue;
      const want = e.token_logprobs_right[r][c], g = got[r * (t - 1) + c];
      const err = Math.abs(g - want) / Math.max(1, Math.abs(want));
      assert.ok(err <= TOL, `${what} log-prob [${r},${c}]: got ${g}, want ${want}`);
      compared++;
    }
  }
  assert.equal(compared, 8 + 5 + 2);
}

/** Greedy generation (cached and uncached) reproduces the reference tokens exactly. */
export async function checkGreedy(model: CausalLM, e: CausalExpected, what: string) {
  const cached = await model.generate(leftPrompts(e), { maxNewTokens: 8, doSample: false });
  assert.deepEqual(cached.tokens, e.greedy_new_tokens_left, `${what}: greedy tokens`);
  const uncached = await model.generate(leftPrompts(e), {
    maxNewTokens: 8,
    doSample: false,
    useCache: false,
  });
  assert.deepEqual(uncached.tokens, e.greedy_new_tokens_left, `${what}: greedy without cache`);
}

/**
 * Feeding the left-padded batch as a 5-token prefix and then one token at a time through the
 * KV cache gives the logits of one full pass (within 1e-5 relative).
 */
export async function checkCache(model: CausalLM, e: CausalExpected, what: string) {
  const backend = model.backend;
  const ids = e.input_ids_left, mask = e.attention_mask_left;
  const [b, t] = [ids.length, ids[0].length];
  const full = tidy(() =>
    model.forward({
      inputIds: tensor(ids, undefined, { backend }),
      attentionMask: tensor(mask, undefined, { backend }),
    }).logits
  );
  const want = await values(full);
  full.dispose();
  const v = want.length / (b * t);
  const cols = (from: number, to: number, m: number[][]) => m.map((row) => row.slice(from, to));
  let past: CachedLayer[] | undefined;
  let width = 0;
  for (const end of [5, 6, 7, 8, 9]) {
    const out = tidy(() =>
      model.forward({
        inputIds: tensor(cols(width, end, ids), undefined, { backend }),
        attentionMask: tensor(cols(0, end, mask), undefined, { backend }),
        pastKeyValues: past,
        useCache: true,
      })
    );
    for (const layer of past ?? []) layer.key.dispose(), layer.value.dispose();
    past = out.pastKeyValues;
    const got = await values(out.logits);
    out.logits.dispose();
    const n = end - width;
    for (let r = 0; r < b; r++) {
      for (let c = 0; c < n; c++) {
        if (mask[r][width + c] !== 1) continue;
        for (let k = 0; k < v; k++) {
          const w = want[(r * t + width + c) * v + k], g = got[(r * n + c) * v + k];
          assert.ok(
            Math.abs(g - w) <= 1e-5 * Math.max(1, Math.abs(w)),
            `${what} cache step to ${end}: [${r},${width + c},${k}] ${g} vs ${w}`,
          );
        }
      }
    }
    width = end;
  }
  for (const layer of past ?? []) layer.key.dispose(), layer.value.dispose();
}
