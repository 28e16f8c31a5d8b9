import assert from "node:assert/strict";
import {
  EOS_TOKEN,
  generateSyntheticReviews,
  SYNTHETIC_REVIEW_WORDS,
  SyntheticWordTokenizer,
  tokenQueries,
} from "../../data/mod.ts";

const POSITIVE_ADJ = ["great", "wonderful", "brilliant", "superb", "lovely", "good", "fun"];
const NEGATIVE_ADJ = ["terrible", "awful", "boring", "dull", "weak", "bad", "predictable"];

Deno.test("synthetic reviews: seeded, labeled, balanced and varied", () => {
  const a = generateSyntheticReviews(2000, { seed: 5 }).toArray();
  const b = generateSyntheticReviews(2000, { seed: 5 }).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(generateSyntheticReviews(50, { seed: 6 }).toArray(), a.slice(0, 50));
  const positives = a.filter((r) => r.label === 1).length;
  assert.ok(positives > 900 && positives < 1100, `${positives} positives`);
  assert.ok(a.every((r) => r.label === 0 || r.label === 1));
  assert.ok(new Set(a.map((r) => r.text)).size > 1900, "reviews should rarely repeat");
  const sentenceCounts = new Set(a.map((r) => r.text.split(/[.!] ?/).filter(Boolean).length));
  for (const n of [1, 2, 3, 4]) assert.ok(sentenceCounts.has(n), `some review has ${n} sentences`);
  for (const subject of ["acting", "plot", "music", "ending"]) {
    assert.ok(a.some((r) => r.text.includes(subject)), `mentions ${subject}`);
  }
  assert.ok(a.every((r) => r.text === r.text.toLowerCase()));
  const skewed = generateSyntheticReviews(500, { seed: 1, positiveFraction: 0.9 }).toArray();
  assert.ok(skewed.filter((r) => r.label === 1).length > 400);
});

Deno.test("synthetic reviews: negation always flips polarity", () => {
  for (const review of generateSyntheticReviews(5000, { seed: 9 })) {
    for (const adjective of NEGATIVE_ADJ) {
      if (review.text.includes(` not ${adjective}`)) assert.equal(review.label, 1, review.text);
    }
    for (const adjective of POSITIVE_ADJ) {
      if (review.text.includes(` not ${adjective}`)) assert.equal(review.label, 0, review.text);
    }
  }
});

Deno.test("synthetic reviews: sentiment is learnable by a bag-of-words classifier", () => {
  const tokenizer = new SyntheticWordTokenizer();
  const train = generateSyntheticReviews(3000, { seed: 1 }).toArray();
  const test = generateSyntheticReviews(1000, { seed: 2 }).toArray();
  // Multinomial naive Bayes over unigrams and bigrams (bigrams let it read "not boring").
  const features = (text: string) => {
    const ids = tokenizer.encode(text);
    const out = ids.map(String);
    for (let i = 1; i < ids.length; i++) out.push(`${ids[i - 1]}_${ids[i]}`);
    return out;
  };
  const counts = [new Map<string, number>(), new Map<string, number>()];
  const totals = [0, 0];
  const docs = [0, 0];
  for (const review of train) {
    docs[review.label]++;
    for (const f of features(review.text)) {
      counts[review.label].set(f, (counts[review.label].get(f) ?? 0) + 1);
      totals[review.label]++;
    }
  }
  const vocab = new Set([...counts[0].keys(), ...counts[1].keys()]).size;
  const score = (text: string, label: 0 | 1) =>
    Math.log(docs[label]) +
    features(text).reduce(
      (sum, f) => sum + Math.log(((counts[label].get(f) ?? 0) + 1) / (totals[label] + vocab)),
      0,
    );
  const correct = test.filter((r) => (score(r.text, 1) > score(r.text, 0) ? 1 : 0) === r.label);
  assert.ok(correct.length / test.length > 0.95, `accuracy ${correct.length / test.length}`);
});

Deno.test("word tokenizer: small vocabulary, specials first, no <unk> on the corpus", () => {
  const tokenizer = new SyntheticWordTokenizer();
  assert.ok(tokenizer.vocabSize > 100 && tokenizer.vocabSize < 400, `${tokenizer.vocabSize}`);
  assert.deepEqual(tokenizer.vocab.slice(0, 3), ["<pad>", EOS_TOKEN, "<unk>"]);
  assert.equal(tokenizer.padTokenId, 0);
  assert.equal(tokenizer.bosTokenId, tokenizer.eosTokenId);
  assert.equal(tokenizer.idToToken(tokenizer.eosTokenId), "<|endoftext|>");
  assert.equal(tokenizer.vocabSize, SYNTHETIC_REVIEW_WORDS.length + 3);
  for (const review of generateSyntheticReviews(3000, { seed: 3 })) {
    const ids = tokenizer.encode(review.text);
    assert.ok(!ids.includes(tokenizer.unkTokenId), review.text);
    assert.equal(tokenizer.decode(ids), review.text);
  }
});

Deno.test("word tokenizer: lowercase, punctuation tokens, specials, <unk>, save and load", () => {
  const tokenizer = new SyntheticWordTokenizer();
  assert.deepEqual(tokenizer.tokenize("The PLOT was great, really!"), [
    "the",
    "plot",
    "was",
    "great",
    ",",
    "really",
    "!",
  ]);
  const ids = tokenizer.encode("The plot was zorgly.", { addBos: true, addEos: true });
  assert.equal(ids[0], tokenizer.bosTokenId);
  assert.equal(ids[ids.length - 1], tokenizer.eosTokenId);
  assert.equal(ids[4], tokenizer.unkTokenId);
  assert.equal(tokenizer.decode(ids), "the plot was <unk>.");
  assert.equal(
    tokenizer.decode(ids, { skipSpecialTokens: false }),
    "<|endoftext|> the plot was <unk>. <|endoftext|>",
  );
  assert.deepEqual(tokenizer.encode("<|endoftext|>great"), [1, tokenizer.tokenToId("great")]);
  assert.throws(() => tokenizer.decode([9999]), /outside the vocabulary/);
  const restored = SyntheticWordTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
  assert.deepEqual(restored.vocab, tokenizer.vocab);
  assert.throws(() => SyntheticWordTokenizer.fromJSON({ vocab: ["a", "b"] }), /must start with/);
});

Deno.test("word tokenizer: works as the query builders' tokenizer", () => {
  const tokenizer = new SyntheticWordTokenizer();
  const reviews = generateSyntheticReviews(10, { seed: 4 });
  const queries = tokenQueries(reviews, { tokenizer, length: 3 });
  for (const q of queries) {
    assert.ok(q.inputIds.length <= 3);
    assert.ok(q.row.text.startsWith(q.query!.replace(/ ([.,!?])/g, "$1")));
  }
});
