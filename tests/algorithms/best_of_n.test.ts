// Best-of-n against TRL 0.7.4's BestOfNSampler run with a fake model, tokenizer and scorer.

import assert from "node:assert/strict";
import { bestOfN } from "../../algorithms/best_of_n/mod.ts";
import { keywordReward, lengthReward, scoreTexts } from "../../reward/mod.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/preference.json", import.meta.url)),
).best_of_n_v0_7_4;

Deno.test("bestOfN reproduces TRL 0.7.4 BestOfNSampler on its fake model", async () => {
  // The fixture's fake: sample i of query q appends (sum(q) + 3i + 2j) % 7 for j < maxNew.
  const generate = (rows: number[][], maxNew: number) =>
    rows.map((q, i) => {
      const s = q.reduce((a, b) => a + b, 0);
      return [...q, ...Array.from({ length: maxNew }, (_, j) => (s + 3 * i + 2 * j) % 7)];
    });
  const decode = (ids: number[]) => ids.map((t) => "abcdefg"[t]).join("");
  const count = (t: string, ch: string) => t.split(ch).length - 1;
  const reward = (texts: readonly string[]) =>
    texts.map((t) => count(t, "a") + 0.5 * count(t, "c") - 0.1 * t.length);
  const draws = [...golden.max_new_tokens_drawn_per_query];
  const results = await bestOfN(golden.queries, {
    generate,
    decode,
    reward,
    sampleSize: golden.sample_size,
    nCandidates: golden.n_candidates,
    lengthSampler: () => draws.shift(),
  });
  // TRL's torch.topk leaves the order of equal scores open: tied candidates compare as a set.
  results.forEach((r, q) => assertSameUpToTies(r.best, golden.result[q], r.ranked));
  for (const r of results) {
    assert.equal(r.ranked.length, golden.sample_size);
    for (let i = 1; i < r.ranked.length; i++) assert.ok(r.ranked[i - 1].score >= r.ranked[i].score);
  }
});

/** `got` equals `want` except that candidates of equal score may come in any order. */
function assertSameUpToTies(
  got: string[],
  want: string[],
  ranked: { text: string; score: number }[],
) {
  const score = new Map(ranked.map((c) => [c.text, c.score]));
  const byScore = (texts: string[]) => {
    const groups = new Map<number, string[]>();
    for (const t of texts) {
      groups.set(score.get(t)!, [...(groups.get(score.get(t)!) ?? []), t].sort());
    }
    return [...groups.entries()];
  };
  assert.deepEqual(byScore(got), byScore(want));
}

Deno.test("bestOfN keeps sampling order among equal scores, and the best set is what TRL's topk keeps", async () => {
  // Samples 0–3 of one query; scores 1, 3, 3, 2: samples 1 and 2 tie for first place.
  const scores = [1, 3, 3, 2];
  const best = async (nCandidates: number) =>
    (await bestOfN([[9]], {
      generate: (rows) => rows.map((q, i) => [...q, i]),
      decode: (ids) => ids.join(","),
      reward: (texts) => texts.map((t) => scores[Number(t.split(",")[1])]),
      sampleSize: 4,
      nCandidates,
      maxNewTokens: 1,
    }))[0];
  const r = await best(2);
  assert.deepEqual(r.ranked.map((c) => c.text), ["9,1", "9,2", "9,3", "9,0"], "stable order");
  // torch.topk([1, 3, 3, 2], 2) keeps indices {1, 2} in either order.
  assertSameUpToTies(r.best, ["9,2", "9,1"], r.ranked);
  // A tie straddling the cut: nCandidates 1 keeps the earlier sample.
  const one = await best(1);
  assert.deepEqual(one.best, ["9,1"]);
});

Deno.test("bestOfN rejects bad settings and bad reward outputs by name", async () => {
  const base = { generate: (r: number[][]) => r, decode: String, maxNewTokens: 1 };
  await assert.rejects(
    () => bestOfN([[1]], { ...base, reward: () => [1], sampleSize: 2, nCandidates: 3 }),
    /nCandidates must be an integer in \[1, sampleSize = 2\], got 3/,
  );
  await assert.rejects(
    () => bestOfN([[1]], { ...base, reward: () => [NaN, 1], sampleSize: 2 }),
    /returned NaN for text 0/,
  );
  await assert.rejects(
    () => bestOfN([[1]], { ...base, reward: () => [1], sampleSize: 2 }),
    /returned 1 scores for 2 texts/,
  );
  await assert.rejects(() => bestOfN([[]], { ...base, reward: () => [1] }), /query 0 is empty/);
});

Deno.test("plain-code reward functions share the one signature", async () => {
  assert.deepEqual(await scoreTexts(lengthReward(), ["ab", "abcd"]), [2, 4]);
  assert.deepEqual(await scoreTexts(lengthReward({ unit: "words" }), ["a b  c", ""]), [3, 0]);
  const kw = keywordReward({ great: 1, awful: -2 });
  assert.deepEqual(await scoreTexts(kw, ["Great, great film", "awful. not great", "greatly"]), [
    2,
    -1,
    0,
  ]);
});
