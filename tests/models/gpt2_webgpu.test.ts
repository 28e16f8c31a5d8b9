/**
 * The reference GPT-2 checks on WebGPU (skipped, and reported as such, where no adapter exists):
 * logits of both padded batches within 1e-4 of transformers, and greedy generation with tokens
 * picked on the device reproducing transformers' tokens.
 */

import assert from "node:assert/strict";
import { tensor, tidy } from "../../core/mod.ts";
import { gpuTest } from "../webgpu/setup.ts";
import { assertLogitsClose, expected, leftPrompts, loadGpt2A } from "./gpt2_fixture.ts";

gpuTest("gpt2-a logits match transformers on WebGPU, right- and left-padded", async () => {
  const model = await loadGpt2A("webgpu");
  for (const side of ["right", "left"] as const) {
    const logits = tidy(() =>
      model.forward({
        inputIds: tensor(expected[`input_ids_${side}`], undefined, { backend: "webgpu" }),
        attentionMask: tensor(expected[`attention_mask_${side}`], undefined, {
          backend: "webgpu",
        }),
      }).logits
    );
    const got = await logits.toArray();
    logits.dispose();
    const mask = expected[`attention_mask_${side}`];
    const worst = assertLogitsClose(got, expected[`logits_${side}`], mask, 1e-4, side);
    assert.ok(worst < 1e-4);
  }
  model.dispose();
});

gpuTest("gpt2-a greedy generation on WebGPU picks transformers' tokens on the device", async () => {
  const model = await loadGpt2A("webgpu");
  const out = await model.generate(leftPrompts(), { maxNewTokens: 6 });
  assert.deepEqual(out.tokens, expected.greedy_new_tokens_left);
  const sampledHost = await model.generate(leftPrompts(), {
    maxNewTokens: 6,
    doSample: true,
    seed: 4,
    sampleOnDevice: false,
  });
  const sampledDevice = await model.generate(leftPrompts(), {
    maxNewTokens: 6,
    doSample: true,
    seed: 4,
  });
  assert.deepEqual(sampledDevice.tokens, sampledHost.tokens);
  model.dispose();
});
