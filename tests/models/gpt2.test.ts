/**
 * GPT-2 against transformers' GPT2LMHeadModel on the tiny reference checkpoint: logits of a
 * right-padded and a left-padded batch (positions follow the mask), per-token log-probs, and
 * greedy generation, on the f32 and the f64 CPU backends.
 */

import assert from "node:assert/strict";
import { slice, tensor, tidy, tokenLogProbs } from "../../core/mod.ts";
import { assertLogitsClose, expected, leftPrompts, loadGpt2A, valuesOf } from "./gpt2_fixture.ts";

const TOL = 1e-4;

for (const backend of ["cpu", "cpu64"]) {
  Deno.test(`gpt2-a logits match transformers, right- and left-padded (${backend})`, async () => {
    const model = await loadGpt2A(backend);
    for (const side of ["right", "left"] as const) {
      const ids = expected[`input_ids_${side}`], mask = expected[`attention_mask_${side}`];
      const got = tidy(() =>
        valuesOf(
          model.forward({
            inputIds: tensor(ids, undefined, { backend }),
            attentionMask: tensor(mask, undefined, { backend }),
          }).logits,
        )
      );
      const worst = assertLogitsClose(got, expected[`logits_${side}`], mask, TOL, side);
      assert.ok(worst < TOL, `${side}: worst error ${worst}`);
    }
    model.dispose();
  });

  Deno.test(`gpt2-a per-token log-probs of the right-padded batch match (${backend})`, async () => {
    const model = await loadGpt2A(backend);
    const ids = expected.input_ids_right, mask = expected.attention_mask_right;
    const [b, t] = [ids.length, ids[0].length];
    const got = tidy(() => {
      const x = tensor(ids, undefined, { backend });
      const logits = model.forward({
        inputIds: x,
        attentionMask: tensor(mask, undefined, { backend }),
      }).logits;
      const v = logits.shape[2];
      return valuesOf(
        tokenLogProbs(slice(logits, [0, 0, 0], [b, t - 1, v]), slice(x, [0, 1], [b, t - 1])),
      );
    });
    let compared = 0;
    for (let r = 0; r < b; r++) {
      for (let c = 0; c < t - 1; c++) {
        if (mask[r][c + 1] !== 1) continue;
        const want = expected.token_logprobs_right[r][c];
        const err = Math.abs(got[r * (t - 1) + c] - want);
        assert.ok(err <= TOL, `log-prob [${r},${c}]: got ${got[r * (t - 1) + c]}, want ${want}`);
        compared++;
      }
    }
    assert.equal(compared, 8 + 5 + 2);
    model.dispose();
  });

  Deno.test(`gpt2-a greedy generation reproduces transformers' tokens (${backend})`, async () => {
    const model = await loadGpt2A(backend);
    const out = await model.generate(leftPrompts(), { maxNewTokens: 6 });
    assert.deepEqual(out.tokens, expected.greedy_new_tokens_left);
    assert.deepEqual(out.finished, [false, false, false]);
    model.dispose();
  });
}

Deno.test("left padding and right padding give the same logits for the same tokens", async () => {
  const model = await loadGpt2A("cpu");
  const run = (side: "left" | "right") =>
    tidy(() =>
      valuesOf(
        model.forward({
          inputIds: expected[`input_ids_${side}`],
          attentionMask: expected[`attention_mask_${side}`],
        }).logits,
      )
    );
  const right = run("right"), left = run("left");
  const v = 97, t = 9;
  for (let r = 0; r < 3; r++) {
    const n = expected.attention_mask_right[r].reduce((a, x) => a + x, 0);
    for (let c = 0; c < n; c++) {
      for (let k = 0; k < v; k++) {
        const a = right[(r * t + c) * v + k], bv = left[(r * t + (t - n + c)) * v + k];
        assert.ok(Math.abs(a - bv) <= 1e-5, `row ${r} token ${c} logit ${k}: ${a} vs ${bv}`);
      }
    }
  }
  model.dispose();
});
