/**
 * LoRA adapters on GPT-2's Conv1D projections and on torch-layout Linear layers: the update
 * formula, adapters off = the base model exactly, merged = unmerged, PEFT's file layout
 * round-tripping bit for bit, freezing, and the errors for targets that match nothing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  add,
  crossEntropy,
  Generator,
  matmul,
  mul,
  optim,
  reshape,
  slice,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { Linear, Sequential } from "../../core/nn/mod.ts";
import { applyLora, loadLora, saveLora } from "../../models/lora.ts";
import { readSafetensors } from "../../models/io/safetensors.ts";
import type { GPT2LMHeadModel } from "../../models/gpt2/model.ts";
import { expected, loadGpt2A } from "./gpt2_fixture.ts";

const IDS = expected.input_ids_right, MASK = expected.attention_mask_right;

function logits(model: GPT2LMHeadModel): Float32Array {
  return tidy(() => model.forward({ inputIds: IDS, attentionMask: MASK }).logits.toArraySync());
}

/** Gives every B non-zero values, as training would, so the adapters change the output. */
function perturb(params: ReturnType<ReturnType<typeof applyLora>["parameters"]>, seed = 1) {
  const g = new Generator(seed);
  for (const p of params) {
    if (!p.name?.endsWith("lora_B.weight")) continue;
    const data = p.storage.handle as Float32Array;
    data.set(g.normal(p.size, 0, 0.05), p.offset);
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("fresh adapters leave GPT-2 unchanged; disabled adapters give the base exactly", async () => {
  const model = await loadGpt2A();
  const base = logits(model);
  const lora = applyLora(model, { r: 4, alpha: 8, targetModules: ["c_attn", "c_proj"] }, {
    generator: new Generator(0),
  });
  assert.equal(lora.targets.length, 6); // 2 blocks × (attn.c_attn, attn.c_proj, mlp.c_proj)
  assert.deepEqual(logits(model), base);
  perturb(lora.parameters());
  const adapted = logits(model);
  assert.ok(maxDiff(adapted, base) > 1e-3, "the adapters should change the logits");
  const off = lora.withAdaptersDisabled(() => logits(model));
  assert.deepEqual(off, base);
  assert.deepEqual(logits(model), adapted, "adapters come back after withAdaptersDisabled");
  await lora.withAdaptersDisabled(async () => {
    await Promise.resolve();
    assert.equal(lora.enabled, false);
  });
  assert.equal(lora.enabled, true);
  assert.throws(() =>
    lora.withAdaptersDisabled(() => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(lora.enabled, true);
  model.dispose();
});

Deno.test("merged adapters equal unmerged ones within 1e-5, and unmerge restores the base", async () => {
  const model = await loadGpt2A();
  const base = logits(model);
  const weightBefore = model.transformer.h[0].attn.c_attn.weight.toArraySync();
  const lora = applyLora(model, { r: 2, alpha: 5, targetModules: ["c_attn", "c_fc"] });
  perturb(lora.parameters(), 2);
  const unmerged = logits(model);
  lora.merge();
  assert.ok(maxDiff(logits(model), unmerged) <= 1e-5);
  assert.throws(() => lora.withAdaptersDisabled(() => 0), /unmerge\(\) first/);
  assert.throws(() => lora.merge(), /already merged/);
  lora.unmerge();
  assert.ok(maxDiff(model.transformer.h[0].attn.c_attn.weight.toArraySync(), weightBefore) < 1e-6);
  assert.ok(maxDiff(lora.withAdaptersDisabled(() => logits(model)), base) <= 1e-5);
  model.dispose();
});

Deno.test("the LoRA update is base(x) + (alpha/r)·x Aᵀ Bᵀ for Conv1D and Linear", async () => {
  const model = await loadGpt2A();
  const layer = model.transformer.h[1].mlp.c_fc;
  const lora = applyLora(model, {
    r: 3,
    alpha: 6,
    targetModules: "transformer\\.h\\.1\\.mlp\\.c_fc",
  });
  assert.deepEqual(lora.targets, ["transformer.h.1.mlp.c_fc"]);
  perturb(lora.parameters(), 3);
  const [[, a], [, b]] = lora.namedParameters();
  assert.deepEqual(a.shape, [3, 32]); // [r, in]
  assert.deepEqual(b.shape, [128, 3]); // [out, r]
  tidy(() => {
    const x = tensor(new Generator(4).normal(5 * 32), [5, 32]);
    const want = add(
      add(matmul(x, layer.weight), layer.bias),
      mul(matmul(matmul(x, a, { transB: true }), b, { transB: true }), 2),
    );
    assert.ok(maxDiff(layer.forward(x).toArraySync(), want.toArraySync()) < 1e-6);
  });

  const mlp = new Sequential(new Linear(6, 5, { generator: new Generator(1) }));
  const base = tidy(() => mlp.forward(tensor(new Generator(2).normal(12), [2, 6])).toArraySync());
  const l2 = applyLora(mlp, { r: 2, alpha: 2, targetModules: ["0"] });
  perturb(l2.parameters(), 4);
  const x = tensor(new Generator(2).normal(12), [2, 6]);
  const adapted = tidy(() => mlp.forward(x).toArraySync());
  l2.merge();
  assert.ok(maxDiff(tidy(() => mlp.forward(x).toArraySync()), adapted) < 1e-6);
  l2.unmerge();
  assert.ok(
    maxDiff(l2.withAdaptersDisabled(() => tidy(() => mlp.forward(x).toArraySync())), base) < 1e-6,
  );
  x.dispose();
  model.dispose();
});

Deno.test("PEFT layout: save then load gives bit-identical adapters and outputs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = await loadGpt2A();
    const lora = applyLora(model, {
      r: 4,
      alpha: 16,
      dropout: 0.05,
      targetModules: ["c_attn"],
    }, { generator: new Generator(9) });
    perturb(lora.parameters(), 5);
    const out = join(dir, "adapter");
    await saveLora(lora, out, "gpt2-a");
    const config = JSON.parse(await Deno.readTextFile(join(out, "adapter_config.json")));
    assert.equal(config.peft_type, "LORA");
    assert.equal(config.r, 4);
    assert.equal(config.lora_alpha, 16);
    assert.equal(config.lora_dropout, 0.05);
    assert.deepEqual(config.target_modules, ["c_attn"]);
    assert.equal(config.fan_in_fan_out, true);
    assert.equal(config.base_model_name_or_path, "gpt2-a");
    const saved = await readSafetensors(join(out, "adapter_model.safetensors"));
    assert.deepEqual([...saved.keys()], [
      "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
      "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
      "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
      "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight",
    ]);
    assert.deepEqual(
      saved.get(
        "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
      )!.shape,
      [96, 4],
    );

    const fresh = await loadGpt2A();
    const loaded = await loadLora(fresh, out);
    const mine = new Map(lora.namedParameters());
    for (const [name, t] of loaded.namedParameters()) {
      assert.deepEqual(t.toArraySync(), mine.get(name)!.toArraySync(), name);
    }
    assert.equal(loaded.scale, 4);
    assert.deepEqual(logits(fresh.eval()), logits(model.eval()));
    model.dispose();
    fresh.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("only adapter weights train, and one step moves only them", async () => {
  const model = await loadGpt2A();
  const lora = applyLora(model, { r: 2, targetModules: ["c_attn"] });
  perturb(lora.parameters(), 6);
  const trainable = model.parameters().filter((p) => p.requiresGrad);
  assert.deepEqual(new Set(trainable), new Set(lora.parameters()));
  const wte = model.transformer.wte.weight.toArraySync();
  const opt = new optim.AdamW(lora.parameters(), { lr: 1e-2 });
  const before = lora.parameters().map((p) => p.toArraySync());
  tidy(() => {
    const ids = tensor(IDS);
    const out = model.forward({ inputIds: ids }).logits;
    const loss = crossEntropy(
      reshape(slice(out, [0, 0, 0], [3, 8, 97]), [24, 97]),
      reshape(slice(ids, [0, 1], [3, 8]), [24]),
    );
    loss.backward();
  });
  assert.equal(model.transformer.wte.weight.grad, null);
  assert.equal(model.transformer.h[0].attn.c_attn.weight.grad, null);
  opt.step();
  opt.zeroGrad();
  lora.parameters().forEach((p, i) => assert.ok(maxDiff(p.toArraySync(), before[i]) > 0));
  assert.deepEqual(model.transformer.wte.weight.toArraySync(), wte);
  model.dispose();
});

Deno.test("LoRA errors name the targets that exist", async () => {
  const model = await loadGpt2A();
  assert.throws(
    () => applyLora(model, { r: 2, targetModules: ["q_proj", "v_proj"] }),
    /matched no module; this model's Linear\/Conv1D layers are named 'c_attn', 'c_proj', 'c_fc'/,
  );
  assert.throws(
    () => applyLora(model, { r: 2, targetModules: ["attn"] }),
    /'transformer\.h\.0\.attn' is a GPT2Attention; LoRA adapts Linear and Conv1D/,
  );
  assert.throws(
    () => applyLora(model, { r: 0, targetModules: ["c_attn"] }),
    /r must be a positive/,
  );
  applyLora(model, { r: 2, targetModules: ["c_fc"] });
  assert.throws(() => applyLora(model, { r: 2, targetModules: ["c_fc"] }), /already has a LoRA/);
  model.dispose();
});
