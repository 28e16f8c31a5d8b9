import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { layOutCache } from "../models/hub/fake_hub.ts";
import { writeTinyClassifier } from "./tiny_classifier.ts";
import type { ClassifierRequest, ClassifierResult } from "./classifier_child.ts";

// The scoring runs in a child process (classifier_child.ts): onnxruntime-node's Node-API addon
// panics Deno when two isolates of one process create sessions, and `deno test --parallel` runs
// test modules as isolates of one process. The child loads real ONNX models through
// transformers.js; this file only writes them and checks the numbers.

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const softmaxAt = (logits: number[], i: number) =>
  Math.exp(logits[i]) / logits.reduce((s, z) => s + Math.exp(z), 0);

// Vocabulary: [PAD] [UNK] good bad film joy anger. [PAD]'s embedding is large so that any
// padding position leaking into the mean would move every score.
const PAD_ROW = [5, -5];

// Sentiment model: logits = m @ [[-1, 2], [1, -2]] + [0.25, -0.25] where m is the mean embedding
// of the real tokens; with d = m0 - m1 that is [0.25 - d, 2d - 0.25].
const SENTIMENT = {
  embedding: [PAD_ROW, [0, 0], [1, 0], [0, 1], [0.5, 0.5], [0, 0], [0, 0]],
  weight: [[-1, 2], [1, -2]],
  bias: [0.25, -0.25],
  labels: ["NEGATIVE", "POSITIVE"],
};
const sentimentLogits = (d: number) => [0.25 - d, 2 * d - 0.25];

// d for each text, worked out from the embeddings above.
const SENTIMENT_TEXTS: [string, number][] = [
  ["good", 1], // m = [1, 0]
  ["bad film", -0.5], // ([0, 1] + [0.5, 0.5]) / 2 = [0.25, 0.75]
  ["good good bad film", 0.25], // [2.5, 1.5] / 4
  ["great film!", 0], // great and ! are [UNK] = [0, 0]: [0.5, 0.5] / 3
  ["GOOD", 1], // lower-cased to good
];

// Multi-label emotions model: logits = m @ [[2, -1, -1], [-1, 2, -1]] + [0, 0, 0.5], i.e.
// [2a - b, 2b - a, 0.5 - a - b] for m = [a, b].
const EMOTIONS = {
  embedding: [PAD_ROW, [0, 0], [0.5, 0], [0, 0.5], [0, 0], [1, 0], [0, 1]],
  weight: [[2, -1, -1], [-1, 2, -1]],
  bias: [0, 0, 0.5],
  labels: ["joy", "anger", "neutral"],
  problemType: "multi_label_classification",
};
const emotionLogits = (a: number, b: number) => [2 * a - b, 2 * b - a, 0.5 - a - b];
const EMOTION_TEXTS: [string, number, number][] = [
  ["joy", 1, 0],
  ["joy anger", 0.5, 0.5],
  ["film", 0, 0],
  ["good joy", 0.75, 0], // ([0.5, 0] + [1, 0]) / 2
];

const texts = (cases: readonly (readonly [string, ...number[]])[]) => cases.map((c) => c[0]);

const ONNX_FILE = "onnx/model.onnx";
const HUB_ID = "tether-test/tiny-sentiment";
const HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567";

let results: Promise<ClassifierResult[]> | undefined;

