// The committed tiny IMDB checkpoints (SYNTHETIC data): they load through the public loaders,
// stay small, tokenize like SyntheticWordTokenizer, and do what the offline preset needs.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../../data/mod.ts";
import { loadCausalLM, loadSequenceClassifier, loadTokenizer } from "../../models/mod.ts";
import {
  evaluateRewardModel,
  syntheticReviewPairs,
  TINY_PAIR_SEEDS,
  tinyRewardPairs,
} from "../../examples/imdb/reward_model.ts";
import { textPolarity } from "../../examples/imdb/synthetic_sentiment.ts";

const ASSETS = fileURLToPath(new URL("../../examples/assets/tiny-imdb", import.meta.url));
const POLICY = join(ASSETS, "policy");
const REWARD = join(ASSETS, "reward");
const MAX_BYTES = 5 * 1024 * 1024;

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    total += (await Deno.stat(join(dir, entry.name))).size;
  }
  return total;
}

Deno.test("tiny IMDB checkpoints load through the public loaders and stay under 5 MB", async () => {
  for (const dir of [POLICY, REWARD]) {
    const bytes = await folderBytes(dir);
    assert.ok(bytes < MAX_BYTES, `${dir}: ${bytes} bytes`);
  }
  const policy = await loadCausalLM(POLICY, { backend: "cpu" });
  const reward = await loadSequenceClassifier(REWARD, { backend: "cpu" });
  try {
    assert.equal(policy.modelType, "gpt2");
    assert.equal(policy.vocabSize, new SyntheticWordTokenizer().vocabSize);
    assert.equal(policy.eosTokenId, 1);
    assert.equal(reward.config.modelType, "distilbert");
    assert.equal(reward.numLabels, 1);
  } finally {
    policy.dispose();
    reward.dispose();
  }
});

Deno.test("the tiny checkpoints' tokenizers read SYNTHETIC reviews as SyntheticWordTokenizer does", async () => {
  const words = new SyntheticWordTokenizer();
  const policy = await loadTokenizer(POLICY);
  const reward = await loadTokenizer(REWARD);
  assert.equal(policy.vocabSize, words.vocabSize);
  assert.deepEqual(
    [policy.bosTokenId, policy.eosTokenId, policy.padTokenId],
    [words.eosTokenId, words.eosTokenId, words.eosTokenId],
  );
  const cls = reward.tokenToId("[CLS]")!, sep = reward.tokenToId("[SEP]")!;
  assert.equal(reward.padTokenId, words.padTokenId);
  for (const { text } of generateSyntheticReviews(300, { seed: 5 })) {
    const ids = words.encode(text);
    assert.deepEqual(policy.encode(text), ids, text);
    assert.equal(policy.decode(ids, { skipSpecialTokens: true }), text);
    assert.equal(policy.decode([1, ...ids, 1], { skipSpecialTokens: true }), words.decode(ids));
    assert.deepEqual(reward.encode(text), [cls, ...ids, sep], text);
  }
  assert.deepEqual(policy.encode("The plot was GREAT"), words.encode("the plot was great"));
  assert.deepEqual(policy.encode("a zebra"), words.encode("a zebra"), "unknown word → <unk>");
});

Deno.test("the committed reward model ranks held-out positive reviews above negative ones", async () => {
  const model = await loadSequenceClassifier(REWARD, { backend: "cpu" });
  const tokenizer = await loadTokenizer(REWARD);
  try {
    // Measured when the checkpoint was made: 0.992 on whole reviews, 0.955 on partial ones
    // (examples/assets/tiny-imdb/README.md). Some partial pairs carry no side at all.
    const whole = await evaluateRewardModel(model, tokenizer, tinyRewardPairs().test);
    assert.ok(whole >= 0.95, `whole-review pair accuracy ${whole}`);
    const partial = syntheticReviewPairs(512, TINY_PAIR_SEEDS.test + 1, { partialShare: 1 });
    const partialAccuracy = await evaluateRewardModel(model, tokenizer, partial);
    assert.ok(partialAccuracy >= 0.9, `partial-review pair accuracy ${partialAccuracy}`);
  } finally {
    model.dispose();
  }
});

Deno.test("the tiny policy continues a neutral prompt both positively and negatively", async () => {
  const policy = await loadCausalLM(POLICY, { backend: "cpu" });
  const tokenizer = await loadTokenizer(POLICY);
  try {
    const prompt = [tokenizer.bosTokenId!, ...tokenizer.encode("the acting was")];
    const { tokens } = await policy.generate(Array.from({ length: 32 }, () => prompt), {
      maxNewTokens: 24,
      doSample: true,
      seed: 3,
    });
    const texts = tokens.map((t) => tokenizer.decode(t, { skipSpecialTokens: true }));
    const sides = texts.map((t) => textPolarity(`the acting was ${t}`));
    const positive = sides.filter((s) => s > 0).length;
    const negative = sides.filter((s) => s < 0).length;
    // PPO needs room to move both ways: at least a quarter of the samples on each side
    // (measured: 15 positive, 12 negative, 5 neither).
    assert.ok(positive >= 8 && negative >= 8, `${positive} positive, ${negative} negative`);
    assert.ok(texts.every((t) => t.length > 0));
  } finally {
    policy.dispose();
  }
});
