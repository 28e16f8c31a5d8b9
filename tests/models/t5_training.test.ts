/**
 * Training T5: LoRA with PEFT's T5 defaults (q, v in every self- and cross-attention) leaves the
 * base exact when off, merges, and round-trips PEFT's files; a short LoRA SFT run on a tiny T5
 * lowers the loss by a stated margin; TRL's seq2seq value head runs forward and backward and
 * saves under TRL's names; dropout acts in training mode only, from a seeded generator.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  crossEntropy,
  Generator,
  mean,
  optim,
  reshape,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import type { Seq2SeqLM } from "../../models/contract.ts";
import { readSafetensors } from "../../models/io/safetensors.ts";
import { applyLora, loadLora, type LoraAdapters, saveLora } from "../../models/lora.ts";
import { SEQ2SEQ_LM_ARCHITECTURES } from "../../models/seq2seq_lm.ts";
import { Seq2SeqLMWithValueHead } from "../../models/seq2seq_value_head.ts";
import { T5ForConditionalGeneration } from "../../models/t5/model.ts";
import { expectedA as E, loadT5, T5_A } from "./t5_fixture.ts";

const BATCH = {
  inputIds: E.input_ids_right,
  attentionMask: E.attention_mask_right,
  decoderInputIds: E.decoder_input_ids,
};

function logits(model: Seq2SeqLM): Float32Array {
  return tidy(() => model.forward(BATCH).logits.toArraySync());
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Non-zero B matrices, as training would leave them. */
function perturb(lora: LoraAdapters, seed = 1): void {
  const g = new Generator(seed);
  for (const [name, p] of lora.namedParameters()) {
    if (!name.endsWith("lora_B.weight")) continue;
    (p.storage.handle as Float32Array).set(g.normal(p.size, 0, 0.1), p.offset);
  }
}

Deno.test("LoRA on T5 with PEFT's default targets: every q and v, off = base exactly, merge", async () => {
  const model = await loadT5(T5_A);
  const base = logits(model);
  const targets = [...SEQ2SEQ_LM_ARCHITECTURES.t5.loraTargets];
  assert.deepEqual(targets, ["q", "v"]);
  const lora = applyLora(model, { r: 4, alpha: 8, targetModules: targets }, {
    generator: new Generator(0),
  });
  // 2 encoder blocks × (q, v) + 2 decoder blocks × (self q, v + cross q, v).
  assert.equal(lora.targets.length, 12);
  assert.ok(lora.targets.includes("encoder.block.1.layer.0.SelfAttention.v"));
  assert.ok(lora.targets.includes("decoder.block.0.layer.1.EncDecAttention.q"));
  const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad);
  assert.equal(trainable.length, 24);
  assert.deepEqual(logits(model), base, "fresh adapters leave the model unchanged");
  perturb(lora);
  const adapted = logits(model);
  assert.ok(maxDiff(adapted, base) > 1e-2, "the adapters change the logits");
  assert.deepEqual(lora.withAdaptersDisabled(() => logits(model)), base);
  lora.merge();
  assert.ok(maxDiff(logits(model), adapted) < 1e-5, "merged = adapted");
  lora.unmerge();
  assert.ok(maxDiff(logits(model), adapted) < 1e-5, "unmerged = adapted");
  assert.ok(maxDiff(lora.withAdaptersDisabled(() => logits(model)), base) < 1e-5, "base restored");
  model.dispose();
});

