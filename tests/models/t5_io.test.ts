/**
 * T5 checkpoints in and out, and bad input: `save` writes exactly the tensor names transformers
 * writes (tied and untied), and a saved model loads back identical; an unknown or causal
 * `model_type`, a config missing a field T5 needs, a tensor of the wrong shape, a missing or
 * unknown tensor, and malformed forward or generate inputs each fail with an error that names
 * what is wrong.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tensor, tidy } from "../../core/mod.ts";
import type { Seq2SeqLM } from "../../models/contract.ts";
import { readSafetensors, writeSafetensors } from "../../models/io/safetensors.ts";
import { loadSeq2SeqLM } from "../../models/seq2seq_lm.ts";
import { t5Config } from "../../models/t5/config.ts";
import { expectedA as E, loadT5, T5_A, variant } from "./t5_fixture.ts";

const BATCH = {
  inputIds: E.input_ids_right,
  attentionMask: E.attention_mask_right,
  decoderInputIds: E.decoder_input_ids,
};

function logits(model: Seq2SeqLM): Float32Array {
  return tidy(() => model.forward(BATCH).logits.toArraySync());
}

const CONFIG_A = JSON.parse(await Deno.readTextFile(join(T5_A, "config.json")));

/** A folder with `config` and t5-a's weights, optionally edited. */
async function folderWith(
  config: Record<string, unknown>,
  edit?: (w: Map<string, { shape: number[]; data: Float32Array }>) => void,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "t5-bad-" });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  const weights = await readSafetensors(join(T5_A, "model.safetensors"));
  edit?.(weights);
  await writeSafetensors(join(dir, "model.safetensors"), weights);
  return dir;
}

for (const name of ["t5-a", "t5-relu-tied"] as const) {
  Deno.test(`${name} saves the tensor names transformers writes and loads back identical`, async () => {
    const dir = name === "t5-a" ? T5_A : (await variant(name)).dir;
    const model = await loadT5(dir);
    const out = join(await Deno.makeTempDir(), "saved");
    await model.save(out);
    const reference = await readSafetensors(join(dir, "model.safetensors"));
    const saved = await readSafetensors(join(out, "model.safetensors"));
    assert.deepEqual([...saved.keys()].sort(), [...reference.keys()].sort());
    for (const [k, t] of reference) assert.deepEqual(saved.get(k)!.data, t.data, k);
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.equal(config.model_type, "t5");
    assert.deepEqual(config.architectures, ["T5ForConditionalGeneration"]);
    const original = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    for (const k of ["feed_forward_proj", "tie_word_embeddings", "d_kv", "num_decoder_layers"]) {
      assert.deepEqual(config[k], original[k], k);
    }
    const back = await loadT5(out);
    if (name === "t5-a") assert.deepEqual(logits(back), logits(model));
    model.dispose();
    back.dispose();
  });
}

Deno.test("loadSeq2SeqLM: an unknown model_type names the supported ones; causal types point to loadCausalLM", async () => {
  await assert.rejects(
    loadSeq2SeqLM(await folderWith({ ...CONFIG_A, model_type: "bart" })),
    /model_type "bart" is not supported; supported model_type values: "t5"/,
  );
  await assert.rejects(
    loadSeq2SeqLM(await folderWith({ ...CONFIG_A, model_type: "llama" })),
    /model_type "llama" is a causal \(decoder-only\) LM; use loadCausalLM/,
  );
  const { model_type: _, ...untyped } = CONFIG_A;
  await assert.rejects(
    loadSeq2SeqLM(await folderWith(untyped)),
    /model_type undefined is not supported; supported model_type values: "t5"/,
  );
});

Deno.test("loadSeq2SeqLM: a config missing a field T5 needs names the field", async () => {
  for (const field of ["d_model", "d_kv", "num_heads", "vocab_size"]) {
    const config = { ...CONFIG_A };
    delete config[field];
    await assert.rejects(
      loadSeq2SeqLM(await folderWith(config)),
      new RegExp(`loadSeq2SeqLM \\(.*\\): T5Config: config.json has no "${field}"`),
    );
  }
  const noStart = { ...CONFIG_A };
  delete noStart.decoder_start_token_id;
  await assert.rejects(
    loadSeq2SeqLM(await folderWith(noStart)),
    /no "decoder_start_token_id".*add "decoder_start_token_id": 0/,
  );
  await assert.rejects(
    loadSeq2SeqLM(await folderWith({ ...CONFIG_A, feed_forward_proj: "gated-gelu-x" })),
    /feed_forward_proj must be "<act>" or "gated-<act>".*got "gated-gelu-x"/,
  );
});

