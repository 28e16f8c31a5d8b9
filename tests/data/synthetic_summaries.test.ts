// The SYNTHETIC TL;DR corpus's careless references: the posts do not depend on the share, the
// share of changed labels is the one asked for, every changed label misses the problem, and a
// share outside [0, 1] is refused naming the option.

import assert from "node:assert/strict";
import { generateSyntheticSummaries, gistScore } from "../../data/mod.ts";

Deno.test("careless references: the same posts, about the share asked for, each missing the problem", () => {
  const clean = generateSyntheticSummaries(1000, { seed: 5 }).toArray();
  assert.deepEqual(
    generateSyntheticSummaries(1000, { seed: 5, carelessFraction: 0 }).toArray(),
    clean,
  );
  const careless = generateSyntheticSummaries(1000, { seed: 5, carelessFraction: 0.3 }).toArray();
  let changed = 0;
  for (let i = 0; i < clean.length; i++) {
    assert.equal(careless[i].prompt, clean[i].prompt);
    assert.deepEqual(careless[i].gist, clean[i].gist);
    assert.equal(gistScore(clean[i].label, clean[i].gist), 1, clean[i].label);
    if (careless[i].label === clean[i].label) continue;
    changed++;
    const label = careless[i].label;
    assert.ok(label.startsWith(" "), "labels start with a space, as the SFT set's do");
    const keywords = clean[i].gist.problemKeywords;
    assert.ok(!keywords.every((k) => label.includes(k)), `${label} states the problem`);
    assert.ok(gistScore(label, clean[i].gist) <= 2 / 3, label);
    assert.ok(label.endsWith(clean[i].gist.question), "the question is kept");
  }
  // Binomial(1000, 0.3): mean 300, standard deviation 14.5; ±60 is four of them.
  assert.ok(changed >= 240 && changed <= 360, `${changed} of 1000 labels changed`);
  assert.deepEqual(
    generateSyntheticSummaries(50, { seed: 5, carelessFraction: 1 }).toArray().map((p) =>
      gistScore(p.label, p.gist) < 1
    ),
    Array(50).fill(true),
  );
});

Deno.test("careless references: a share outside [0, 1] is refused, naming the option", () => {
  for (const bad of [-0.1, 1.5, NaN]) {
    assert.throws(
      () => generateSyntheticSummaries(3, { carelessFraction: bad }),
      new RegExp(`carelessFraction must be in \\[0, 1\\], got ${bad}`),
    );
  }
});