/** Writes the models, runs every request in one child process, returns its results by name. */
function childResults(): Promise<ClassifierResult[]> {
  results ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "classifier-reward-" });
    try {
      const sentiment = join(root, "sentiment");
      const emotions = join(root, "emotions");
      const shortSentiment = join(root, "sentiment-max2");
      await writeTinyClassifier(sentiment, SENTIMENT);
      await writeTinyClassifier(emotions, EMOTIONS);
      await writeTinyClassifier(shortSentiment, { ...SENTIMENT, modelMaxLength: 2 });
      const unnamed = join(root, "sentiment-unnamed");
      await writeTinyClassifier(unnamed, { ...SENTIMENT, unnamedLabels: true });
      // The sentiment model again, as a Hub repo in a cache laid out like huggingface_hub's
      // (snapshot files are links into blobs).
      const cacheDir = join(root, "hub");
      const snapshot: Record<string, Uint8Array> = {};
      for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json", ONNX_FILE]) {
        snapshot[file] = await Deno.readFile(join(sentiment, file));
      }
      await layOutCache(cacheDir, HUB_ID, { main: HUB_COMMIT }, { [HUB_COMMIT]: snapshot });
      const all = texts(SENTIMENT_TEXTS);
      const requests: ClassifierRequest[] = [
        { model: sentiment, options: { label: "POSITIVE" }, calls: [all] },
        { model: sentiment, options: { label: "POSITIVE", batchSize: 2 }, calls: [all] },
        { model: sentiment, options: { label: "POSITIVE", output: "logit" }, calls: [all] },
        { model: sentiment, options: { label: 0 }, calls: [all] },
        { model: sentiment, options: { label: "POSITIVE", function: "sigmoid" }, calls: [all] },
        { model: emotions, options: { label: "joy" }, calls: [texts(EMOTION_TEXTS)] },
        { model: emotions, options: { label: "neutral" }, calls: [texts(EMOTION_TEXTS)] },
        {
          model: emotions,
          options: { label: "joy", function: "softmax" },
          calls: [texts(EMOTION_TEXTS)],
        },
        {
          model: shortSentiment,
          options: { label: "POSITIVE", output: "logit" },
          calls: [["good bad bad bad", "bad good good"]],
        },
        {
          model: sentiment,
          options: { label: "POSITIVE", output: "logit", maxLength: 1 },
          calls: [["bad good good"], []],
        },
        { model: sentiment, options: { label: "HAPPY" }, calls: [] },
        { model: sentiment, options: { label: 2 }, calls: [] },
        { model: sentiment, options: { label: "POSITIVE" }, calls: [["good", ""]] },
        {
          model: sentiment,
          options: { label: "POSITIVE", output: "logit", function: "softmax" },
          calls: [],
        },
        {
          model: HUB_ID,
          options: { label: "POSITIVE", output: "logit", cacheDir, offline: true },
          calls: [all],
        },
        { model: sentiment, options: { label: "POSITIVE", dtype: "q8" }, calls: [] },
        { model: unnamed, options: { label: "LABEL_1" }, calls: [all] },
      ];
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-ffi",
          "--allow-env",
          "--allow-sys",
          "--config",
          fileURLToPath(new URL("../../deno.json", import.meta.url)),
          fileURLToPath(new URL("./classifier_child.ts", import.meta.url)),
        ],
        env: { HF_HUB_OFFLINE: "1", NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(JSON.stringify(requests)));
      await writer.close();
      const { code, stdout, stderr } = await child.output();
      const out = new TextDecoder().decode(stdout);
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 0, `classifier child process failed (exit ${code}):\n${err}\n${out}`);
      const parsed = JSON.parse(out.trim().split("\n").at(-1)!) as ClassifierResult[];
      assert.equal(parsed.length, requests.length);
      return parsed;
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  })();
  return results;
}

type Scored = Exclude<ClassifierResult, { error: string }>;

async function scored(index: number): Promise<Scored> {
  const result = (await childResults())[index];
  if ("error" in result) assert.fail(`request ${index} failed: ${result.error}`);
  return result;
}

async function failure(index: number): Promise<string> {
  const result = (await childResults())[index];
  if (!("error" in result)) assert.fail(`request ${index} should have failed`);
  return result.error;
}

function assertClose(actual: readonly number[], expected: readonly number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length, `got [${actual}], expected [${expected}]`);
  actual.forEach((a, i) => {
    assert.ok(
      Math.abs(a - expected[i]) <= tol,
      `score ${i}: got ${a}, expected ${expected[i]} (all: [${actual}] vs [${expected}])`,
    );
  });
}

