// The text-classification pipeline and the label-score reward on a tiny random RoBERTa with
// go_emotions' 28 labels, against an independent computation: each text run alone (no padding,
// no batching) and softmax / sigmoid written out here.

import assert from "node:assert/strict";
import { noGrad, tidy } from "../../core/mod.ts";
import { GO_EMOTIONS_LABELS } from "../../data/tutorials/go_emotions.ts";
import { sequenceClassifierFromConfig } from "../../models/sequence_classifier.ts";
import {
  applyClassificationFunction,
  defaultClassificationFunction,
  TextClassifier,
} from "../../models/text_classification.ts";
import { labelScoreReward } from "../../reward/label_score.ts";

const BACKEND = "cpu64";

const config = {
  model_type: "roberta",
  vocab_size: 40,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 12,
  type_vocab_size: 1,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  layer_norm_eps: 1e-5,
  // Wide weights so the 28 logits are far apart and the ranking means something.
  initializer_range: 0.5,
  problem_type: "multi_label_classification",
  id2label: Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [String(i), l])),
  label2id: Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [l, i])),
};

/** RoBERTa-style ids: <s> words </s>, truncation keeping both specials. */
const tokenizer = {
  padTokenId: 1,
  encode(text: string, options: { truncation?: boolean; maxLength?: number } = {}): number[] {
    let words = text.split(/\s+/).filter(Boolean).map((w) =>
      3 + (w.length * 7 + w.charCodeAt(0)) % 37
    );
    if (options.truncation && options.maxLength !== undefined) {
      words = words.slice(0, options.maxLength - 2);
    }
    return [0, ...words, 2];
  },
};

const texts = [
  "i am so happy today",
  "this is awful",
  "thanks a lot friend",
  "what",
  "the bus was late again and again and again and again", // truncated: 10 positions usable
];

function model() {
  return sequenceClassifierFromConfig(config, { backend: BACKEND, seed: 3 });
}

/** Each text alone: its own forward, no padding. */
function logitsAlone(m: ReturnType<typeof model>, text: string, maxLength: number): number[] {
  const ids = tokenizer.encode(text, { truncation: true, maxLength });
  return noGrad(() => tidy(() => [...m.forward({ inputIds: [ids] }).logits.toFloat64ArraySync()]));
}

const softmax = (z: number[]) => {
  const e = z.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const sigmoid = (z: number[]) => z.map((x) => 1 / (1 + Math.exp(-x)));

function assertClose(a: ArrayLike<number>, e: ArrayLike<number>, what: string, tol = 1e-10) {
  assert.equal(a.length, e.length, what);
  for (let i = 0; i < e.length; i++) {
    assert.ok(
      Math.abs(a[i] - e[i]) <= tol * Math.max(1, Math.abs(e[i])),
      `${what}[${i}]: ${a[i]} vs ${e[i]}`,
    );
  }
}

Deno.test("the pipeline's default function follows problem_type and the label count", () => {
  assert.equal(defaultClassificationFunction(config), "sigmoid");
  assert.equal(defaultClassificationFunction({ num_labels: 1 }), "sigmoid");
  assert.equal(defaultClassificationFunction({ id2label: { 0: "NEG", 1: "POS" } }), "softmax");
  assert.equal(
    defaultClassificationFunction({ num_labels: 2, problem_type: "regression" }),
    "none",
  );
  assert.equal(
    defaultClassificationFunction({ num_labels: 1, problem_type: "single_label_classification" }),
    "sigmoid",
  );
  assert.equal(
    defaultClassificationFunction({ num_labels: 3, problem_type: "single_label_classification" }),
    "softmax",
  );
});

Deno.test("TextClassifier: batched, padded, truncated scores equal each text run alone", async () => {
  const m = model();
  const classifier = new TextClassifier(m, tokenizer, { batchSize: 2 });
  // max_position_embeddings 12 with RoBERTa's offset (pad id 1): 10 usable positions.
  const alone = texts.map((t) => logitsAlone(m, t, 10));
  const logits = await classifier.logits(texts);
  logits.forEach((row, i) => assertClose(row, alone[i], `logits of text ${i}`));

  const soft = await classifier.scores(texts, { functionToApply: "softmax" });
  const sig = await classifier.scores(texts); // the config's default: sigmoid
  const raw = await classifier.scores(texts, { functionToApply: "none" });
  texts.forEach((_, i) => {
    assertClose(GO_EMOTIONS_LABELS.map((l) => soft[i][l]), softmax(alone[i]), `softmax ${i}`);
    assertClose(GO_EMOTIONS_LABELS.map((l) => sig[i][l]), sigmoid(alone[i]), `sigmoid ${i}`);
    assertClose(GO_EMOTIONS_LABELS.map((l) => raw[i][l]), alone[i], `none ${i}`);
  });
  classifier.dispose();
});

Deno.test("TextClassifier.classify: every label, highest score first (top_k=None), or the topK", async () => {
  const m = model();
  const classifier = new TextClassifier(m, tokenizer);
  const all = await classifier.classify(texts, { functionToApply: "softmax" });
  all.forEach((ranked, i) => {
    assert.equal(ranked.length, 28);
    const expected = softmax(logitsAlone(m, texts[i], 10))
      .map((score, j) => ({ label: GO_EMOTIONS_LABELS[j], score }))
      .sort((a, b) => b.score - a.score);
    assert.deepEqual(ranked.map((r) => r.label), expected.map((r) => r.label), `order ${i}`);
    assertClose(ranked.map((r) => r.score), expected.map((r) => r.score), `scores ${i}`);
  });
  // The labels are not in id order: the ranking did something.
  assert.notDeepEqual(all[0].map((r) => r.label), [...GO_EMOTIONS_LABELS]);
  const top3 = await classifier.classify(texts, { topK: 3 });
  top3.forEach((ranked, i) => {
    const sig = sigmoid(logitsAlone(m, texts[i], 10)).sort((a, b) => b - a).slice(0, 3);
    assertClose(ranked.map((r) => r.score), sig, `top3 ${i}`);
  });
  classifier.dispose();
});

Deno.test("labelScoreReward: the label's softmax probability over the 28 logits, by name or id", async () => {
  const m = model();
  const classifier = new TextClassifier(m, tokenizer, { batchSize: 3 });
  const joy = labelScoreReward(classifier, { label: "joy", functionToApply: "softmax" });
  assert.equal(joy.labelId, 17);
  assert.equal(joy.function, "softmax");
  const scores = await joy(texts);
  assertClose(scores, texts.map((t) => softmax(logitsAlone(m, t, 10))[17]), "joy");
  const byId = labelScoreReward(classifier, { label: 17, functionToApply: "softmax" });
  assert.deepEqual(await byId(texts), scores);
  // Default: the multi-label model's sigmoid.
  const sig = labelScoreReward(classifier, { label: "anger" });
  assert.equal(sig.function, "sigmoid");
  assertClose(await sig(texts), texts.map((t) => sigmoid(logitsAlone(m, t, 10))[2]), "anger");
  assert.throws(
    () => labelScoreReward(classifier, { label: "joyy" }),
    (e: Error) =>
      /no label "joyy" \(did you mean "joy"\?\); the labels are admiration, amusement, anger/.test(
        e.message,
      ) && e.message.includes("neutral"),
  );
  assert.throws(() => labelScoreReward(classifier, { label: 28 }), /no label 28/);
  classifier.dispose();
});

Deno.test("applyClassificationFunction: a stable softmax for large logits", () => {
  const s = applyClassificationFunction([1000, 1000, 998], "softmax");
  assertClose(s, softmax([2, 2, 0]), "shifted");
});