Deno.test("T5 LoRA adapters round-trip through PEFT's layout (SEQ_2_SEQ_LM, q and v names)", async () => {
  const model = await loadT5(T5_A);
  const lora = applyLora(model, { r: 4, alpha: 16, targetModules: ["q", "v"] }, {
    generator: new Generator(2),
  });
  perturb(lora, 3);
  const adapted = logits(model);
  const dir = join(await Deno.makeTempDir(), "adapter");
  await saveLora(lora, dir, "google/flan-t5-small");
  const config = JSON.parse(await Deno.readTextFile(join(dir, "adapter_config.json")));
  assert.equal(config.task_type, "SEQ_2_SEQ_LM");
  assert.deepEqual(config.target_modules, ["q", "v"]);
  assert.equal(config.fan_in_fan_out, false);
  const saved = await readSafetensors(join(dir, "adapter_model.safetensors"));
  assert.equal(saved.size, 24);
  assert.deepEqual(
    saved.get("base_model.model.decoder.block.1.layer.1.EncDecAttention.v.lora_B.weight")!.shape,
    [32, 4],
  );
  assert.deepEqual(
    saved.get("base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight")!.shape,
    [4, 32],
  );
  const fresh = await loadT5(T5_A);
  await loadLora(fresh, dir);
  assert.deepEqual(logits(fresh), adapted);
  model.dispose();
  fresh.dispose();
});

/** A tiny fresh T5 and 16 fixed pairs: the target is the source reversed. */
function tinyTask() {
  const model = new T5ForConditionalGeneration({
    vocab_size: 24,
    d_model: 32,
    d_kv: 8,
    num_heads: 4,
    d_ff: 64,
    num_layers: 2,
    feed_forward_proj: "gated-gelu",
    tie_word_embeddings: false,
    decoder_start_token_id: 0,
    relative_attention_num_buckets: 8,
    relative_attention_max_distance: 16,
  }, { backend: "cpu", generator: new Generator(0) });
  const g = new Generator(1);
  const sources: number[][] = [], labels: number[][] = [];
  for (let i = 0; i < 16; i++) {
    const s = Array.from({ length: 5 }, () => 2 + g.int(22));
    sources.push([...s, 1]);
    labels.push([...s.reverse(), 1]);
  }
  const decoderInputIds = labels.map((row) => [0, ...row.slice(0, -1)]);
  const loss = (): Tensor => {
    const out = model.forward({ inputIds: sources, decoderInputIds });
    const [b, t, v] = out.logits.shape;
    return crossEntropy(reshape(out.logits, [b * t, v]), reshape(tensor(labels), [b * t]));
  };
  return { model, loss, sources, labels };
}

