import assert from "node:assert/strict";
import {
  allPairs,
  Dataset,
  LengthSampler,
  longerThan,
  pairIndex,
  pairPositions,
  pairsFromLabeled,
  Rng,
  tokenQueries,
  wordQueries,
} from "../../data/mod.ts";

Deno.test("pairs: the index mapping is a bijection for every small shape, unequal sides included", () => {
  for (let nChosen = 1; nChosen <= 9; nChosen++) {
    for (let nRejected = 1; nRejected <= 9; nRejected++) {
      const total = nChosen * nRejected;
      const seen = new Set<string>();
      for (let i = 0; i < total; i++) {
        const [c, r] = pairPositions(i, nChosen, nRejected);
        assert.ok(
          c >= 0 && c < nChosen && r >= 0 && r < nRejected,
          `${nChosen}x${nRejected} @${i}`,
        );
        assert.equal(pairIndex(c, r, nRejected), i);
        seen.add(`${c},${r}`);
      }
      assert.equal(seen.size, total, `${nChosen}x${nRejected} covers every pair exactly once`);
      assert.throws(() => pairPositions(total, nChosen, nRejected), RangeError);
    }
  }
});

Deno.test("pairs: the tutorial's index // len(chosen) mapping would fail on unequal sides", () => {
  // Recorded here so nobody "simplifies" back to it: with 2 chosen and 3 rejected it repeats
  // pairs and misses others.
  const nChosen = 2;
  const nRejected = 3;
  const tutorial = new Set<string>();
  for (let i = 0; i < nChosen * nRejected; i++) {
    tutorial.add(`${Math.floor(i / nChosen)},${i % nChosen}`);
  }
  assert.ok(tutorial.has("2,0"), "the tutorial mapping indexes past the chosen side");
  const ours = allPairs(["c0", "c1"], ["r0", "r1", "r2"]);
  assert.deepEqual(ours.toArray().map((p) => `${p.chosen}/${p.rejected}`), [
    "c0/r0",
    "c0/r1",
    "c0/r2",
    "c1/r0",
    "c1/r1",
    "c1/r2",
  ]);
});

Deno.test("pairs: IMDB-sized sides give 156,250,000 lazily built pairs", () => {
  const positives = Dataset.fromGetter(12_500, (i) => `pos ${i}`);
  const negatives = Dataset.fromGetter(12_500, (i) => `neg ${i}`);
  const pairs = allPairs(positives, negatives);
  assert.equal(pairs.length, 156_250_000);
  assert.deepEqual(pairs.get(0), { chosen: "pos 0", rejected: "neg 0" });
  assert.deepEqual(pairs.get(156_249_999), { chosen: "pos 12499", rejected: "neg 12499" });
  assert.deepEqual(pairs.get(12_501), { chosen: "pos 1", rejected: "neg 1" });
  const shuffled = pairs.shuffle(3);
  const draws = Array.from({ length: 100 }, (_, i) => shuffled.get(i));
  assert.equal(new Set(draws.map((p) => `${p.chosen}|${p.rejected}`)).size, 100);
});

Deno.test("pairsFromLabeled: splits rows by label and keeps the chosen value", () => {
  const rows = [
    { text: "good a", label: 1 },
    { text: "bad a", label: 0 },
    { text: "good b", label: 1 },
    { text: "bad b", label: 0 },
    { text: "bad c", label: 0 },
    { text: "unlabeled", label: -1 },
  ];
  const pairs = pairsFromLabeled(rows, {
    isChosen: (r) => r.label === 1,
    isRejected: (r) => r.label === 0,
    value: (r) => r.text,
  });
  assert.equal(pairs.length, 6);
  assert.deepEqual(pairs.get(4), { chosen: "good b", rejected: "bad b" });
  const all = pairsFromLabeled(rows, { isChosen: (r) => r.label === 1 });
  assert.equal(all.length, 8);
});

Deno.test("LengthSampler: TRL semantics, upper bound exclusive, seeded", () => {
  const sampler = new LengthSampler(2, 8, { seed: 11 });
  assert.deepEqual(sampler.values, [2, 3, 4, 5, 6, 7]);
  const counts = new Map<number, number>();
  for (let i = 0; i < 6000; i++) {
    const n = sampler.sample();
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7]);
  for (const count of counts.values()) assert.ok(Math.abs(count - 1000) < 150, `${count}`);
  const a = new LengthSampler(4, 16, { seed: 1 });
  const b = new LengthSampler(4, 16, { seed: 1 });
  assert.deepEqual(
    Array.from({ length: 20 }, () => a.sample()),
    Array.from({ length: 20 }, () => b.sample()),
  );
  assert.equal(new LengthSampler(5, 6).sample(), 5);
  assert.throws(() => new LengthSampler(3, 3), /max is exclusive/);
  const shared = new Rng(2);
  assert.ok(new LengthSampler(0, 3, { rng: shared }).sample() < 3);
});

const charTokenizer = {
  encode: (text: string) => [...text].map((c) => c.codePointAt(0)!),
  decode: (ids: number[]) => String.fromCodePoint(...ids),
};

Deno.test("tokenQueries: first N tokens with N from a sampler, after a length filter", () => {
  const reviews = [
    { text: "x".repeat(250), label: 1 },
    { text: "too short", label: 0 },
    { text: "abcdefghij".repeat(30), label: 0 },
  ];
  const build = () =>
    tokenQueries(reviews, {
      tokenizer: charTokenizer,
      length: new LengthSampler(2, 8, { seed: 4 }),
      filter: longerThan(200),
    });
  const queries = build();
  assert.equal(queries.length, 2);
  assert.equal(queries.get(1).row, reviews[2]);
  for (const q of queries) {
    assert.ok(q.inputIds.length >= 2 && q.inputIds.length <= 7);
    assert.equal(q.query, q.row.text.slice(0, q.inputIds.length));
  }
  assert.deepEqual(build().toArray(), queries.toArray());
  const fixed = tokenQueries(["hello world"], {
    tokenizer: { encode: charTokenizer.encode },
    length: 5,
  });
  assert.deepEqual(fixed.get(0), { row: "hello world", inputIds: [104, 101, 108, 108, 111] });
  const short = tokenQueries(["hi"], { tokenizer: charTokenizer, length: 10 });
  assert.equal(short.get(0).query, "hi");
  assert.throws(
    () => tokenQueries([{ body: "x" }], { tokenizer: charTokenizer, length: 1 }),
    /no string "text" field/,
  );
});

Deno.test("wordQueries: first N words keep the original spacing", () => {
  const rows = [{ text: "  The movie,  honestly, was great. Truly." }, { text: "one two" }];
  const queries = wordQueries(rows, { length: 3 });
  assert.deepEqual(queries.toArray().map((q) => [q.query, q.words]), [
    ["  The movie,  honestly,", 3],
    ["one two", 2],
  ]);
  const sampled = wordQueries(rows, {
    length: new LengthSampler(1, 3, { seed: 0 }),
    text: (r) => r.text.trim(),
    filter: longerThan(10),
  });
  assert.equal(sampled.length, 1);
  assert.ok(sampled.get(0).words >= 1 && sampled.get(0).words <= 2);
});
