/**
 * T5 against the t5-a reference (an independent PyTorch forward of a flan-T5 style checkpoint):
 * the encoder's last hidden state and teacher-forced decoder logits for a right- and a
 * left-padded encoder batch, per-token log-probs, and greedy tokens, loaded from
 * `model.safetensors` and from `pytorch_model.bin`, on the f32 and f64 CPU backends. Then the
 * decoding paths: KV-cached steps equal full passes, cached and uncached generation agree, host
 * and on-device sampling agree, and a batch repeated k times per prompt (as beam search lays it
 * out) decodes each copy as its prompt.
 */

import assert from "node:assert/strict";
import {
  concat,
  contiguous,
  dispose,
  expand,
  memory,
  noGrad,
  reshape,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import type { Seq2SeqCache } from "../../models/contract.ts";
import { generate } from "../../models/generation.ts";
import { EncoderBoundDecoder } from "../../models/seq2seq_generation.ts";
import {
  assertClose3,
  expectedA as E,
  loadT5,
  T5_A,
  t5ABinOnly,
  unpadded,
  valuesOf,
} from "./t5_fixture.ts";

const TOL: Record<string, number> = { cpu: 1e-4, cpu64: 1e-8 };
const PROMPTS = unpadded(E.input_ids_right, E.attention_mask_right);

const binDir = await t5ABinOnly();

for (const [file, dir] of [["model.safetensors", T5_A], ["pytorch_model.bin", binDir]]) {
  for (const backend of ["cpu", "cpu64"]) {
    const tag = `${file}, ${backend}`;
    const opts = backend === "cpu64" ? { dtype: "float64" as const } : {};

    Deno.test(`t5-a encoder states and decoder logits match the reference, right and left padded (${tag})`, async () => {
      const model = await loadT5(dir, backend, opts);
      for (const side of ["right", "left"] as const) {
        const mask = E[`attention_mask_${side}`];
        const out = tidy(() =>
          model.forward({
            inputIds: E[`input_ids_${side}`],
            attentionMask: mask,
            decoderInputIds: E.decoder_input_ids,
          })
        );
        const enc = assertClose3(
          await valuesOf(out.encoderLastHiddenState),
          E[`encoder_last_hidden_state_${side}`],
          (r, c) => mask[r][c] === 1,
          TOL[backend],
          `encoder ${side}`,
        );
        assert.equal(enc.compared, (10 + 7 + 4) * 32);
        const logits = assertClose3(
          await valuesOf(out.logits),
          E[`logits_${side}`],
          () => true,
          TOL[backend],
          `logits ${side}`,
        );
        assert.equal(logits.compared, 3 * 7 * 100);
        dispose(out);
      }
      model.dispose();
    });

    Deno.test(`t5-a greedy generation reproduces the reference tokens (${tag})`, async () => {
      const model = await loadT5(dir, backend, opts);
      const out = await model.generate(PROMPTS, { maxNewTokens: 8 });
      assert.deepEqual(out.tokens, E.greedy_new_tokens);
      assert.deepEqual(out.finished, [false, false, false]);
      // Prompts that arrive left-padded elsewhere are the same prompts once unpadded.
      const left = unpadded(E.input_ids_left, E.attention_mask_left);
      assert.deepEqual(
        (await model.generate(left, { maxNewTokens: 8 })).tokens,
        E.greedy_new_tokens,
      );
      model.dispose();
    });
  }
}

Deno.test("t5-a per-token log-probs of the teacher-forced decoder match the reference", async () => {
  const model = await loadT5(T5_A);
  const dec = E.decoder_input_ids;
  const [b, t] = [dec.length, dec[0].length];
  const got = tidy(() => {
    const ids = tensor(dec);
    const logits = model.forward({
      inputIds: E.input_ids_right,
      attentionMask: E.attention_mask_right,
      decoderInputIds: ids,
    }).logits;
    return tokenLogProbs(slice(logits, [0, 0, 0], [b, t - 1, 100]), slice(ids, [0, 1], [b, t - 1]))
      .toArraySync();
  });
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < t - 1; c++) {
      const want = E.token_logprobs_right[r][c];
      assert.ok(
        Math.abs(got[r * (t - 1) + c] - want) <= 1e-4 * Math.max(1, Math.abs(want)),
        `log-prob [${r},${c}]: got ${got[r * (t - 1) + c]}, want ${want}`,
      );
    }
  }
  model.dispose();
});

Deno.test("t5-a loads the same weights from model.safetensors and pytorch_model.bin", async () => {
  const a = await loadT5(T5_A), b = await loadT5(binDir);
  const sa = a.stateDict(), sb = b.stateDict();
  assert.deepEqual([...sa.keys()], [...sb.keys()]);
  for (const [name, t] of sa) assert.deepEqual(t.toArraySync(), sb.get(name)!.toArraySync(), name);
  a.dispose();
  b.dispose();
});