Deno.test("loadSeq2SeqLM: a tensor of the wrong shape is named with both shapes", async () => {
  const dir = await folderWith({ ...CONFIG_A, d_ff: 65 });
  await assert.rejects(
    loadSeq2SeqLM(dir, { log: () => {} }),
    /'encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight': checkpoint \[64, ?32\], model \[65, ?32\]/,
  );
});

Deno.test("loadSeq2SeqLM: a missing tensor and an unknown tensor are named", async () => {
  const missing = await folderWith(CONFIG_A, (w) => w.delete("decoder.final_layer_norm.weight"));
  await assert.rejects(
    loadSeq2SeqLM(missing),
    /missing tensors: 'decoder\.final_layer_norm\.weight'/,
  );
  const extra = await folderWith(
    CONFIG_A,
    (w) =>
      w.set("encoder.block.2.layer.0.layer_norm.weight", {
        shape: [32],
        data: new Float32Array(32),
      }),
  );
  await assert.rejects(
    loadSeq2SeqLM(extra),
    /tensors the model does not have: 'encoder\.block\.2\.layer\.0\.layer_norm\.weight'/,
  );
  await assert.rejects(
    loadSeq2SeqLM(T5_A, { dtype: "float64", backend: "webgpu" }),
    /dtype "float64" runs on the cpu64 backend only/,
  );
});

Deno.test("t5Config names a bad value", () => {
  const base = { ...CONFIG_A };
  assert.throws(
    () => t5Config({ ...base, num_heads: 0 }),
    /num_heads must be a positive integer, got 0/,
  );
  assert.throws(
    () => t5Config({ ...base, dropout_rate: 1 }),
    /dropout_rate must be a number in \[0, 1\)/,
  );
  assert.throws(
    () => t5Config({ ...base, eos_token_id: 100 }),
    /eos_token_id must be below vocab_size \(100\)/,
  );
  assert.throws(() => t5Config({ ...base, model_type: "mt5" }), /model_type is "mt5"; only "t5"/);
  assert.equal(t5Config({ ...base, feed_forward_proj: "gated-silu" }).dense_act_fn, "silu");
  assert.equal(t5Config({ ...base, feed_forward_proj: "relu" }).is_gated_act, false);
  assert.equal(t5Config({ ...base, num_decoder_layers: undefined }).num_decoder_layers, 2);
});

Deno.test("T5 forward and generate name malformed inputs", async () => {
  const model = await loadT5(T5_A);
  assert.throws(
    () => model.forward({ ...BATCH, decoderInputIds: E.decoder_input_ids.slice(0, 2) }),
    /decoderInputIds has 2 rows but the encoder output has 3/,
  );
  assert.throws(
    () => model.forward({ ...BATCH, decoderAttentionMask: [[1, 1], [1, 1], [1, 1]] }),
    /decoderAttentionMask must be \[B, T_past \+ T\] = \[3, 7\], got \[3, ?2\]/,
  );
  assert.throws(
    () => model.forward({ decoderInputIds: E.decoder_input_ids }),
    /give inputIds \(encoder token ids\) or encoderOutputs/,
  );
  const out = tidy(() => model.forward({ ...BATCH, useCache: true }));
  assert.throws(
    () =>
      model.forward({
        ...BATCH,
        pastKeyValues: { self: out.pastKeyValues!.self.slice(0, 1), cross: [] },
      }),
    /pastKeyValues\.self has 1 layers, the decoder 2/,
  );
  assert.throws(
    () => model.forward({ ...BATCH, inputIds: [[1, 2], [3]] }),
    /row 1 has 1 entries, row 0 has 2/,
  );
  assert.throws(
    () => model.forward({ ...BATCH, decoderInputIds: tensor([[0, 5], [0, 100], [0, 7]]) }),
    /100.*the table has V = 100 rows/,
  );
  await assert.rejects(model.generate([[5, 1], []]), /prompt 1 is empty/);
  await assert.rejects(
    model.generate([[5, 100]]),
    /prompt 0 holds 100 at 1; token ids are integers in \[0, 100\)/,
  );
  await assert.rejects(
    model.generate([[5, 1]], { maxNewTokens: -1 }),
    /maxNewTokens must be an integer >= 0/,
  );
  model.dispose();
});
