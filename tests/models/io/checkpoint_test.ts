import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  findCheckpointFile,
  loadConfig,
  loadStateDict,
  saveCheckpoint,
} from "../../../models/io/checkpoint.ts";
import { openModel } from "../../../models/hub/repo.ts";
import type { StateDict } from "../../../models/io/host.ts";
import { encodeSafetensors, readSafetensors } from "../../../models/io/safetensors.ts";
import { readTorchCheckpoint } from "../../../models/io/torch_bin.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

function bits(data: Float32Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

function assertSameTensors(a: StateDict, b: StateDict, what: string) {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: key sets`);
  for (const [name, tensor] of a) {
    const other = b.get(name)!;
    assert.deepEqual(other.shape, tensor.shape, `${what}: ${name} shape`);
    assert.deepEqual(bits(other.data), bits(tensor.data), `${what}: ${name} values`);
  }
}

for (const model of ["gpt2-a", "distilbert-a"]) {
  Deno.test(`${model}: safetensors and pytorch_model.bin give identical tensors for every key`, async () => {
    const dir = fixture(`models/${model}`);
    const fromSafetensors = await readSafetensors(join(dir, "model.safetensors"));
    const fromBin = await readTorchCheckpoint(join(dir, "pytorch_model.bin"));
    assert.ok(fromSafetensors.size >= 30);
    assertSameTensors(fromSafetensors, fromBin, model);
  });
}

Deno.test("gpt2-a: the weights have the shapes its config implies", async () => {
  const dir = fixture("models/gpt2-a");
  const config = await loadConfig(dir);
  const state = await loadStateDict(dir);
  const [v, d, t] = [config.vocab_size, config.n_embd, config.n_positions] as number[];
  assert.deepEqual(state.get("wte.weight")!.shape, [v, d]);
  assert.deepEqual(state.get("wpe.weight")!.shape, [t, d]);
  assert.deepEqual(state.get("h.1.attn.c_attn.weight")!.shape, [d, 3 * d]);
  assert.equal(state.get("wte.weight")!.dtype, "F32");
});

Deno.test("loadStateDict prefers model.safetensors and falls back to pytorch_model.bin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(
      fixture("models/distilbert-a/pytorch_model.bin"),
      join(dir, "pytorch_model.bin"),
    );
    const files = await openModel(dir);
    assert.equal((await findCheckpointFile(files)).name, "pytorch_model.bin");
    const fromBin = await loadStateDict(dir);
    await Deno.copyFile(
      fixture("models/distilbert-a/model.safetensors"),
      join(dir, "model.safetensors"),
    );
    assert.equal((await findCheckpointFile(files)).name, "model.safetensors");
    assertSameTensors(await loadStateDict(dir), fromBin, "distilbert-a");
    await Deno.remove(join(dir, "model.safetensors"));
    await Deno.remove(join(dir, "pytorch_model.bin"));
    await assert.rejects(loadStateDict(dir), /has no weights: looked for model\.safetensors/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sharded safetensors load through model.safetensors.index.json", async () => {
  const full = await readSafetensors(fixture("models/gpt2-a/model.safetensors"));
  const dir = await Deno.makeTempDir();
  try {
    const names = [...full.keys()];
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await Deno.writeFile(
        join(dir, file),
        encodeSafetensors(new Map(shard.map((n) => [n, full.get(n)!]))),
      );
      for (const n of shard) weightMap[n] = file;
    }
    await Deno.writeTextFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
    );
    assertSameTensors(await loadStateDict(dir), full, "sharded");
    const some = await loadStateDict(dir, { include: (n) => n.startsWith("h.1.") });
    assert.deepEqual([...some.keys()].sort(), names.filter((n) => n.startsWith("h.1.")).sort());
    // An index naming a tensor its shard lacks is an error, not a silent gap.
    weightMap["ghost.weight"] = "model-00001-of-00002.safetensors";
    await Deno.writeTextFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: weightMap }),
    );
    await assert.rejects(
      loadStateDict(dir),
      /1 tensors listed in the index are absent.*"ghost\.weight"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a saved checkpoint loads back bit-identical, into a new or an existing folder", async () => {
  const source = await loadStateDict(fixture("models/gpt2-a"));
  const config = await loadConfig(fixture("models/gpt2-a"));
  const root = await Deno.makeTempDir();
  try {
    const folder = join(root, "nested", "out");
    await saveCheckpoint(folder, {
      config,
      tensors: source,
      extraFiles: { "README.md": "tiny\n" },
    });
    assert.deepEqual(
      [...Deno.readDirSync(folder)].map((e) => e.name).sort(),
      ["README.md", "config.json", "model.safetensors"],
    );
    assert.deepEqual([...Deno.readDirSync(join(root, "nested"))].map((e) => e.name), ["out"]);
    assertSameTensors(await loadStateDict(folder), source, "round trip");
    assert.deepEqual(await loadConfig(folder), config);
    // Saving over an existing folder replaces the files in place.
    const changed = new Map(source);
    changed.set("ln_f.bias", { dtype: "F32", shape: [32], data: new Float32Array(32).fill(0.5) });
    await saveCheckpoint(folder, { config: { ...config, n_layer: 2 }, tensors: changed });
    assert.deepEqual(
      [...(await loadStateDict(folder)).get("ln_f.bias")!.data],
      new Array(32).fill(0.5),
    );
    assert.equal([...Deno.readDirSync(folder)].length, 3, "no temporary files left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
