/**
 * The T5 paths t5-a does not reach, against float64 forwards written independently in
 * tools/gen_t5_fixtures.py: T5 1.0's relu feed-forward with the head tied to `shared` (and the
 * decoder output scaled by d_model ** -0.5 before it), a gated-silu feed-forward with an untied
 * head, an attention width (heads × d_kv) unlike d_model, more decoder than encoder blocks,
 * offsets past `relative_attention_max_distance`, and a right-padded decoder batch with its mask.
 */

import assert from "node:assert/strict";
import { dispose, tidy } from "../../core/mod.ts";
import { readSafetensors } from "../../models/io/safetensors.ts";
import { join } from "node:path";
import { assertClose3, loadT5, unpadded, valuesOf, variant, VARIANTS } from "./t5_fixture.ts";

const TOL: Record<string, number> = { cpu: 1e-4, cpu64: 1e-8 };

for (const name of VARIANTS) {
  const { dir, expected: E } = await variant(name);
  for (const backend of ["cpu", "cpu64"]) {
    Deno.test(`${name}: encoder states and masked decoder logits match the float64 reference (${backend})`, async () => {
      const model = await loadT5(dir, backend, backend === "cpu64" ? { dtype: "float64" } : {});
      const out = tidy(() =>
        model.forward({
          inputIds: E.input_ids,
          attentionMask: E.attention_mask,
          decoderInputIds: E.decoder_input_ids,
          decoderAttentionMask: E.decoder_attention_mask,
        })
      );
      const enc = assertClose3(
        await valuesOf(out.encoderLastHiddenState),
        E.encoder_last_hidden_state,
        (r, c) => E.attention_mask[r][c] === 1,
        TOL[backend],
        `${name} encoder`,
      );
      const logits = assertClose3(
        await valuesOf(out.logits),
        E.logits,
        (r, c) => E.decoder_attention_mask[r][c] === 1,
        TOL[backend],
        `${name} logits`,
      );
      assert.ok(enc.compared > 0 && logits.compared > 0);
      dispose(out);
      model.dispose();
    });

    Deno.test(`${name}: greedy tokens match the float64 reference (${backend})`, async () => {
      const model = await loadT5(dir, backend, backend === "cpu64" ? { dtype: "float64" } : {});
      const prompts = unpadded(E.input_ids, E.attention_mask);
      const out = await model.generate(prompts, { maxNewTokens: 6, eosTokenId: null });
      assert.deepEqual(out.tokens, E.greedy_new_tokens);
      model.dispose();
    });
  }
}

Deno.test("t5-relu-tied: the head is shared.weight, and the file has no lm_head.weight", async () => {
  const { dir } = await variant("t5-relu-tied");
  const saved = await readSafetensors(join(dir, "model.safetensors"));
  assert.ok(!saved.has("lm_head.weight"));
  const model = await loadT5(dir);
  const state = model.stateDict();
  assert.strictEqual(state.get("lm_head.weight"), state.get("shared.weight"));
  assert.equal(
    state.get("encoder.block.0.layer.1.DenseReluDense.wi.weight")!.shape.join(),
    "24,16",
  );
  assert.ok(!state.has("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"));
  model.dispose();
});
