// The committed tiny emotion classifier (SYNTHETIC data): it loads natively with its tokenizer
// through loadTextClassifier, stays small, reads every corpus word, and ranks held-out texts'
// emotions as its README states, so the go_emotions tutorial's tiny preset has a real reward.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSyntheticEmotions, GO_EMOTIONS_LABELS } from "../../data/mod.ts";
import { loadTextClassifier } from "../../models/mod.ts";
import { labelScoreReward } from "../../reward/mod.ts";
import {
  emotionClassifierTokenizerFiles,
  TINY_EMOTION_MAX_LENGTH,
} from "../../examples/emotions/classifier_files.ts";
import { evaluateEmotionClassifier } from "../../examples/emotions/evaluate_classifier.ts";

const DIR = fileURLToPath(
  new URL("../../examples/assets/tiny-emotions/classifier", import.meta.url),
);

Deno.test("tiny emotion classifier: under 5 MB, RoBERTa with go_emotions' 28 labels, multi-label", async () => {
  let bytes = 0;
  for await (const e of Deno.readDir(DIR)) bytes += (await Deno.stat(join(DIR, e.name))).size;
  assert.ok(bytes < 5 * 1024 * 1024, `${bytes} bytes`);
  const classifier = await loadTextClassifier(DIR, { backend: "cpu" });
  try {
    assert.equal(classifier.model.architecture, "RobertaForSequenceClassification");
    assert.deepEqual(classifier.labels, GO_EMOTIONS_LABELS);
    assert.equal(classifier.defaultFunction, "sigmoid");
    // The committed tokenizer is the one the builder writes.
    const files = emotionClassifierTokenizerFiles();
    const saved = JSON.parse(await Deno.readTextFile(join(DIR, "tokenizer.json")));
    assert.deepEqual(saved.model.vocab, files.tokenizerJson.model.vocab);
    assert.deepEqual(saved.post_processor, files.tokenizerJson.post_processor);
  } finally {
    classifier.dispose();
  }
});

Deno.test("tiny emotion classifier: its tokenizer reads every corpus word and wraps <s> … </s>", async () => {
  const classifier = await loadTextClassifier(DIR, { backend: "cpu" });
  try {
    const tok = classifier.tokenizer;
    for (const { text } of generateSyntheticEmotions(400, { seed: 31 })) {
      const ids = tok.encode(text);
      assert.equal(ids[0], 0, text);
      assert.equal(ids[ids.length - 1], 2, text);
      assert.ok(!ids.includes(3), `<unk> in "${text}"`);
      assert.ok(ids.length <= TINY_EMOTION_MAX_LENGTH);
    }
    assert.equal(tok.padTokenId, 1);
  } finally {
    classifier.dispose();
  }
});

Deno.test("tiny emotion classifier: held-out accuracy and the joy reward separate emotions", async () => {
  const classifier = await loadTextClassifier(DIR, { backend: "cpu", batchSize: 64 });
  try {
    // A fresh held-out stream (not the README's seed): top-1 ≥ 0.9 and the tutorial's reward,
    // softmax P(joy), ≥ 0.5 higher on joy texts than on the rest.
    const rows = generateSyntheticEmotions(400, { seed: 77 }).toArray();
    const report = await evaluateEmotionClassifier(classifier, rows);
    assert.ok(report.top1 >= 0.9, `top-1 ${report.top1}`);
    assert.ok(report.joyOnJoy - report.joyOnOthers >= 0.5, JSON.stringify(report));
    const joy = labelScoreReward(classifier, { label: "joy", functionToApply: "softmax" });
    const [happy, gross] = await joy([
      "after the meeting today, i am so happy!",
      "after the meeting today, that is truly disgusting!",
    ]);
    assert.ok(happy > 0.5 && gross < 0.1, `${happy} vs ${gross}`);
  } finally {
    classifier.dispose();
  }
});