Deno.test("a short LoRA SFT run on a tiny T5 (q, v; r 8) lowers the loss by at least 70%", () => {
  const { model, loss } = tinyTask();
  const evalLoss = () => tidy(() => loss().itemSync());
  model.eval();
  const before = evalLoss();
  const lora = applyLora(model, { r: 8, alpha: 16, targetModules: ["q", "v"] }, {
    generator: new Generator(2),
  });
  const opt = new optim.AdamW(lora.parameters(), { lr: 2e-2, weightDecay: 0 });
  model.train();
  for (let step = 0; step < 60; step++) {
    tidy(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  }
  model.eval();
  const after = evalLoss();
  const drop = 1 - after / before;
  console.log(
    `tiny T5 LoRA SFT: loss ${before.toFixed(3)} -> ${after.toFixed(3)} (-${
      (100 * drop).toFixed(1)
    }%)`,
  );
  assert.ok(
    drop >= 0.7,
    `loss ${before} -> ${after}: dropped ${(100 * drop).toFixed(1)}%, want >= 70%`,
  );
  // The frozen base is untouched.
  const baseNow = lora.withAdaptersDisabled(evalLoss);
  assert.equal(baseNow, before);
  model.dispose();
});

Deno.test("T5 dropout acts in training mode only, drawn from the model's generator", () => {
  // Each tiny model draws its weights, then its dropout masks, from its own Generator(0).
  const run = (train: boolean) => {
    const { model, loss } = tinyTask();
    model.train(train);
    const v = tidy(() => loss().itemSync());
    model.dispose();
    return v;
  };
  const evalA = run(false), evalB = run(false);
  assert.equal(evalA, evalB);
  const trainA = run(true), trainB = run(true);
  assert.equal(trainA, trainB, "same generator seed, same dropout masks");
  assert.notEqual(trainA, evalA, "dropout changes the training-mode loss");
});

Deno.test("the seq2seq value head: values over decoder positions, gradients to head and model", async () => {
  const model = await loadT5(T5_A);
  const policy = new Seq2SeqLMWithValueHead(model, { generator: new Generator(0) });
  assert.equal(policy.training, false);
  const out = tidy(() => {
    const r = policy.forward(BATCH);
    return { values: r.values!, logits: r.logits, hidden: r.decoderHiddenStates };
  });
  assert.deepEqual(out.values.shape, [3, 7]);
  assert.equal(out.hidden, undefined, "hidden states only when asked for");
  assert.deepEqual(out.logits.toArraySync(), logits(model), "the LM's logits are unchanged");
  // values = v_head.summary(decoder hidden states), checked by hand at one position.
  const hidden = tidy(() =>
    model.forward({ ...BATCH, outputHiddenStates: true }).decoderHiddenStates!.toArraySync()
  );
  const w = policy.v_head.summary.weight.toArraySync(),
    bias = policy.v_head.summary.bias!.itemSync();
  const at = (r: number, c: number) => {
    let s = bias;
    for (let k = 0; k < 32; k++) s += w[k] * hidden[(r * 7 + c) * 32 + k];
    return s;
  };
  assert.ok(Math.abs(out.values.toArraySync()[2 * 7 + 4] - at(2, 4)) < 1e-5);
  policy.train();
  tidy(() => mean(policy.forward(BATCH).values!).backward());
  assert.ok(policy.v_head.summary.weight.grad, "the value head gets a gradient");
  const q = model.stateDict().get("decoder.block.1.layer.0.SelfAttention.q.weight")!;
  assert.ok(q.grad && q.grad.toArraySync().some((x) => x !== 0), "the model gets a gradient");
  // The wrapper's names are the model's plus v_head.*, so LoRA on it has PEFT's paths and the
  // value head trains beside the adapters.
  const names = [...policy.stateDict().keys()];
  assert.deepEqual(names.filter((n) => !n.startsWith("v_head.")), [...model.stateDict().keys()]);
  const lora = applyLora(policy, { r: 2, targetModules: ["q", "v"] });
  assert.equal(lora.targets[0], "encoder.block.0.layer.0.SelfAttention.q");
  assert.equal(policy.v_head.summary.weight.requiresGrad, true);
  assert.equal(q.requiresGrad, false);
  policy.dispose();
});

Deno.test("a value-head model saves under TRL's names and loads back with loadSeq2SeqLM", async () => {
  const policy = await loadT5(T5_A, "cpu", { valueHead: true, seed: 4 }) as Seq2SeqLMWithValueHead;
  assert.ok(policy instanceof Seq2SeqLMWithValueHead);
  const dir = join(await Deno.makeTempDir(), "ckpt");
  await policy.save(dir);
  const saved = await readSafetensors(join(dir, "model.safetensors"));
  assert.deepEqual(saved.get("v_head.summary.weight")!.shape, [1, 32]);
  assert.deepEqual(saved.get("v_head.summary.bias")!.shape, [1]);
  assert.ok(saved.has("shared.weight") && saved.has("lm_head.weight"));
  assert.ok(![...saved.keys()].some((k) => k.startsWith("pretrained_model.")));
  const values = (p: Seq2SeqLM) => tidy(() => p.forward(BATCH).values!.toArraySync());
  const notes: string[] = [];
  const back = await loadT5(dir, "cpu", { valueHead: true, log: (m) => notes.push(m) });
  assert.deepEqual(values(back), values(policy));
  assert.equal(notes.length, 0, notes.join("\n"));
  const plain = await loadT5(dir, "cpu", { log: (m) => notes.push(m) });
  assert.match(notes.join("\n"), /has a value head \(v_head\.\*\); pass valueHead: true/);
  assert.deepEqual(logits(plain), logits(policy));
  notes.length = 0;
  const fresh = await loadT5(T5_A, "cpu", { valueHead: true, log: (m) => notes.push(m) });
  assert.match(notes.join("\n"), /no value head in the checkpoint; v_head starts fresh/);
  for (const m of [policy, back, plain, fresh]) m.dispose();
});
