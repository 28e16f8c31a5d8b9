import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  diffKeys,
  gpt2KeysForSave,
  gpt2WeightNames,
  normalizeGpt2Keys,
  stripPrefix,
  tieLmHead,
} from "../../../models/io/keys.ts";
import type { HostTensor, StateDict } from "../../../models/io/host.ts";
import { readSafetensors } from "../../../models/io/safetensors.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

const t = (value: number): HostTensor => ({
  dtype: "F32",
  shape: [1],
  data: new Float32Array([value]),
});

Deno.test("bare and transformer.-prefixed GPT-2 checkpoints normalise to the same names", async () => {
  const bare = await readSafetensors(fixture("models/gpt2-a/model.safetensors"));
  assert.ok(bare.has("h.0.attn.bias"), "the fixture carries mask buffers");
  const prefixed: StateDict = new Map([...bare].map(([k, v]) => [`transformer.${k}`, v]));
  const a = normalizeGpt2Keys(bare);
  const b = normalizeGpt2Keys(prefixed);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  assert.deepEqual(diffKeys(a, gpt2WeightNames(2)), { missing: [], unexpected: [] });
  assert.equal(a.get("lm_head.weight"), a.get("wte.weight"), "head tied to the embedding");
  assert.ok(a.has("h.0.attn.c_attn.bias"), "a weight named *.bias is not a mask buffer");
});

Deno.test("masked_bias is dropped, an explicit lm_head is kept, and prefix clashes are errors", () => {
  const state: StateDict = new Map([
    ["transformer.wte.weight", t(1)],
    ["transformer.h.0.attn.masked_bias", t(2)],
    ["lm_head.weight", t(3)],
  ]);
  const out = normalizeGpt2Keys(state);
  assert.deepEqual([...out.keys()], ["wte.weight", "lm_head.weight"]);
  assert.equal(out.get("lm_head.weight")!.data[0], 3);
  assert.throws(
    () => stripPrefix(new Map([["transformer.a", 1], ["a", 2]]), "transformer."),
    /both "transformer\.a" and "a": ambiguous/,
  );
  assert.throws(() => tieLmHead(new Map()), /cannot tie "lm_head\.weight" to "wte\.weight"/);
});

Deno.test("gpt2KeysForSave prefixes transformer. and leaves a tied head out", () => {
  const state = new Map([["wte.weight", t(1)], ["ln_f.bias", t(2)], ["lm_head.weight", t(1)]]);
  assert.deepEqual([...gpt2KeysForSave(state).keys()], [
    "transformer.wte.weight",
    "transformer.ln_f.bias",
  ]);
  assert.deepEqual([...gpt2KeysForSave(state, false).keys()], [
    "transformer.wte.weight",
    "transformer.ln_f.bias",
    "lm_head.weight",
  ]);
  const round = normalizeGpt2Keys(gpt2KeysForSave(state) as StateDict);
  assert.deepEqual([...round.keys()], ["wte.weight", "ln_f.bias", "lm_head.weight"]);
});
