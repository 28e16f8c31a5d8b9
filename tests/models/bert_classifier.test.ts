/**
 * Loading rules of the BERT-family classifiers: resized and missing heads, checkpoint naming
 * variants, errors, the Hub cache, inputs, fresh init, and save → load round trips.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { memory, type Tensor, tensor, tidy } from "../../core/mod.ts";
import { encodeSafetensors, readSafetensors } from "../../models/io/safetensors.ts";
import {
  loadSequenceClassifier,
  sequenceClassifierFromConfig,
} from "../../models/sequence_classifier.ts";
import {
  cacheWith,
  fixtureDir,
  folderWith,
  logSink,
  maxAbsDiff,
  readExpected,
} from "./bert_fixtures.ts";

const DISTIL = fixtureDir("distilbert-a");
const expected = readExpected("distilbert-a");
const batch = { inputIds: expected.input_ids, attentionMask: expected.attention_mask };

function values(t: Tensor): Float32Array {
  return t.toArraySync();
}

function std(xs: Float32Array): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

Deno.test("numLabels: 1 re-initialises only the classifier, from the seed, and says so", async () => {
  const sink = logSink();
  using model = await loadSequenceClassifier(DISTIL, { numLabels: 1, log: sink.log });
  assert.equal(model.numLabels, 1);
  assert.equal(sink.lines.length, 1, sink.lines.join("\n"));
  assert.match(sink.lines[0], /newly initialized/);
  assert.match(sink.lines[0], /classifier\.weight \[1,32\] \(checkpoint \[2,32\]\)/);
  assert.doesNotMatch(sink.lines[0], /pre_classifier/);

  const state = model.stateDict();
  const checkpoint = await readSafetensors(join(DISTIL, "model.safetensors"));
  // pre_classifier has the same shape at any label count, so it keeps the checkpoint's values.
  assert.deepEqual(
    values(state.get("pre_classifier.weight")!),
    checkpoint.get("pre_classifier.weight")!.data,
  );
  const w = values(state.get("classifier.weight")!);
  assert.ok(Math.abs(std(w) - 0.02) < 0.008, `new head std ${std(w)}, want ≈ initializer_range`);
  assert.deepEqual([...values(state.get("classifier.bias")!)], [0]);

  const logits = tidy(() => model.forward(batch).logits.toArraySync());
  assert.equal(logits.length, 3, "one scalar per sequence");
  assert.deepEqual(model.rawConfig.id2label, { "0": "LABEL_0" });

  using same = await loadSequenceClassifier(DISTIL, { numLabels: 1, log: () => {} });
  using other = await loadSequenceClassifier(DISTIL, { numLabels: 1, seed: 7, log: () => {} });
  assert.deepEqual(tidy(() => same.forward(batch).logits.toArraySync()), logits);
  assert.notDeepEqual(tidy(() => other.forward(batch).logits.toArraySync()), logits);
});

Deno.test("keeping the config's label count loads the head silently", async () => {
  const sink = logSink();
  using model = await loadSequenceClassifier(DISTIL, { numLabels: 2, log: sink.log });
  assert.deepEqual(sink.lines, []);
  const logits = tidy(() => model.forward(batch).logits.toArraySync());
  assert.ok(maxAbsDiff(logits, expected.logits.flat()) <= 1e-4);
});

Deno.test("a head whose shape disagrees with config.json is an error that suggests numLabels", async () => {
  const dir = await folderWith("distilbert-a", "model.safetensors");
  try {
    const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    config.id2label = { "0": "a", "1": "b", "2": "c" };
    delete config.label2id;
    await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
    await assert.rejects(
      loadSequenceClassifier(dir, { log: () => {} }),
      /classifier\.weight: checkpoint \[2,32\], model \[3,32\].*pass numLabels/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unsupported model_type fails listing the supported ones", async () => {
  const dir = await folderWith("gpt2-a", "model.safetensors");
  try {
    await assert.rejects(
      loadSequenceClassifier(dir),
      /model_type "gpt2" is not a supported .*supported model_type values: distilbert, bert, roberta/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("save → load is bit-identical, config included", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "tether-bert-save-" }), "rm");
  try {
    for (const name of ["distilbert-a", "bert-tiny", "roberta-tiny"]) {
      const dir = join(out, name);
      const e = readExpected(name);
      const b = { inputIds: e.input_ids, attentionMask: e.attention_mask };
      using model = await loadSequenceClassifier(fixtureDir(name), {
        numLabels: 1,
        seed: 3,
        log: () => {},
      });
      await model.save(dir);
      const sink = logSink();
      using back = await loadSequenceClassifier(dir, { log: sink.log });
      assert.deepEqual(sink.lines, [], "a saved model has every weight it needs");
      assert.equal(back.numLabels, 1);
      assert.equal(back.constructor, model.constructor);
      const saved = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
      assert.deepEqual(saved.architectures, [model.architecture]);
      assert.equal(saved.model_type, model.config.modelType);
      const mine = model.stateDict(), theirs = back.stateDict();
      assert.deepEqual([...theirs.keys()], [...mine.keys()]);
      for (const [k, t] of mine) assert.deepEqual(values(theirs.get(k)!), values(t), k);
      assert.deepEqual(
        tidy(() => back.forward(b).logits.toArraySync()),
        tidy(() => model.forward(b).logits.toArraySync()),
      );
    }
  } finally {
    await Deno.remove(join(out, ".."), { recursive: true });
  }
});

Deno.test("a Hub id resolves through the Hugging Face cache, offline", async () => {
  const cacheDir = await cacheWith("distilbert-a", "tiny-org/distilbert-a", [
    "config.json",
    "pytorch_model.bin",
  ]);
  try {
    using model = await loadSequenceClassifier("tiny-org/distilbert-a", {
      cacheDir,
      offline: true,
    });
    const logits = tidy(() => model.forward(batch).logits.toArraySync());
    assert.ok(maxAbsDiff(logits, expected.logits.flat()) <= 1e-4);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("a bare-encoder checkpoint with gamma/beta names and buffers loads; the head is new", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tether-bert-bare-" });
  try {
    const state = await readSafetensors(join(DISTIL, "model.safetensors"));
    const bare = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of state) {
      if (!k.startsWith("distilbert.")) continue;
      const name = k.slice("distilbert.".length).replace(/LayerNorm\.weight$/, "LayerNorm.gamma")
        .replace(/LayerNorm\.bias$/, "LayerNorm.beta");
      bare.set(name, { shape: t.shape, data: t.data });
    }
    bare.set("embeddings.position_ids", { shape: [1, 40], data: new Float32Array(40) });
    await Deno.writeFile(join(dir, "model.safetensors"), encodeSafetensors(bare));
    await Deno.copyFile(join(DISTIL, "config.json"), join(dir, "config.json"));
    const sink = logSink();
    using model = await loadSequenceClassifier(dir, { log: sink.log });
    assert.equal(sink.lines.length, 1, sink.lines.join("\n"));
    assert.match(sink.lines[0], /pre_classifier\.weight \[32,32\] \(not in the checkpoint\)/);
    const hidden = tidy(() => model.encode(batch).toArraySync());
    const mask = expected.attention_mask.flat();
    const err = maxAbsDiff(
      hidden,
      expected.last_hidden_state.flat(2),
      (i) => mask[Math.floor(i / 32)] === 1,
    );
    assert.ok(err <= 1e-4, `encoder off by ${err}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint missing an encoder weight is an error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tether-bert-missing-" });
  try {
    const state = await readSafetensors(join(DISTIL, "model.safetensors"));
    state.delete("distilbert.transformer.layer.1.ffn.lin2.bias");
    await Deno.writeFile(join(dir, "model.safetensors"), encodeSafetensors(state));
    await Deno.copyFile(join(DISTIL, "config.json"), join(dir, "config.json"));
    const before = memory().tensors;
    await assert.rejects(
      loadSequenceClassifier(dir),
      /missing 1 encoder weights \(distilbert\.transformer\.layer\.1\.ffn\.lin2\.bias\)/,
    );
    assert.equal(memory().tensors, before, "a failed load frees the model it built");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a fresh model from a config follows transformers' init and its seed", () => {
  const config = JSON.parse(Deno.readTextFileSync(join(fixtureDir("roberta-tiny"), "config.json")));
  using a = sequenceClassifierFromConfig(config, { seed: 5, numLabels: 4 });
  using b = sequenceClassifierFromConfig(config, { seed: 5, numLabels: 4 });
  const sa = a.stateDict(), sb = b.stateDict();
  for (const [k, t] of sa) assert.deepEqual(values(sb.get(k)!), values(t), k);
  const word = values(sa.get("roberta.embeddings.word_embeddings.weight")!);
  assert.ok(Math.abs(std(word) - 0.02) < 0.002, `embedding std ${std(word)}`);
  assert.deepEqual([...word.subarray(32, 64)], new Array(32).fill(0), "padding row (id 1) zero");
  const positions = values(sa.get("roberta.embeddings.position_embeddings.weight")!);
  assert.deepEqual([...positions.subarray(32, 64)], new Array(32).fill(0), "padding position zero");
  assert.ok(
    values(sa.get("roberta.encoder.layer.0.output.LayerNorm.weight")!).every((v) => v === 1),
  );
  assert.ok(values(sa.get("classifier.dense.bias")!).every((v) => v === 0));
  assert.deepEqual(sa.get("classifier.out_proj.weight")!.shape, [4, 32]);
  assert.deepEqual(a.rawConfig.id2label, {
    0: "LABEL_0",
    1: "LABEL_1",
    2: "LABEL_2",
    3: "LABEL_3",
  });
});

Deno.test("inputs: tensors equal arrays; ragged rows, bad masks, long inputs and foreign backends fail clearly", async () => {
  using model = await loadSequenceClassifier(DISTIL);
  const fromArrays = tidy(() => model.forward(batch).logits.toArraySync());
  const fromTensors = tidy(() =>
    model.forward({
      inputIds: tensor(expected.input_ids),
      attentionMask: tensor(expected.attention_mask),
    }).logits.toArraySync()
  );
  assert.deepEqual(fromTensors, fromArrays);
  assert.throws(() => model.forward({ inputIds: [[1, 2, 3], [4, 5]] }), /row 1 has 2 entries/);
  assert.throws(
    () => model.forward({ inputIds: [[1, 2]], attentionMask: [[1, 2]] }),
    /attentionMask\[0\]\[1\] = 2; expected 0 or 1/,
  );
  assert.throws(
    () => model.forward({ inputIds: [[1, 2]], attentionMask: [[1, 1, 0]] }),
    /attentionMask \[1,3\] must have the shape of inputIds \[1,2\]/,
  );
  assert.throws(
    () => tidy(() => model.forward({ inputIds: [new Array(41).fill(5)] })),
    /sequence length 41 exceeds max_position_embeddings 40/,
  );
  assert.throws(
    () =>
      tidy(() => model.forward({ inputIds: tensor([[1, 2]], undefined, { backend: "cpu64" }) })),
    /inputIds is on backend 'cpu64' but the model's weights are on 'cpu'/,
  );
});

Deno.test("forward inside tidy leaves nothing behind", async () => {
  using model = await loadSequenceClassifier(DISTIL);
  tidy(() => model.forward(batch));
  const base = memory();
  for (let i = 0; i < 3; i++) tidy(() => void model.forward(batch).logits.toArraySync());
  assert.deepEqual(memory(), base);
  // A model's own tensors are freed by dispose().
  const withModel = memory().tensors;
  const extra = await loadSequenceClassifier(DISTIL);
  assert.equal(memory().tensors, withModel + extra.stateDict().size);
  extra.dispose();
  assert.equal(memory().tensors, withModel);
});
