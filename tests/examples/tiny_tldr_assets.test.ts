// The committed tiny TL;DR checkpoints (SYNTHETIC data): they load through the public loaders,
// stay small, share a tokenizer that round-trips the corpus, and do what the offline preset
// needs: the SFT model states the gist of held-out posts, the reward model ranks held-out pairs.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  generateSyntheticSummaries,
  generateSyntheticSummaryComparisons,
  gistScore,
} from "../../data/mod.ts";
import { loadCausalLM, loadTokenizer } from "../../models/mod.ts";
import { loadGpt2TokenRewardModel, TokenRewardTrainer } from "../../reward/mod.ts";
import { comparisonTexts, tokenizeComparisons } from "../../examples/tldr/data.ts";
import { tldrPreset } from "../../examples/tldr/presets.ts";
import { generateSummaries } from "../../examples/tldr/summaries.ts";

const ASSETS = fileURLToPath(new URL("../../examples/assets/tiny-tldr", import.meta.url));
const DIRS = ["policy", "sft", "reward"].map((d) => join(ASSETS, d));
const MAX_BYTES = 5 * 1024 * 1024;

Deno.test("tiny TL;DR checkpoints: every file under 5 MB; they load; one tokenizer round-trips the corpus", async () => {
  for (const dir of DIRS) {
    for await (const entry of Deno.readDir(dir)) {
      const bytes = (await Deno.stat(join(dir, entry.name))).size;
      assert.ok(bytes < MAX_BYTES, `${dir}/${entry.name}: ${bytes} bytes`);
    }
  }
  const tokenizer = await loadTokenizer(DIRS[0]);
  assert.equal(tokenizer.eosTokenId, tokenizer.vocabSize - 1);
  for (const post of generateSyntheticSummaries(100, { seed: 77 })) {
    const text = post.prompt + post.label;
    assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  }
  for (const dir of DIRS.slice(1)) {
    assert.deepEqual(
      (await loadTokenizer(dir)).encode("POST: hi\nTL;DR:"),
      tokenizer.encode("POST: hi\nTL;DR:"),
    );
  }
  const policy = await loadCausalLM(DIRS[0], { backend: "cpu" });
  assert.equal(policy.vocabSize, tokenizer.vocabSize);
  policy.dispose();
  const config = JSON.parse(await Deno.readTextFile(join(DIRS[2], "config.json")));
  assert.deepEqual(config.architectures, ["GPTRewardModel"]);
});

Deno.test("tiny TL;DR sft/ states >= 60% of held-out posts' gist (measured 70.8%); reward/ ranks >= 80% of held-out pairs (measured 92.2%)", async () => {
  const preset = tldrPreset("tiny");
  const tokenizer = await loadTokenizer(DIRS[1]);
  const sft = await loadCausalLM(DIRS[1], { backend: "cpu", log: () => {} });
  const posts = generateSyntheticSummaries(32, { seed: 4242 }).toArray();
  let gist = 0;
  try {
    const summaries = await generateSummaries(sft, tokenizer, posts, preset.sft);
    gist = summaries.reduce((s, x, i) => s + gistScore(x, posts[i].gist), 0) / posts.length;
  } finally {
    sft.dispose();
  }
  assert.ok(gist >= GIST_TARGET, `mean gist ${gist}`);

  const rows = generateSyntheticSummaryComparisons(128, { seed: 4243 }).toArray();
  const r = preset.reward;
  const pairs = tokenizeComparisons(
    comparisonTexts("test", rows, "strict").pairs,
    tokenizer,
    r.maxLength,
    r.prefix,
  );
  const rm = await loadGpt2TokenRewardModel(DIRS[2], { backend: "cpu" });
  try {
    const trainer = new TokenRewardTrainer({ evalBatchSize: 64, maxLength: r.maxLength }, {
      model: rm,
      trainDataset: pairs.pairs,
      tokenizer,
    });
    const { accuracy } = await trainer.evaluate(pairs.pairs);
    trainer.optimizer.dispose();
    assert.ok(accuracy >= ACCURACY_TARGET, `held-out pair accuracy ${accuracy}`);
  } finally {
    rm.dispose();
  }
});

/** Stated targets for the committed checkpoints (see examples/assets/tiny-tldr/README.md). */
const GIST_TARGET = 0.6;
const ACCURACY_TARGET = 0.8;