Deno.test("t5-a KV-cached decoding, one token at a time, equals the full teacher-forced pass", async () => {
  for (const backend of ["cpu", "cpu64"]) {
    const model = await loadT5(T5_A, backend, backend === "cpu64" ? { dtype: "float64" } : {});
    const dec = E.decoder_input_ids;
    const [b, t] = [dec.length, dec[0].length];
    const full = noGrad(() =>
      tidy(() =>
        model.forward({
          inputIds: E.input_ids_left,
          attentionMask: E.attention_mask_left,
          decoderInputIds: dec,
        }).logits.toFloat64ArraySync()
      )
    );
    const encoder = tidy(() => model.encode(E.input_ids_left, E.attention_mask_left));
    let cache: Seq2SeqCache | undefined;
    const steps: Tensor[] = [];
    for (let i = 0; i < t; i++) {
      const out = model.forward({
        decoderInputIds: dec.map((row) => [row[i]]),
        encoderOutputs: encoder,
        pastKeyValues: cache,
        useCache: true,
      });
      // Cross keys/values are computed on the first step and then passed back unchanged.
      if (cache) assert.strictEqual(out.pastKeyValues!.cross[0].key, cache.cross[0].key);
      if (cache) dispose(cache.self);
      cache = out.pastKeyValues!;
      steps.push(out.logits);
    }
    const stepped = concat(steps, 1).toFloat64ArraySync();
    assert.equal(stepped.length, b * t * 100);
    const tol = backend === "cpu" ? 2e-5 : 1e-12;
    for (let i = 0; i < full.length; i++) {
      assert.ok(
        Math.abs(full[i] - stepped[i]) <= tol,
        `${backend} logit ${i}: ${full[i]} vs ${stepped[i]}`,
      );
    }
    dispose([steps, cache, encoder]);
    model.dispose();
  }
});

Deno.test("t5-a generation with and without the KV cache gives the same tokens and log-probs", async () => {
  const model = await loadT5(T5_A);
  for (const sampled of [false, true]) {
    const opts = { maxNewTokens: 8, doSample: sampled, topK: 10, seed: 3 };
    const cached = await model.generate(PROMPTS, opts);
    const uncached = await model.generate(PROMPTS, { ...opts, useCache: false });
    assert.deepEqual(uncached.tokens, cached.tokens);
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 8; i++) {
        assert.ok(Math.abs(uncached.logProbs[r][i] - cached.logProbs[r][i]) < 1e-5);
      }
    }
  }
  model.dispose();
});

Deno.test("t5-a generated log-probs equal a teacher-forced pass over the generated tokens", async () => {
  const model = await loadT5(T5_A);
  const out = await model.generate(PROMPTS, { maxNewTokens: 8, doSample: true, seed: 5 });
  const dec = out.tokens.map((row) => [0, ...row.slice(0, -1)]);
  const lp = tidy(() =>
    tokenLogProbs(
      model.forward({
        inputIds: E.input_ids_right,
        attentionMask: E.attention_mask_right,
        decoderInputIds: dec,
      }).logits,
      tensor(out.tokens),
    ).toArraySync()
  );
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(lp[r * 8 + i] - out.logProbs[r][i]) < 1e-5);
  }
  model.dispose();
});

Deno.test("t5-a sampling picks the same tokens on the host and with the on-device path", async () => {
  const model = await loadT5(T5_A);
  const opts = { maxNewTokens: 8, doSample: true, temperature: 0.9, topK: 20, topP: 0.9, seed: 7 };
  const host = await model.generate(PROMPTS, { ...opts, sampleOnDevice: false });
  const device = await model.generate(PROMPTS, {
    ...opts,
    sampleOnDevice: true,
    stopCheckEvery: 3,
  });
  assert.deepEqual(device.tokens, host.tokens);
  const again = await model.generate(PROMPTS, { ...opts, sampleOnDevice: false });
  assert.deepEqual(again.tokens, host.tokens, "the same seed gives the same samples");
  model.dispose();
});

Deno.test("t5-a rows stop on their own at EOS, and minNewTokens holds EOS back", async () => {
  const model = await loadT5(T5_A);
  // Row 0's and row 1's first greedy token is 37: make it the stop token.
  const out = await model.generate(PROMPTS, { maxNewTokens: 8, eosTokenId: 37 });
  assert.deepEqual(out.tokens[0], [37]);
  assert.deepEqual(out.tokens[1], [37]);
  assert.deepEqual(out.tokens[2], E.greedy_new_tokens[2]);
  assert.deepEqual(out.finished, [true, true, false]);
  const held = await model.generate(PROMPTS, { maxNewTokens: 3, minNewTokens: 2, eosTokenId: 37 });
  assert.equal(held.tokens[0].length, 3);
  assert.notEqual(held.tokens[0][0], 37);
  model.dispose();
});

