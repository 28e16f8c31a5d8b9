// The SYNTHETIC preference and SFT sets: seeded, never an identical pair, held-out rows unseen in
// training, and every token known to the synthetic word tokenizer.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  generateSyntheticPreferences,
  generateSyntheticSft,
  SYNTHETIC_PREFERENCE_WORDS,
  SYNTHETIC_REVIEW_WORDS,
  syntheticPreferenceSplit,
  syntheticSftSplit,
  SyntheticWordTokenizer,
} from "../../data/mod.ts";
import { loadTokenizer } from "../../models/mod.ts";

// The grammar's adjectives of each polarity, written out here as the test's own oracle.
const POSITIVE = new Set(
  ("great wonderful brilliant excellent superb beautiful charming delightful gripping moving " +
    "clever fresh stunning memorable powerful touching lovely amazing fantastic enjoyable good fun")
    .split(" "),
);
const NEGATIVE = new Set(
  ("terrible awful boring dull weak bad poor bland clumsy forgettable painful stupid lazy messy " +
    "predictable flat tedious silly horrible annoying confusing lifeless").split(" "),
);

Deno.test("synthetic preferences: the same seed gives the same pairs, another seed others", () => {
  const a = generateSyntheticPreferences(300, { seed: 3 }).toArray();
  assert.deepEqual(generateSyntheticPreferences(300, { seed: 3 }).toArray(), a);
  assert.notDeepEqual(generateSyntheticPreferences(300, { seed: 4 }).toArray(), a);
  assert.ok(new Set(a.map((p) => p.prompt)).size >= 20, "prompts vary");
  assert.ok(new Set(a.map((p) => p.chosen)).size > 150, "chosen completions vary");
  const split = syntheticPreferenceSplit(200, 50, { seed: 3 });
  assert.deepEqual(syntheticPreferenceSplit(200, 50, { seed: 3 }), split);
});

Deno.test("synthetic preferences: chosen is never the rejected text, and carries the positive side", () => {
  const pairs = generateSyntheticPreferences(2000, { seed: 1 }).toArray();
  // The first clause (" [intensifier] adjective.") carries the pair's polarity.
  const adjective = (text: string) => text.slice(0, text.indexOf(".")).trim().split(" ").at(-1)!;
  for (const p of pairs) {
    assert.notEqual(p.chosen, p.rejected, JSON.stringify(p));
    assert.match(p.chosen, /^ \S/);
    assert.match(p.rejected, /^ \S/);
    assert.ok(POSITIVE.has(adjective(p.chosen)), `chosen: ${p.chosen}`);
    assert.ok(NEGATIVE.has(adjective(p.rejected)), `rejected: ${p.rejected}`);
  }
});

Deno.test("synthetic preferences: completions respect maxCompletionTokens and bad values are named", () => {
  const tokenizer = new SyntheticWordTokenizer();
  for (const max of [3, 6, 14, 30]) {
    for (const p of generateSyntheticPreferences(300, { seed: 2, maxCompletionTokens: max })) {
      assert.ok(tokenizer.tokenize(p.chosen).length <= max, `${max}: ${p.chosen}`);
      assert.ok(tokenizer.tokenize(p.rejected).length <= max, `${max}: ${p.rejected}`);
    }
  }
  const long = generateSyntheticPreferences(300, { seed: 2, maxCompletionTokens: 30 }).toArray();
  assert.ok(long.some((p) => tokenizer.tokenize(p.chosen).length > 10), "follow-ups are added");
  assert.throws(
    () => generateSyntheticPreferences(1, { maxCompletionTokens: 2 }),
    /maxCompletionTokens must be an integer >= 3, got 2/,
  );
});

Deno.test("synthetic preferences: held-out pairs never repeat a training completion of the same prompt", () => {
  const { train, test } = syntheticPreferenceSplit(400, 100, { seed: 5, maxCompletionTokens: 4 });
  assert.equal(train.length, 400);
  assert.equal(test.length, 100);
  const seen = new Set(
    train.toArray().flatMap((p) => [p.prompt + p.chosen, p.prompt + p.rejected]),
  );
  for (const p of test) {
    assert.ok(!seen.has(p.prompt + p.chosen) && !seen.has(p.prompt + p.rejected), p.prompt);
  }
});

Deno.test("synthetic SFT set: the chosen side as prompt -> completion", () => {
  const pairs = generateSyntheticPreferences(50, { seed: 7 }).toArray();
  const sft = generateSyntheticSft(50, { seed: 7 }).toArray();
  assert.deepEqual(sft, pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen })));
  const split = syntheticSftSplit(40, 10, { seed: 7 });
  const prefs = syntheticPreferenceSplit(40, 10, { seed: 7 });
  assert.deepEqual(
    split.test.toArray(),
    prefs.test.toArray().map((p) => ({
      prompt: p.prompt,
      completion: p.chosen,
    })),
  );
});

Deno.test("synthetic preferences: every token is in the synthetic vocabulary (no <unk>)", () => {
  const known = new Set(SYNTHETIC_REVIEW_WORDS);
  const missing = SYNTHETIC_PREFERENCE_WORDS.filter((w) => !known.has(w));
  assert.deepEqual(missing, [], "grammar words outside the review vocabulary");
  const tokenizer = new SyntheticWordTokenizer();
  for (const p of generateSyntheticPreferences(3000, { seed: 11, maxCompletionTokens: 30 })) {
    for (const text of [p.prompt, p.chosen, p.rejected]) {
      assert.ok(!tokenizer.encode(text).includes(tokenizer.unkTokenId), text);
    }
  }
});

Deno.test("synthetic preferences: the tiny policy's tokenizer reads them without <unk>, as the synthetic one does", async () => {
  const dir = fileURLToPath(new URL("../../examples/assets/tiny-imdb/policy", import.meta.url));
  const tiny = await loadTokenizer(dir);
  const synthetic = new SyntheticWordTokenizer();
  assert.notEqual(tiny.unkTokenId, undefined);
  for (const p of generateSyntheticPreferences(500, { seed: 12, maxCompletionTokens: 30 })) {
    for (const text of [p.prompt, p.chosen, p.rejected]) {
      const ids = tiny.encode(text, { addSpecialTokens: false });
      assert.ok(!ids.includes(tiny.unkTokenId!), text);
      assert.deepEqual(ids, synthetic.encode(text), text);
    }
  }
});