Deno.test("classifierReward: softmax probability of POSITIVE, padding masked", async () => {
  const result = await scored(0);
  assert.deepEqual(result.labels, ["NEGATIVE", "POSITIVE"]);
  assert.equal(result.labelId, 1);
  assert.equal(result.function, "softmax");
  const expected = SENTIMENT_TEXTS.map(([, d]) => softmaxAt(sentimentLogits(d), 1));
  assertClose(result.scores[0], expected);
  // The same texts in batches of two give the same scores.
  assertClose((await scored(1)).scores[0], expected);
});

Deno.test("classifierReward: raw logit output (IMDB PPO recipe)", async () => {
  const result = await scored(2);
  assert.equal(result.function, "none");
  assertClose(result.scores[0], SENTIMENT_TEXTS.map(([, d]) => sentimentLogits(d)[1]));
  assertClose(result.scores[0], [1.75, -1.25, 0.25, -0.25, 1.75]);
});

Deno.test("classifierReward: a label by index, and sigmoid on a single-label model", async () => {
  const byIndex = await scored(3);
  assert.equal(byIndex.labelId, 0);
  assertClose(byIndex.scores[0], SENTIMENT_TEXTS.map(([, d]) => softmaxAt(sentimentLogits(d), 0)));
  const sig = await scored(4);
  assert.equal(sig.function, "sigmoid");
  assertClose(sig.scores[0], SENTIMENT_TEXTS.map(([, d]) => sigmoid(sentimentLogits(d)[1])));
});

Deno.test("classifierReward: multi-label model defaults to a sigmoid per label", async () => {
  const joy = await scored(5);
  assert.deepEqual(joy.labels, ["joy", "anger", "neutral"]);
  assert.equal(joy.function, "sigmoid");
  assertClose(joy.scores[0], EMOTION_TEXTS.map(([, a, b]) => sigmoid(emotionLogits(a, b)[0])));
  assertClose(joy.scores[0], [sigmoid(2), sigmoid(0.5), sigmoid(0), sigmoid(1.5)]);
  const neutral = await scored(6);
  assertClose(
    neutral.scores[0],
    EMOTION_TEXTS.map(([, a, b]) => sigmoid(emotionLogits(a, b)[2])),
  );
  const softmax = await scored(7);
  assert.equal(softmax.function, "softmax");
  assertClose(
    softmax.scores[0],
    EMOTION_TEXTS.map(([, a, b]) => softmaxAt(emotionLogits(a, b), 0)),
  );
});

Deno.test("classifierReward: truncation to model_max_length or maxLength", async () => {
  // model_max_length 2: "good bad bad bad" keeps "good bad" (d = 0), "bad good good" keeps
  // "bad good" (d = 0).
  assertClose((await scored(8)).scores[0], [-0.25, -0.25]);
  // maxLength 1: "bad" alone (d = -1); an empty batch scores nothing.
  const one = await scored(9);
  assertClose(one.scores[0], [-2.25]);
  assert.deepEqual(one.scores[1], []);
});

Deno.test("classifierReward: errors name the labels, the empty text and the conflict", async () => {
  const labels = /its labels are 0: NEGATIVE, 1: POSITIVE$/;
  assert.match(await failure(10), /has no label "HAPPY"/);
  assert.match(await failure(10), labels);
  assert.match(await failure(11), /has no label 2; its labels are 0: NEGATIVE, 1: POSITIVE/);
  assert.match(await failure(12), /text 1 \(""\) has no tokens/);
  assert.match(await failure(13), /output "logit" returns raw logits, so function "softmax"/);
  assert.match((await scored(0)).afterDispose, /was disposed/);
  assert.match(await failure(15), /dtype "q8" loads onnx\/model_quantized\.onnx, which .* lacks/);
});

Deno.test("classifierReward: a Hub id resolves through the shared cache, offline", async () => {
  const result = await scored(14);
  assertClose(result.scores[0], SENTIMENT_TEXTS.map(([, d]) => sentimentLogits(d)[1]));
});

Deno.test("classifierReward: without id2label the labels are LABEL_i, as in transformers", async () => {
  const result = await scored(16);
  assert.deepEqual(result.labels, ["LABEL_0", "LABEL_1"]);
  assertClose(result.scores[0], SENTIMENT_TEXTS.map(([, d]) => softmaxAt(sentimentLogits(d), 1)));
});
