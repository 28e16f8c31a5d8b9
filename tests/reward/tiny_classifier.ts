/**
 * A tiny text classifier in the layout transformers.js loads (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx), with weights simple enough that every logit can be
 * worked out by hand: logits = mean over unmasked tokens of embedding[id] @ W + b.
 */

import { join } from "node:path";
import { saveTokenizer, wordLevelTokenizerJson } from "../../models/io/tokenizer_files.ts";
import { onnxModel } from "./onnx_writer.ts";

/** Word-level vocabulary, in id order. */
export const VOCAB = ["[PAD]", "[UNK]", "good", "bad", "film", "joy", "anger"] as const;

/** What a classifier folder is built from. */
export interface TinyClassifierSpec {
  /** One row of `dim` numbers per {@link VOCAB} entry. */
  embedding: readonly (readonly number[])[];
  /** [dim][labels] projection. */
  weight: readonly (readonly number[])[];
  /** One bias per label. */
  bias: readonly number[];
  /** Label names, in logit order. */
  labels: readonly string[];
  /** `problem_type` written to config.json, if any. */
  problemType?: string;
  /** Write `num_labels` instead of id2label/label2id (the labels are then LABEL_i). */
  unnamedLabels?: boolean;
  /** `model_max_length` of the tokenizer. */
  modelMaxLength?: number;
}

/** The ONNX graph of a spec: masked mean of embeddings, then an affine map to the logits. */
export function tinyClassifierOnnx(spec: TinyClassifierSpec): Uint8Array {
  const dim = spec.weight.length;
  const labels = spec.bias.length;
  return onnxModel({
    name: "tiny_classifier",
    nodes: [
      { op: "Gather", inputs: ["embedding", "input_ids"], outputs: ["tokens"] },
      { op: "Cast", inputs: ["attention_mask"], outputs: ["mask"], attributes: { to: 1 } },
      { op: "Unsqueeze", inputs: ["mask", "last_axis"], outputs: ["mask3"] },
      { op: "Mul", inputs: ["tokens", "mask3"], outputs: ["kept"] },
      {
        op: "ReduceSum",
        inputs: ["kept", "seq_axis"],
        outputs: ["total"],
        attributes: { keepdims: 0 },
      },
      {
        op: "ReduceSum",
        inputs: ["mask3", "seq_axis"],
        outputs: ["count"],
        attributes: { keepdims: 0 },
      },
      { op: "Div", inputs: ["total", "count"], outputs: ["mean"] },
      { op: "MatMul", inputs: ["mean", "weight"], outputs: ["projected"] },
      { op: "Add", inputs: ["projected", "bias"], outputs: ["logits"] },
    ],
    initializers: [
      {
        name: "embedding",
        type: "float",
        dims: [VOCAB.length, dim],
        values: spec.embedding.flat(),
      },
      { name: "weight", type: "float", dims: [dim, labels], values: spec.weight.flat() },
      { name: "bias", type: "float", dims: [labels], values: [...spec.bias] },
      { name: "last_axis", type: "int64", dims: [1], values: [-1] },
      { name: "seq_axis", type: "int64", dims: [1], values: [1] },
    ],
    inputs: [
      { name: "input_ids", type: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", type: "int64", shape: ["batch", "sequence"] },
    ],
    outputs: [{ name: "logits", type: "float", shape: ["batch", labels] }],
  });
}

/**
 * Write a classifier folder.
 *
 * @param folder Destination (created).
 * @param spec Weights and labels.
 */
export async function writeTinyClassifier(folder: string, spec: TinyClassifierSpec): Promise<void> {
  await saveTokenizer(folder, wordLevelTokenizerJson([...VOCAB]), {
    pad_token: "[PAD]",
    unk_token: "[UNK]",
    ...(spec.modelMaxLength === undefined ? {} : { model_max_length: spec.modelMaxLength }),
  });
  const config = {
    model_type: "distilbert",
    architectures: ["DistilBertForSequenceClassification"],
    vocab_size: VOCAB.length,
    dim: spec.weight.length,
    pad_token_id: 0,
    ...(spec.unnamedLabels ? { num_labels: spec.labels.length } : {
      id2label: Object.fromEntries(spec.labels.map((label, i) => [String(i), label])),
      label2id: Object.fromEntries(spec.labels.map((label, i) => [label, i])),
    }),
    ...(spec.problemType ? { problem_type: spec.problemType } : {}),
  };
  await Deno.writeTextFile(join(folder, "config.json"), JSON.stringify(config, null, 2) + "\n");
  await Deno.mkdir(join(folder, "onnx"), { recursive: true });
  await Deno.writeFile(join(folder, "onnx", "model.onnx"), tinyClassifierOnnx(spec));
}
