// The scale smoke run's cache builder: what it writes loads through the same offline paths the
// examples take (a GPT-2 checkpoint with a real-size tokenizer, a parquet split in IMDB's
// schema). A tiny GPT-2 shape keeps it fast; the full-size fills run in tools/scale_smoke.ts.

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadImdb } from "../../data/mod.ts";
import { loadCausalLM, loadTokenizer } from "../../models/mod.ts";
import { gpt2Repo } from "../../tools/scale/checkpoints.ts";
import { imdbDataset } from "../../tools/scale/datasets.ts";
import { commitFor, writeRepo } from "../../tools/scale/hub_cache.ts";

Deno.test("scale cache: a tiny-config GPT-2, its 50,257-token tokenizer (the TL;DR cue in five tokens, as GPT-2's) and an IMDB parquet split load offline", async () => {
  const hub = await Deno.makeTempDir({ prefix: "scale-cache-" });
  try {
    const shape = { layers: 2, width: 16, heads: 2, positions: 32 };
    const { dir } = await writeRepo(hub, {
      type: "model",
      id: "tiny/gpt2",
      files: gpt2Repo("tiny/gpt2", shape).files,
    });
    assert.equal(await Deno.readTextFile(join(dir, "refs", "main")), commitFor("tiny/gpt2"));
    const offline = { cacheDir: hub, offline: true };

    const tokenizer = await loadTokenizer("tiny/gpt2", offline);
    assert.equal(tokenizer.vocabSize, 50257);
    assert.equal(tokenizer.eosTokenId, 50256);
    const ids = tokenizer.encode("The movie was great, I loved it.");
    assert.equal(tokenizer.decode(ids), "The movie was great, I loved it.");
    // GPT-2 spells the TL;DR cue in five tokens and the tutorial's prompt cut leaves exactly
    // five: a made-up vocabulary that needs more cuts the cue off.
    const cue = tokenizer.encode("\nTL;DR:");
    assert.deepEqual(cue.map((id) => tokenizer.decode([id])), ["\n", "TL", ";", "DR", ":"]);

    const model = await loadCausalLM("tiny/gpt2", { ...offline, backend: "cpu", log: () => {} });
    try {
      assert.deepEqual([model.vocabSize, model.hiddenSize], [50257, 16]);
      const named = new Map(model.namedParameters());
      // Norm weights are written as ones, embeddings uniform with std 0.02.
      assert.ok((await named.get("transformer.ln_f.weight")!.toArray()).every((v) => v === 1));
      const wte = await named.get("transformer.wte.weight")!.toArray();
      const std = Math.sqrt(wte.reduce((s, v) => s + v * v, 0) / wte.length);
      assert.ok(Math.abs(std - 0.02) < 0.001, `embedding std ${std}`);
      const { logits } = model.forward({ inputIds: [ids.slice(0, 8)] });
      assert.deepEqual(logits.shape, [1, 8, 50257]);
      assert.ok((await logits.toArray()).every(Number.isFinite));
      logits.dispose();
    } finally {
      model.dispose();
    }

    await writeRepo(hub, { type: "dataset", id: "stanfordnlp/imdb", files: imdbDataset(6).files });
    const rows = (await loadImdb({ split: "test", hub: offline })).toArray();
    assert.deepEqual(rows.map((r) => r.label), [0, 0, 0, 1, 1, 1]);
    assert.ok(rows.every((r) => r.text.length >= 150), "reviews at least 150 characters");
  } finally {
    await Deno.remove(hub, { recursive: true });
  }
});
