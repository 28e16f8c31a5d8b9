/**
 * GPT-2 checkpoints in and out: both checkpoint formats and both naming styles load the same
 * weights, a saved model loads back bit for bit under transformers' names, value and score
 * heads keep TRL's / transformers' names, and bad checkpoints fail naming what is wrong.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tensor, tidy } from "../../core/mod.ts";
import { loadCausalLM, loadGpt2ForSequenceClassification } from "../../models/causal_lm.ts";
import { GPT2LMHeadModel } from "../../models/gpt2/model.ts";
import { GPT2ForSequenceClassification } from "../../models/gpt2/sequence_classification.ts";
import { CausalLMWithValueHead } from "../../models/with_value_head.ts";
import { loadGpt2Weights } from "../../models/gpt2/weights.ts";
import { readSafetensors } from "../../models/io/safetensors.ts";
import { readTorchCheckpoint } from "../../models/io/torch_bin.ts";
import type { Module } from "../../core/nn/mod.ts";
import { expected, GPT2_A, loadGpt2A } from "./gpt2_fixture.ts";
import { layOutCache } from "./hub/fake_hub.ts";

function weights(m: Module): Map<string, Float32Array> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, t.toArraySync()]));
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pytorch_model.bin and model.safetensors load the same weights", async () => {
  const fromSafetensors = await loadGpt2A();
  const config = JSON.parse(await Deno.readTextFile(join(GPT2_A, "config.json")));
  const fromBin = new GPT2LMHeadModel(config, { backend: "cpu" });
  const state = await readTorchCheckpoint(join(GPT2_A, "pytorch_model.bin"));
  assert.ok(state.has("h.0.attn.bias"), "the .bin carries the mask buffers that must be skipped");
  loadGpt2Weights(fromBin, state);
  assert.deepEqual(weights(fromBin), weights(fromSafetensors));
  assert.equal(fromBin.lm_head.weight, fromBin.transformer.wte.weight, "lm_head is tied");
  fromSafetensors.dispose();
  fromBin.dispose();
});

Deno.test("loadCausalLM reads a Hub id from the shared cache offline, falling back to the .bin", async () => {
  await withTempDir(async (cacheDir) => {
    const commit = "c".repeat(40);
    await layOutCache(cacheDir, "tiny-org/gpt2-bin", { main: commit }, {
      [commit]: {
        "config.json": await Deno.readFile(join(GPT2_A, "config.json")),
        "pytorch_model.bin": await Deno.readFile(join(GPT2_A, "pytorch_model.bin")),
      },
    });
    const noNetwork: typeof fetch = () => {
      throw new Error("the network must not be used");
    };
    const fromHub = await loadCausalLM("tiny-org/gpt2-bin", {
      cacheDir,
      offline: true,
      fetch: noNetwork,
      backend: "cpu",
    });
    const local = await loadGpt2A();
    assert.deepEqual(weights(fromHub), weights(local));
    assert.equal(fromHub.training, false, "loaded models start in eval mode");
    fromHub.dispose();
    local.dispose();
  });
});

Deno.test("a saved GPT-2 loads back bit-identical, named as transformers saves it", async () => {
  await withTempDir(async (dir) => {
    const model = await loadGpt2A();
    const out = join(dir, "saved");
    await model.save(out);
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.deepEqual(config.architectures, ["GPT2LMHeadModel"]);
    assert.equal(config.model_type, "gpt2");
    assert.equal(config.n_layer, 2);
    assert.equal(config.layer_norm_epsilon, 1e-5);
    const saved = await readSafetensors(join(out, "model.safetensors"));
    assert.ok(saved.has("transformer.h.0.attn.c_attn.weight"));
    assert.ok(saved.has("transformer.wte.weight"));
    assert.equal(saved.has("lm_head.weight"), false, "a tied head is not saved twice");
    assert.equal(saved.size, 2 + 2 * 12 + 2);
    const again = await loadCausalLM(out, { backend: "cpu", log: () => {} });
    assert.deepEqual(weights(again), weights(model));
    // Saving over an existing folder replaces the files in place.
    await again.save(out);
    model.dispose();
    again.dispose();
  });
});

Deno.test("a value head saves as TRL names it and loads back; without one it starts fresh", async () => {
  await withTempDir(async (dir) => {
    const notes: string[] = [];
    const model = await loadCausalLM(GPT2_A, { valueHead: true, log: (m) => notes.push(m) });
    assert.match(notes.join("\n"), /v_head starts fresh/);
    const [b, t] = [3, 9];
    const values = tidy(() =>
      model.forward({
        inputIds: expected.input_ids_right,
        attentionMask: expected.attention_mask_right,
      }).values!.toArraySync()
    );
    assert.equal(values.length, b * t);
    await model.save(join(dir, "vh"));
    const saved = await readSafetensors(join(dir, "vh", "model.safetensors"));
    assert.deepEqual(saved.get("v_head.summary.weight")!.shape, [1, 32]);
    assert.deepEqual(saved.get("v_head.summary.bias")!.shape, [1]);
    const again = await loadCausalLM(join(dir, "vh"), { valueHead: true, log: () => {} });
    assert.deepEqual(weights(again), weights(model));
    const plainNotes: string[] = [];
    const plain = await loadCausalLM(join(dir, "vh"), { log: (m) => plainNotes.push(m) });
    assert.ok(!(plain instanceof CausalLMWithValueHead), "no value head unless asked for");
    assert.match(plainNotes.join("\n"), /unused checkpoint tensors v_head\.summary\.weight/);
    for (const m of [model, again, plain]) m.dispose();
  });
});

Deno.test("value head: dropout only in training, values [B, T] from the final hidden state", async () => {
  const model = await loadCausalLM(GPT2_A, { valueHead: { dropout: 0.5 }, log: () => {} });
  const run = () =>
    tidy(() => {
      const out = model.forward({ inputIds: [[1, 2, 3, 4]], outputHiddenStates: true });
      const h = out.hiddenStates!;
      const manual = model.v_head.summary.forward(h);
      return [out.values!.toArraySync(), manual.toArraySync()];
    });
  const [values, manual] = run();
  assert.deepEqual(values, manual);
  model.train();
  const [trained] = run();
  assert.notDeepEqual(trained, values);
  model.dispose();
});

Deno.test("the score head reads each row's last real token, for either padding side", async () => {
  await withTempDir(async (dir) => {
    const notes: string[] = [];
    const rm = await loadGpt2ForSequenceClassification(GPT2_A, {
      numLabels: 1,
      log: (m) => notes.push(m),
    });
    assert.match(notes.join("\n"), /no score head in the checkpoint/);
    const reward = (side: "left" | "right") =>
      tidy(() =>
        rm.forward({
          inputIds: expected[`input_ids_${side}`],
          attentionMask: expected[`attention_mask_${side}`],
        }).logits.toArraySync()
      );
    const right = reward("right"), left = reward("left");
    assert.equal(right.length, 3);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(right[i] - left[i]) < 1e-5);
    // The reward of row 2 is the score of its third token, computed on the unpadded row.
    const alone = tidy(() =>
      rm.forward({ inputIds: [expected.input_ids_right[2].slice(0, 3)] }).logits.toArraySync()
    );
    assert.ok(Math.abs(alone[0] - right[2]) < 1e-5);
    // No mask: the last token that is not the pad id (96 here, the config's EOS).
    const byPad = new GPT2ForSequenceClassification({ ...rm.config, pad_token_id: 96 });
    byPad.loadStateDict(rm.stateDict());
    byPad.eval();
    const noMask = tidy(() =>
      byPad.forward({ inputIds: expected.input_ids_right }).logits.toArraySync()
    );
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(noMask[i] - right[i]) < 1e-5);

    await rm.save(join(dir, "rm"));
    const cfg = JSON.parse(await Deno.readTextFile(join(dir, "rm", "config.json")));
    assert.deepEqual(cfg.architectures, ["GPT2ForSequenceClassification"]);
    assert.equal(cfg.num_labels, 1);
    const saved = await readSafetensors(join(dir, "rm", "model.safetensors"));
    assert.deepEqual(saved.get("score.weight")!.shape, [1, 32]);
    const again = await loadGpt2ForSequenceClassification(join(dir, "rm"), { log: () => {} });
    assert.deepEqual(weights(again), weights(rm));
    for (const m of [rm, byPad, again]) m.dispose();
  });
});

Deno.test("bad checkpoints and inputs fail naming the problem", async () => {
  await withTempDir(async (dir) => {
    const model = await loadGpt2A();
    const state = await readSafetensors(join(GPT2_A, "model.safetensors"));
    state.delete("h.1.mlp.c_fc.bias");
    assert.throws(
      () => loadGpt2Weights(model, state),
      /missing tensors: 'transformer\.h\.1\.mlp\.c_fc\.bias'/,
    );
    const wide = new GPT2LMHeadModel({ n_layer: 2, n_embd: 16, n_head: 4, vocab_size: 97 });
    const full = await readSafetensors(join(GPT2_A, "model.safetensors"));
    assert.throws(
      () => loadGpt2Weights(wide, full),
      /shape mismatches: 'transformer\.wte\.weight'/,
    );
    await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ model_type: "bloom" }));
    await assert.rejects(() => loadCausalLM(dir), /model_type "bloom" is not supported/);
    assert.throws(
      () => tidy(() => model.forward({ inputIds: [[1, 2, 3]], attentionMask: [[1, 1]] })),
      /attentionMask must be \[B, T_past \+ T\] = \[1, 3\], got \[1,2\]/,
    );
    assert.throws(
      () => tidy(() => model.forward({ inputIds: tensor([1, 2, 3]) })),
      /inputIds must be \[B, T\], got \[3\]/,
    );
    assert.throws(
      () => new GPT2LMHeadModel({ n_embd: 30, n_head: 4 }),
      /n_embd \(30\) must be divisible by n_head \(4\)/,
    );
    assert.throws(
      () => new GPT2LMHeadModel({ activation_function: "swish" }),
      /activation_function must be one of/,
    );
    model.dispose();
    wide.dispose();
  });
});
