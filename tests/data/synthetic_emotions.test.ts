// The SYNTHETIC emotion corpus: seeded, GoEmotions' 28 labels, four-word neutral prompts, the
// stated share of turning and two-label texts, and a closed vocabulary.

import assert from "node:assert/strict";
import {
  firstWords,
  generateSyntheticEmotions,
  GO_EMOTIONS_LABELS,
  SYNTHETIC_EMOTION_LEXICON,
  SYNTHETIC_EMOTION_OPENINGS,
  SYNTHETIC_EMOTION_WORDS,
} from "../../data/mod.ts";

const rows = generateSyntheticEmotions(4000, { seed: 9 }).toArray();

Deno.test("synthetic emotions: seeded, every label, valid label ids", () => {
  assert.deepEqual(generateSyntheticEmotions(50, { seed: 9 }).toArray(), rows.slice(0, 50));
  assert.notDeepEqual(generateSyntheticEmotions(50, { seed: 10 }).toArray(), rows.slice(0, 50));
  assert.deepEqual(Object.keys(SYNTHETIC_EMOTION_LEXICON).sort(), [...GO_EMOTIONS_LABELS].sort());
  const seen = new Set(rows.map((r) => r.emotion));
  assert.equal(seen.size, 28);
  for (const r of rows) {
    assert.ok(r.labels.length >= 1 && r.labels.length <= 2);
    assert.deepEqual(r.labels, [...r.labels].sort((a, b) => a - b));
    assert.ok(r.labels.includes(GO_EMOTIONS_LABELS.indexOf(r.emotion)), r.text);
    for (const l of r.labels) assert.ok(l >= 0 && l < 28);
  }
  // Main labels are uniform: each of 28 near 1/28 of 4000 ≈ 143.
  for (const label of GO_EMOTIONS_LABELS) {
    const n = rows.filter((r) => r.emotion === label).length;
    assert.ok(n > 95 && n < 195, `${label}: ${n}`);
  }
});

Deno.test("synthetic emotions: the prompt is the first four words and an emotion-neutral opening", () => {
  for (const o of SYNTHETIC_EMOTION_OPENINGS) assert.equal(o.split(" ").length, 4, o);
  for (const r of rows) {
    assert.equal(r.prompt, firstWords(r.text));
    assert.ok(SYNTHETIC_EMOTION_OPENINGS.includes(r.prompt), r.prompt);
    assert.equal(r.text, `${r.prompt} ${r.continuation}`);
  }
  // Openings are drawn independently of the label: joy and sadness texts share them.
  const joyPrompts = new Set(rows.filter((r) => r.emotion === "joy").map((r) => r.prompt));
  const sadPrompts = new Set(rows.filter((r) => r.emotion === "sadness").map((r) => r.prompt));
  assert.ok([...joyPrompts].filter((p) => sadPrompts.has(p)).length >= 15);
  assert.equal(firstWords("  a  b c d e f "), "a b c d");
  assert.equal(firstWords("one two", 4), "one two");
});

Deno.test("synthetic emotions: turning and two-label shares as stated; options checked", () => {
  const turning = rows.filter((r) => r.continuation.startsWith("i thought i would feel ")).length;
  const twoLabels = rows.filter((r) => r.labels.length === 2).length;
  // 15% of the 27 non-neutral labels' texts turn; 10% of the rest (questions excepted) pair.
  assert.ok(turning > 0.11 * 4000 && turning < 0.17 * 4000, `turning ${turning}`);
  assert.ok(twoLabels > 0.06 * 4000 && twoLabels < 0.1 * 4000, `two labels ${twoLabels}`);
  const plain = generateSyntheticEmotions(300, { seed: 1, turnFraction: 0, twoLabelFraction: 0 });
  for (const r of plain) assert.equal(r.labels.length, 1);
  const joyOnly = generateSyntheticEmotions(100, { seed: 1, emotions: ["joy"] });
  for (const r of joyOnly) assert.equal(r.emotion, "joy");
  assert.throws(
    () => generateSyntheticEmotions(3, { emotions: ["happiness"] }),
    /no label "happiness"/,
  );
  assert.throws(() => generateSyntheticEmotions(3, { turnFraction: 2 }), /turnFraction/);
});

Deno.test("synthetic emotions: every text uses only the grammar's words", () => {
  const vocab = new Set(SYNTHETIC_EMOTION_WORDS);
  for (const r of rows) {
    for (const w of r.text.match(/[a-z0-9]+|[^\sa-z0-9]/g)!) {
      assert.ok(vocab.has(w), `${w} in ${r.text}`);
    }
    // No run of two punctuation marks (a word-level tokenizer would merge them).
    assert.doesNotMatch(r.text, /[^\sa-z0-9]{2}/, r.text);
  }
});
