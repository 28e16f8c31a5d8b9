/**
 * The T5 reference checks on WebGPU (skipped, and reported as such, where no adapter exists):
 * t5-a's encoder states and decoder logits for both paddings, loaded from safetensors and from
 * the .bin; greedy tokens picked on the device; on-device sampling equal to host sampling; the
 * KV-cached decoder equal to full passes; and the relu + tied variant.
 */

import assert from "node:assert/strict";
import { concat, dispose, type Tensor, tidy } from "../../core/mod.ts";
import type { Seq2SeqCache } from "../../models/contract.ts";
import { gpuTest } from "../webgpu/setup.ts";
import {
  assertClose3,
  expectedA as E,
  loadT5,
  T5_A,
  t5ABinOnly,
  unpadded,
  variant,
} from "./t5_fixture.ts";

const PROMPTS = unpadded(E.input_ids_right, E.attention_mask_right);

gpuTest(
  "t5-a encoder states and logits match the reference on WebGPU (safetensors and .bin)",
  async () => {
    for (const dir of [T5_A, await t5ABinOnly()]) {
      const model = await loadT5(dir, "webgpu");
      for (const side of ["right", "left"] as const) {
        const mask = E[`attention_mask_${side}`];
        const out = tidy(() =>
          model.forward({
            inputIds: E[`input_ids_${side}`],
            attentionMask: mask,
            decoderInputIds: E.decoder_input_ids,
          })
        );
        assertClose3(
          await out.encoderLastHiddenState.toArray(),
          E[`encoder_last_hidden_state_${side}`],
          (r, c) => mask[r][c] === 1,
          1e-4,
          `webgpu encoder ${side}`,
        );
        assertClose3(await out.logits.toArray(), E[`logits_${side}`], () => true, 1e-4, side);
        dispose(out);
      }
      model.dispose();
    }
  },
);

gpuTest(
  "t5-a greedy tokens on WebGPU, picked on the device, and device sampling = host sampling",
  async () => {
    const model = await loadT5(T5_A, "webgpu");
    const greedy = await model.generate(PROMPTS, { maxNewTokens: 8 });
    assert.deepEqual(greedy.tokens, E.greedy_new_tokens);
    const opts = { maxNewTokens: 8, doSample: true, topK: 10, seed: 4 };
    const host = await model.generate(PROMPTS, { ...opts, sampleOnDevice: false });
    const device = await model.generate(PROMPTS, opts);
    assert.deepEqual(device.tokens, host.tokens);
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < host.tokens[r].length; i++) {
        assert.ok(Math.abs(device.logProbs[r][i] - host.logProbs[r][i]) < 1e-4);
      }
    }
    model.dispose();
  },
);

gpuTest("t5-a KV-cached decoding equals the full pass on WebGPU", async () => {
  const model = await loadT5(T5_A, "webgpu");
  const dec = E.decoder_input_ids;
  const full = tidy(() =>
    model.forward({
      inputIds: E.input_ids_right,
      attentionMask: E.attention_mask_right,
      decoderInputIds: dec,
    })
      .logits
  );
  const encoder = tidy(() => model.encode(E.input_ids_right, E.attention_mask_right));
  let cache: Seq2SeqCache | undefined;
  const steps: Tensor[] = [];
  for (let i = 0; i < dec[0].length; i++) {
    const out = model.forward({
      decoderInputIds: dec.map((row) => [row[i]]),
      encoderOutputs: encoder,
      pastKeyValues: cache,
      useCache: true,
    });
    if (cache) dispose(cache.self);
    cache = out.pastKeyValues;
    steps.push(out.logits);
  }
  const stepped = concat(steps, 1);
  const [a, b] = [await full.toArray(), await stepped.toArray()];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 2e-5, `logit ${i}`);
  dispose([full, stepped, steps, cache, encoder]);
  model.dispose();
});

gpuTest("t5-relu-tied matches its float64 reference on WebGPU", async () => {
  const { dir, expected: V } = await variant("t5-relu-tied");
  const model = await loadT5(dir, "webgpu");
  const out = tidy(() =>
    model.forward({
      inputIds: V.input_ids,
      attentionMask: V.attention_mask,
      decoderInputIds: V.decoder_input_ids,
      decoderAttentionMask: V.decoder_attention_mask,
    })
  );
  assertClose3(
    await out.logits.toArray(),
    V.logits,
    (r, c) => V.decoder_attention_mask[r][c] === 1,
    1e-4,
    "logits",
  );
  dispose(out);
  const greedy = await model.generate(unpadded(V.input_ids, V.attention_mask), {
    maxNewTokens: 6,
    eosTokenId: null,
  });
  assert.deepEqual(greedy.tokens, V.greedy_new_tokens);
  model.dispose();
});
