/**
 * What every causal architecture gets from the table and the wrappers, checked on llama-a,
 * qwen2-a and opt-a: save → load is bit-identical under transformers' names (a tied head
 * saved once); a checkpoint of the bare model (no `model.` prefix) loads; TRL's value head
 * reads the final hidden states and saves as `v_head.summary.*`; the score head pools the last
 * real token on either padding side and saves as `score.weight` without the LM head; LoRA with
 * PEFT's default targets leaves the base exact when off, merges, and round-trips PEFT's files.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { add, Generator, memory, sum, type Tensor, tidy } from "../../core/mod.ts";
import type { Module } from "../../core/nn/mod.ts";
import { loadCausalLM, loadCausalLMForSequenceClassification } from "../../models/causal_lm.ts";
import type { CausalLM } from "../../models/contract.ts";
import { readSafetensors, writeSafetensors } from "../../models/io/safetensors.ts";
import { applyLora, loadLora, saveLora } from "../../models/lora.ts";
import { CausalLMWithValueHead } from "../../models/with_value_head.ts";
import { expectedOf, fixtureDir } from "./causal_reference.ts";

const CASES = [
  { name: "llama-a", tied: false, className: "LlamaForCausalLM", hidden: 32 },
  { name: "qwen2-a", tied: true, className: "Qwen2ForCausalLM", hidden: 32 },
  { name: "opt-a", tied: true, className: "OPTForCausalLM", hidden: 32 },
];

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

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const quiet = { backend: "cpu", log: () => {} };

for (const c of CASES) {
  const dir = fixtureDir(c.name);
  const e = await expectedOf(c.name);
  const logitsOf = (m: CausalLM) =>
    tidy(() =>
      m.forward({ inputIds: e.input_ids_right, attentionMask: e.attention_mask_right }).logits
        .toArraySync()
    );

  Deno.test(`${c.name}: save() writes transformers' names and loads back bit-identical`, async () => {
    await withTempDir(async (tmp) => {
      const model = await loadCausalLM(dir, quiet);
      await model.save(join(tmp, "saved"));
      const config = JSON.parse(await Deno.readTextFile(join(tmp, "saved", "config.json")));
      assert.deepEqual(config.architectures, [c.className]);
      assert.equal(config.model_type, model.modelType);
      const saved = await readSafetensors(join(tmp, "saved", "model.safetensors"));
      assert.equal(saved.has("lm_head.weight"), !c.tied, "a tied head is saved once");
      const original = await readSafetensors(join(dir, "model.safetensors"));
      assert.deepEqual([...saved.keys()].sort(), [...original.keys()].sort());
      const again = await loadCausalLM(join(tmp, "saved"), quiet);
      assert.deepEqual(weights(again), weights(model));
      // The same tensors under the bare model's names (as a saved `*Model` has them) load too.
      const bare = new Map(
        [...original].map(([k, v]) => [k.startsWith("model.") ? k.slice(6) : k, v]),
      );
      await Deno.copyFile(join(dir, "config.json"), join(tmp, "config.json"));
      await writeSafetensors(join(tmp, "model.safetensors"), bare);
      const fromBare = await loadCausalLM(tmp, quiet);
      assert.deepEqual(weights(fromBare), weights(model));
      for (const m of [model, again, fromBare]) m.dispose();
    });
  });

  Deno.test(`${c.name}: TRL's value head reads the final hidden states and saves as v_head`, async () => {
    await withTempDir(async (tmp) => {
      const notes: string[] = [];
      const model = await loadCausalLM(dir, {
        ...quiet,
        valueHead: true,
        log: (m) => notes.push(m),
      });
      assert.match(notes.join("\n"), /v_head starts fresh/);
      assert.ok(model instanceof CausalLMWithValueHead);
      const [values, manual, logits] = tidy(() => {
        const out = model.forward({
          inputIds: e.input_ids_right,
          attentionMask: e.attention_mask_right,
          outputHiddenStates: true,
        });
        return [out.values!, model.v_head.summary.forward(out.hiddenStates!), out.logits].map((
          t: Tensor,
        ) => t.toArraySync());
      });
      assert.equal(values.length, 3 * 9);
      assert.deepEqual(values, manual);
      assert.deepEqual(logits, logitsOf(model.base), "the wrapper's logits are the base's");
      await model.save(join(tmp, "vh"));
      const saved = await readSafetensors(join(tmp, "vh", "model.safetensors"));
      assert.deepEqual(saved.get("v_head.summary.weight")!.shape, [1, c.hidden]);
      assert.deepEqual(saved.get("v_head.summary.bias")!.shape, [1]);
      const again = await loadCausalLM(join(tmp, "vh"), { ...quiet, valueHead: true });
      assert.deepEqual(weights(again), weights(model));
      const plainNotes: string[] = [];
      const plain = await loadCausalLM(join(tmp, "vh"), {
        ...quiet,
        log: (m) => plainNotes.push(m),
      });
      assert.match(plainNotes.join("\n"), /unused checkpoint tensors v_head\.summary\.weight/);
      for (const m of [model, again, plain]) m.dispose();
    });
  });

  Deno.test(`${c.name}: the score head pools the last real token and saves as score.weight`, async () => {
    await withTempDir(async (tmp) => {
      const notes: string[] = [];
      const rm = await loadCausalLMForSequenceClassification(dir, {
        ...quiet,
        numLabels: 1,
        log: (m) => notes.push(m),
      });
      assert.match(notes.join("\n"), /no score head in the checkpoint; it starts fresh/);
      const reward = (side: "left" | "right") =>
        tidy(() =>
          rm.forward({
            inputIds: e[`input_ids_${side}`],
            attentionMask: e[`attention_mask_${side}`],
          }).logits.toArraySync()
        );
      const right = reward("right"), left = reward("left");
      assert.equal(right.length, 3);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(right[i] - left[i]) < 1e-5);
      const alone = tidy(() =>
        rm.forward({ inputIds: [e.input_ids_right[2].slice(0, 3)] }).logits.toArraySync()
      );
      assert.ok(Math.abs(alone[0] - right[2]) < 1e-5);
      await rm.save(join(tmp, "rm"));
      const cfg = JSON.parse(await Deno.readTextFile(join(tmp, "rm", "config.json")));
      assert.deepEqual(cfg.architectures, [
        c.className.replace("ForCausalLM", "ForSequenceClassification"),
      ]);
      assert.equal(cfg.num_labels, 1);
      const saved = await readSafetensors(join(tmp, "rm", "model.safetensors"));
      assert.deepEqual(saved.get("score.weight")!.shape, [1, c.hidden]);
      assert.equal(saved.has("lm_head.weight"), false, "a classifier has no LM head");
      const again = await loadCausalLMForSequenceClassification(join(tmp, "rm"), quiet);
      assert.equal(again.numLabels, 1);
      assert.deepEqual(weights(again), weights(rm));
      assert.deepEqual(
        tidy(() =>
          again.forward({ inputIds: e.input_ids_left, attentionMask: e.attention_mask_left })
            .logits.toArraySync()
        ),
        left,
      );
      rm.dispose();
      again.dispose();
    });
  });

  Deno.test(`${c.name}: LoRA on PEFT's default targets: off = base, merge, PEFT round trip`, async () => {
    await withTempDir(async (tmp) => {
      const model = await loadCausalLM(dir, quiet);
      const base = logitsOf(model);
      const lora = applyLora(model, { r: 4, alpha: 8 }, { generator: new Generator(0) });
      const layers = c.name === "opt-a" ? "model.decoder.layers" : "model.layers";
      assert.deepEqual([...lora.targets].sort(), [
        `${layers}.0.self_attn.q_proj`,
        `${layers}.0.self_attn.v_proj`,
        `${layers}.1.self_attn.q_proj`,
        `${layers}.1.self_attn.v_proj`,
      ]);
      assert.deepEqual(logitsOf(model), base, "fresh adapters leave the model unchanged");
      const g = new Generator(3);
      for (const p of lora.parameters()) {
        if (p.name?.endsWith("lora_B.weight")) {
          (p.storage.handle as Float32Array).set(g.normal(p.size, 0, 0.05), p.offset);
        }
      }
      const adapted = logitsOf(model);
      assert.ok(maxDiff(adapted, base) > 1e-3, "trained adapters change the logits");
      assert.deepEqual(lora.withAdaptersDisabled(() => logitsOf(model)), base);
      assert.ok(model.parameters().filter((p) => p.requiresGrad).length === 8);
      await saveLora(lora, join(tmp, "adapter"));
      const saved = await readSafetensors(join(tmp, "adapter", "adapter_model.safetensors"));
      assert.ok(saved.has(`base_model.model.${layers}.0.self_attn.q_proj.lora_A.weight`));
      const peft = JSON.parse(await Deno.readTextFile(join(tmp, "adapter", "adapter_config.json")));
      assert.deepEqual(peft.target_modules, ["q_proj", "v_proj"]);
      assert.equal(peft.fan_in_fan_out, false);
      const fresh = await loadCausalLM(dir, quiet);
      await loadLora(fresh, join(tmp, "adapter"));
      assert.deepEqual(logitsOf(fresh), adapted, "loaded adapters give the same logits");
      lora.merge();
      assert.ok(maxDiff(logitsOf(model), adapted) < 1e-5, "merged = unmerged");
      lora.unmerge();
      assert.ok(maxDiff(lora.withAdaptersDisabled(() => logitsOf(model)), base) < 1e-5);
      model.dispose();
      fresh.dispose();
    });
  });
}

Deno.test("generation, training steps, wrappers and failed loads leave no tensors behind", async () => {
  for (const c of CASES) {
    const e = await expectedOf(c.name);
    const prompts = e.input_ids_left.map((row, r) =>
      row.filter((_, i) => e.attention_mask_left[r][i] === 1)
    );
    const model = await loadCausalLM(fixtureDir(c.name), { ...quiet, valueHead: true });
    const gen = async () => {
      await model.generate(prompts, { maxNewTokens: 4 });
      await model.generate(prompts, {
        maxNewTokens: 4,
        doSample: true,
        seed: 1,
        sampleOnDevice: true,
      });
      await model.generate(prompts, { maxNewTokens: 4, useCache: false });
    };
    const trainStep = () =>
      tidy(() => {
        const out = model.forward({
          inputIds: e.input_ids_right,
          attentionMask: e.attention_mask_right,
        });
        sum(add(sum(out.logits), sum(out.values!))).backward();
      });
    model.train();
    await gen();
    trainStep();
    const before = memory().tensors;
    for (let i = 0; i < 2; i++) {
      await gen();
      trainStep();
    }
    assert.equal(memory().tensors, before, `${c.name}: tensors leaked`);
    model.dispose();
    const empty = memory().tensors;
    await withTempDir(async (bad) => {
      const config = JSON.parse(await Deno.readTextFile(join(fixtureDir(c.name), "config.json")));
      const wider = c.name === "opt-a" ? { ffn_dim: 65 } : { intermediate_size: 65 };
      await Deno.writeTextFile(join(bad, "config.json"), JSON.stringify({ ...config, ...wider }));
      await Deno.copyFile(
        join(fixtureDir(c.name), "model.safetensors"),
        join(bad, "model.safetensors"),
      );
      await assert.rejects(loadCausalLM(bad, quiet), /shape mismatches/);
    });
    assert.equal(memory().tensors, empty, `${c.name}: a failed load frees the model it built`);
  }
});