Deno.test("EncoderBoundDecoder reads k consecutive decoder rows per prompt (beam layout)", async () => {
  const model = await loadT5(T5_A);
  const encoder = noGrad(() => tidy(() => model.encode(E.input_ids_right, E.attention_mask_right)));
  const decoder = new EncoderBoundDecoder(model, encoder);
  const k = 3;
  const starts = Array.from({ length: 3 * k }, () => [0]);
  const out = await generate(decoder, starts, { maxNewTokens: 8 });
  for (let r = 0; r < 3; r++) {
    for (let j = 0; j < k; j++) assert.deepEqual(out.tokens[r * k + j], E.greedy_new_tokens[r]);
  }
  assert.throws(
    () => decoder.forward({ inputIds: tensor([[0], [0]]), attentionMask: tensor([[1], [1]]) }),
    /2 rows, not a multiple of the 3 encoder rows/,
  );
  decoder.dispose();

  // As beam search does it: a first step on the prompt rows, then repeatRows(k) with the cache
  // widened to match; the second step must equal a full pass over [start, first token].
  const narrow = new EncoderBoundDecoder(model, encoder);
  const ones = (n: number) => tensor(Array.from({ length: n }, () => [1]));
  const first = noGrad(() =>
    narrow.forward({ inputIds: tensor([[0], [0], [0]]), attentionMask: ones(3), useCache: true })
  );
  const widen = (x: Tensor) => {
    const [b, ...rest] = x.shape;
    return contiguous(
      reshape(expand(reshape(x, [b, 1, ...rest]), [b, k, ...rest]), [b * k, ...rest]),
    );
  };
  const past = first.pastKeyValues!.map((l) => ({ key: widen(l.key), value: widen(l.value) }));
  const wide = narrow.repeatRows(k);
  const tokens = E.greedy_new_tokens.flatMap((row) => Array.from({ length: k }, () => [row[0]]));
  const second = noGrad(() =>
    wide.forward({
      inputIds: tensor(tokens),
      attentionMask: tensor(tokens.map(() => [1, 1])),
      pastKeyValues: past,
      useCache: true,
    })
  );
  const full = tidy(() =>
    model.forward({
      encoderOutputs: encoder,
      decoderInputIds: E.greedy_new_tokens.map((row) => [0, row[0]]),
    }).logits.toArraySync()
  );
  const got = second.logits.toArraySync();
  for (let r = 0; r < 3 * k; r++) {
    const p = Math.floor(r / k);
    for (let j = 0; j < 100; j++) {
      const want = full[(p * 2 + 1) * 100 + j];
      assert.ok(Math.abs(got[r * 100 + j] - want) < 2e-5, `row ${r} logit ${j}`);
    }
  }
  dispose([first, past, second]);
  wide.dispose();
  narrow.dispose();
  dispose(encoder);
  model.dispose();
});

Deno.test("on-device decoding runs with no stop token (eosTokenId null) to maxNewTokens", async () => {
  const model = await loadT5(T5_A);
  const opts = { maxNewTokens: 8, eosTokenId: null, stopCheckEvery: 2 };
  const device = await model.generate(PROMPTS, { ...opts, sampleOnDevice: true });
  assert.deepEqual(device.tokens, E.greedy_new_tokens);
  assert.deepEqual(device.finished, [false, false, false]);
  model.dispose();
});

Deno.test("T5 generation, training steps and failed loads leave no tensors behind", async () => {
  const model = await loadT5(T5_A);
  const gen = async () => {
    await model.generate(PROMPTS, { maxNewTokens: 4 });
    await model.generate(PROMPTS, {
      maxNewTokens: 4,
      doSample: true,
      seed: 1,
      sampleOnDevice: true,
    });
    await model.generate(PROMPTS, { maxNewTokens: 4, useCache: false });
  };
  const trainStep = () =>
    tidy(() => {
      const out = model.forward({
        inputIds: E.input_ids_right,
        attentionMask: E.attention_mask_right,
        decoderInputIds: E.decoder_input_ids,
      });
      sum(out.logits).backward();
    });
  model.train();
  await gen();
  trainStep();
  const before = memory().tensors;
  for (let i = 0; i < 3; i++) {
    await gen();
    trainStep();
  }
  assert.equal(memory().tensors, before);
  model.dispose();
  const empty = memory().tensors;
  const bad = await Deno.makeTempDir();
  const config = JSON.parse(await Deno.readTextFile(`${T5_A}/config.json`));
  await Deno.writeTextFile(`${bad}/config.json`, JSON.stringify({ ...config, d_ff: 65 }));
  await Deno.copyFile(`${T5_A}/model.safetensors`, `${bad}/model.safetensors`);
  await assert.rejects(loadT5(bad), /shape mismatches/);
  assert.equal(memory().tensors, empty, "a failed load frees the model it built");
});
