// sequenceKl against a row-by-row computation with no padding, packing or masking: each
// response token's log-probability from an unpadded forward, log-softmax in f64.

import assert from "node:assert/strict";
import { tensor } from "../../core/mod.ts";
import { Reference, sequenceKl } from "../../algorithms/ppo/mod.ts";
import { e2e, TinyLMWithValueHead } from "./ppo_tiny_lm.ts";

const policy = new TinyLMWithValueHead(e2e.init_params, "cpu");
const reference = new TinyLMWithValueHead(e2e.ref_params, "cpu");
const queries: number[][] = e2e.queries;
const responses: number[][] = e2e.responses;

function logProbsOf(model: TinyLMWithValueHead, query: number[], response: number[]): number[] {
  const ids = [...query, ...response];
  const { logits } = model.forward({
    inputIds: tensor(ids, [1, ids.length]),
    attentionMask: tensor(ids.map(() => 1), [1, ids.length]),
  });
  const V = logits.shape[2];
  const values = logits.toFloat64ArraySync();
  // The token at position p is predicted by the logits at p − 1.
  return response.map((token, j) => {
    const row = values.subarray((query.length + j - 1) * V, (query.length + j) * V);
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    return row[token] - logZ;
  });
}

Deno.test("sequenceKl: Σ log π − log π_ref over response tokens, as unpadded rows give it", async () => {
  const got = await sequenceKl(policy, Reference.model(reference), queries, responses, {
    padTokenId: e2e.pad_token_id,
    chunk: 3,
  });
  assert.equal(got.length, queries.length);
  let nonZero = 0;
  queries.forEach((q, i) => {
    const pol = logProbsOf(policy, q, responses[i]);
    const ref = logProbsOf(reference, q, responses[i]);
    const want = pol.reduce((s, v, t) => s + v - ref[t], 0);
    assert.ok(Math.abs(got[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `row ${i}`);
    if (Math.abs(want) > 1e-3) nonZero++;
  });
  // The two parameter sets differ, so the rows must not all be trivially zero.
  assert.ok(nonZero >= queries.length / 2, `${nonZero} rows with a non-zero KL`);
});

Deno.test("sequenceKl: the policy against itself is exactly 0; mismatched rows are named", async () => {
  const same = await sequenceKl(policy, Reference.model(policy), queries, responses, {
    padTokenId: e2e.pad_token_id,
  });
  assert.deepEqual(same, same.map(() => 0));
  await assert.rejects(
    () =>
      sequenceKl(policy, Reference.model(policy), queries, responses.slice(1), { padTokenId: 0 }),
    /sequenceKl: \d+ queries but \d+ responses/,
  );
});
