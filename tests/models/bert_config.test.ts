/** config.json of the BERT family: defaults, inference from `architectures`, clear errors. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { sum, tidy } from "../../core/mod.ts";
import {
  configNumLabels,
  encoderType,
  parseEncoderConfig,
  withNumLabels,
} from "../../models/bert/config.ts";
import { sinusoidalTable } from "../../models/bert/distilbert.ts";
import { sequenceClassifierFromConfig } from "../../models/sequence_classifier.ts";
import { fixtureDir } from "./bert_fixtures.ts";

const bertConfig = () =>
  JSON.parse(Deno.readTextFileSync(join(fixtureDir("bert-tiny"), "config.json")));

Deno.test("model_type, or the architectures of configs that predate it", () => {
  assert.equal(encoderType({ model_type: "roberta" }), "roberta");
  assert.equal(encoderType({ architectures: ["DistilBertForMaskedLM"] }), "distilbert");
  assert.equal(encoderType({ architectures: ["RobertaForSequenceClassification"] }), "roberta");
  assert.equal(encoderType({ architectures: ["BertForPreTraining"] }), "bert");
  assert.throws(
    () => encoderType({ architectures: ["GPT2LMHeadModel"] }),
    /no model_type \(architectures \["GPT2LMHeadModel"\]\) is not a supported/,
  );
  assert.throws(
    () => encoderType({ model_type: "t5" }),
    /model_type "t5".*distilbert, bert, roberta/,
  );
});

Deno.test("label counts: num_labels, else id2label, else two", () => {
  assert.equal(configNumLabels({ num_labels: 5, id2label: { 0: "a" } }), 5);
  assert.equal(configNumLabels({ id2label: { 0: "a", 1: "b", 2: "c" } }), 3);
  assert.equal(configNumLabels({}), 2);
  assert.throws(
    () => configNumLabels({ num_labels: 0 }),
    /"num_labels" must be a positive integer/,
  );
  const relabelled = withNumLabels({ id2label: { 0: "neg", 1: "pos" }, num_labels: 2 }, 1);
  assert.deepEqual(relabelled, {
    id2label: { 0: "LABEL_0" },
    label2id: { LABEL_0: 0 },
    num_labels: 1,
  });
  const kept = { id2label: { 0: "neg", 1: "pos" } };
  assert.deepEqual(withNumLabels(kept, 2), kept, "labels keep their names when the count holds");
});

Deno.test("BERT config fields, defaults and errors", () => {
  const c = parseEncoderConfig(bertConfig());
  assert.equal(c.intermediateSize, 37);
  assert.equal(c.numLabels, 3);
  assert.equal(
    c.classifierDropout,
    0.1,
    "classifier_dropout null falls back to hidden_dropout_prob",
  );
  assert.equal(c.layerNormEps, 1e-12);
  assert.equal(
    parseEncoderConfig({ model_type: "roberta" }).padTokenId,
    1,
    "RoBERTa's default pad",
  );
  const bad = (patch: Record<string, unknown>) => ({ ...bertConfig(), ...patch });
  assert.throws(
    () => parseEncoderConfig(bad({ num_attention_heads: 5 })),
    /hidden size 32 is not divisible by the 5 attention heads/,
  );
  assert.throws(
    () => parseEncoderConfig(bad({ position_embedding_type: "relative_key" })),
    /"position_embedding_type" must be "absolute"/,
  );
  assert.throws(
    () => parseEncoderConfig(bad({ hidden_act: "swish" })),
    /"hidden_act" must be one of gelu, relu, gelu_new, gelu_pytorch_tanh, got "swish"/,
  );
  assert.throws(
    () => parseEncoderConfig(bad({ hidden_dropout_prob: 1 })),
    /"hidden_dropout_prob" must be a number in \[0, 1\)/,
  );
  assert.throws(() => parseEncoderConfig(bad({ is_decoder: true })), /"is_decoder" must be false/);
});

Deno.test("DistilBERT with sinusoidal positions: a fixed, frozen table", () => {
  const raw = JSON.parse(Deno.readTextFileSync(join(fixtureDir("distilbert-a"), "config.json")));
  raw.sinusoidal_pos_embds = true;
  using model = sequenceClassifierFromConfig(raw);
  const table = model.stateDict().get("distilbert.embeddings.position_embeddings.weight")!;
  assert.deepEqual(table.toArraySync(), sinusoidalTable(40, 32));
  // Row 1, column 0 is sin(1); column 1 is cos(1 / 10000^0) = cos(1).
  assert.ok(Math.abs(table.toArraySync()[32] - Math.sin(1)) < 1e-7);
  assert.ok(Math.abs(table.toArraySync()[33] - Math.cos(1)) < 1e-7);
  assert.equal(table.requiresGrad, false);
  model.train();
  tidy(() => sum(model.forward({ inputIds: [[3, 4, 5]] }).logits).backward());
  assert.equal(table.grad, null, "the fixed table gets no gradient");
  assert.ok(model.stateDict().get("distilbert.embeddings.LayerNorm.weight")!.grad);
  model.zeroGrad();
});
