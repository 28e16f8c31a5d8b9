/**
 * A text-classification pipeline over the native BERT-family classifiers, with transformers'
 * `pipeline("text-classification", top_k=None, function_to_apply=...)` semantics: every label
 * with its score, sorted by score, after `softmax`, `sigmoid` or no function (raw logits), the
 * default chosen from the config's `problem_type` and label count as the pipeline chooses it.
 * Texts are tokenized with the classifier's tokenizer and scored in padded batches.
 *
 * @module
 */

import { closestName } from "../common/suggest.ts";
import { noGrad, tidy } from "../core/mod.ts";
import type { EncoderForSequenceClassification } from "./bert/classifier.ts";
import { configNumLabels } from "./bert/config.ts";
import type { HubOptions } from "./hub/env.ts";
import {
  loadSequenceClassifier,
  type LoadSequenceClassifierOptions,
} from "./sequence_classifier.ts";
import { loadTokenizer } from "./tokenizer.ts";

/** What turns a row of logits into scores. */
export type ClassificationFunction = "softmax" | "sigmoid" | "none";

/** One label's score. */
export interface LabelScore {
  /** The label's name (config.json's `id2label`). */
  label: string;
  /** Its score. */
  score: number;
}

/** The tokenizer a classifier needs: `encode` with truncation, and a pad id. */
export interface ClassifierTokenizer {
  /** Token ids of a text, special tokens included. */
  encode(text: string, options?: { truncation?: boolean; maxLength?: number }): number[];
  /** Padding id (default: the model's `pad_token_id`). */
  readonly padTokenId?: number;
  /** The tokenizer's `model_max_length`, when it has one. */
  readonly modelMaxLength?: number;
}

/** Options of a {@link TextClassifier}. */
export interface TextClassifierOptions {
  /** Texts per forward (default 16). */
  batchSize?: number;
  /**
   * Keep at most this many tokens per text, special tokens included (default: the tokenizer's
   * `model_max_length`, capped by the model's position table). transformers' pipeline does not
   * truncate unless asked, and fails on longer texts; a reward must score any text.
   */
  maxLength?: number;
}

/** Options of one classification call. */
export interface ClassifyOptions {
  /** `softmax`, `sigmoid` or `none` (default: {@link defaultClassificationFunction}). */
  functionToApply?: ClassificationFunction;
}

/**
 * The function transformers' text-classification pipeline applies when none is given:
 * `none` for `problem_type: "regression"`; `sigmoid` for `multi_label_classification` or a
 * single label; `softmax` for `single_label_classification` or several labels; else the
 * config's own `function_to_apply`, else `none`.
 *
 * @param config The model's config.json.
 */
export function defaultClassificationFunction(
  config: Record<string, unknown>,
): ClassificationFunction {
  const problem = config.problem_type, labels = configNumLabels(config);
  if (problem === "regression") return "none";
  if (problem === "multi_label_classification" || labels === 1) return "sigmoid";
  if (problem === "single_label_classification" || labels > 1) return "softmax";
  const own = config.function_to_apply;
  return own === "softmax" || own === "sigmoid" ? own : "none";
}

/**
 * Scores from one row of logits, computed in f64 as the pipeline's numpy code does: softmax with
 * the row maximum subtracted, the logistic function per label, or the logits unchanged.
 *
 * @param logits One row of logits.
 * @param fn The function to apply.
 */
export function applyClassificationFunction(
  logits: ArrayLike<number>,
  fn: ClassificationFunction,
): number[] {
  const z = Array.from(logits);
  if (fn === "none") return z;
  if (fn === "sigmoid") return z.map((x) => 1 / (1 + Math.exp(-x)));
  if (fn !== "softmax") throw new Error(`unknown classification function "${fn as string}"`);
  const max = Math.max(...z);
  const e = z.map((x) => Math.exp(x - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / total);
}

/** The labels of a config by id: `id2label`, else `LABEL_i` for each of `num_labels`. */
export function configLabels(config: Record<string, unknown>): string[] {
  const n = configNumLabels(config);
  const id2label = config.id2label as Record<string, unknown> | undefined;
  return Array.from({ length: n }, (_, i) => {
    const name = id2label?.[String(i)];
    if (id2label && typeof name !== "string") {
      throw new Error(
        `config.json: id2label has no name for label ${i} of ${n}; it must map "0".."${n - 1}" ` +
          `to label names`,
      );
    }
    return (name as string | undefined) ?? `LABEL_${i}`;
  });
}

/**
 * A frozen sequence classifier with its tokenizer: texts in, label scores out.
 *
 * @example
 * ```ts
 * import { loadTextClassifier } from "@tether/rlhf/models";
 * // The examples' tiny go_emotions classifier; "SamLowe/roberta-base-go_emotions" works the same.
 * const classifier = await loadTextClassifier("examples/assets/tiny-emotions/classifier");
 * const [scores] = await classifier.scores(["I love this!"], { functionToApply: "softmax" });
 * console.log(scores.joy); // the softmax probability of the "joy" label
 * ```
 */
export class TextClassifier {
  /** Label names by id. */
  readonly labels: readonly string[];
  /** The function used when a call names none (from the config, as the pipeline picks it). */
  readonly defaultFunction: ClassificationFunction;
  readonly #batchSize: number;
  readonly #maxLength: number | undefined;
  readonly #pad: number;

  /**
   * Wraps a loaded classifier (put in eval mode) and its tokenizer.
   *
   * @param model The classifier.
   * @param tokenizer Its tokenizer.
   * @param options Batch size and truncation.
   */
  constructor(
    readonly model: EncoderForSequenceClassification,
    readonly tokenizer: ClassifierTokenizer,
    options: TextClassifierOptions = {},
  ) {
    const batchSize = options.batchSize ?? 16;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new Error(`TextClassifier: batchSize must be an integer >= 1, got ${batchSize}`);
    }
    const cfg = model.config;
    // RoBERTa numbers positions after the padding id, so its table holds that many fewer tokens.
    const positions = cfg.modelType === "roberta"
      ? cfg.maxPositions - cfg.padTokenId - 1
      : cfg.maxPositions;
    const maxLength = options.maxLength ??
      Math.min(tokenizer.modelMaxLength ?? Infinity, positions);
    if (!(Number.isInteger(maxLength) && maxLength >= 1)) {
      throw new Error(`TextClassifier: maxLength must be an integer >= 1, got ${maxLength}`);
    }
    this.#batchSize = batchSize;
    this.#maxLength = maxLength;
    this.#pad = tokenizer.padTokenId ?? cfg.padTokenId;
    this.labels = Object.freeze(configLabels(model.rawConfig));
    if (this.labels.length !== model.numLabels) {
      throw new Error(
        `TextClassifier: the config names ${this.labels.length} labels but the model has ` +
          `${model.numLabels} outputs`,
      );
    }
    this.defaultFunction = defaultClassificationFunction(model.rawConfig);
    model.eval();
  }

  /**
   * The index of a label: its name in `id2label`, or an index.
   *
   * @param label A label name or id.
   * @throws When there is no such label; the error lists the valid ones.
   */
  labelId(label: string | number): number {
    const index = typeof label === "number"
      ? (Number.isInteger(label) && label >= 0 && label < this.labels.length ? label : -1)
      : this.labels.indexOf(label);
    if (index < 0) {
      const guess = typeof label === "string" ? closestName(label, this.labels) : undefined;
      throw new Error(
        `TextClassifier: no label ${JSON.stringify(label)}` +
          (guess ? ` (did you mean ${JSON.stringify(guess)}?)` : "") +
          `; the labels are ${this.labels.join(", ")}`,
      );
    }
    return index;
  }

  /**
   * Raw logits of each text, [numLabels] per text, in padded batches without gradients.
   *
   * @param texts The texts.
   */
  async logits(texts: readonly string[]): Promise<Float64Array[]> {
    const rows = texts.map((text, i) => {
      if (typeof text !== "string") {
        throw new TypeError(`TextClassifier: text ${i} is ${typeof text}, not a string`);
      }
      const ids = this.tokenizer.encode(text, { truncation: true, maxLength: this.#maxLength });
      if (ids.length === 0) {
        throw new Error(`TextClassifier: text ${i} (${JSON.stringify(text)}) has no tokens`);
      }
      return ids;
    });
    const out: Float64Array[] = [];
    const n = this.labels.length;
    for (let start = 0; start < rows.length; start += this.#batchSize) {
      const batch = rows.slice(start, start + this.#batchSize);
      const width = Math.max(...batch.map((r) => r.length));
      const inputIds = batch.map((r) => [...r, ...new Array(width - r.length).fill(this.#pad)]);
      const attentionMask = batch.map((r) =>
        r.map(() => 1).concat(new Array(width - r.length).fill(0))
      );
      const logits = noGrad(() =>
        tidy(() => this.model.forward({ inputIds, attentionMask }).logits)
      );
      // Full precision where the backend can give it (cpu64); f32 from the rest.
      const data = logits.backend.readSync ? logits.toFloat64ArraySync() : await logits.toArray();
      logits.dispose();
      for (let b = 0; b < batch.length; b++) {
        out.push(Float64Array.from({ length: n }, (_, j) => data[b * n + j]));
      }
    }
    return out;
  }

  /**
   * Every label's score for each text, by label name.
   *
   * @param texts The texts.
   * @param options The function to apply.
   */
  async scores(
    texts: readonly string[],
    options: ClassifyOptions = {},
  ): Promise<Record<string, number>[]> {
    const fn = this.#function(options.functionToApply);
    return (await this.logits(texts)).map((row) => {
      const s = applyClassificationFunction(row, fn);
      return Object.fromEntries(this.labels.map((label, i) => [label, s[i]]));
    });
  }

  /**
   * The pipeline's output with `top_k=None`: for each text every label and its score, highest
   * first (or the `topK` highest).
   *
   * @param texts The texts.
   * @param options The function to apply and how many labels to keep.
   */
  async classify(
    texts: readonly string[],
    options: ClassifyOptions & { topK?: number | null } = {},
  ): Promise<LabelScore[][]> {
    const topK = options.topK ?? null;
    if (topK !== null && !(Number.isInteger(topK) && topK >= 1)) {
      throw new Error(`TextClassifier: topK must be an integer >= 1 or null, got ${topK}`);
    }
    const fn = this.#function(options.functionToApply);
    return (await this.logits(texts)).map((row) => {
      const s = applyClassificationFunction(row, fn);
      // A stable sort keeps label order among ties, as Python's sort does.
      const ranked = this.labels.map((label, i) => ({ label, score: s[i] }))
        .sort((a, b) => b.score - a.score);
      return topK === null ? ranked : ranked.slice(0, topK);
    });
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }

  #function(fn: ClassificationFunction | undefined): ClassificationFunction {
    const chosen = fn ?? this.defaultFunction;
    if (chosen !== "softmax" && chosen !== "sigmoid" && chosen !== "none") {
      throw new Error(
        `TextClassifier: functionToApply must be "softmax", "sigmoid" or "none", got "${chosen}"`,
      );
    }
    return chosen;
  }
}

/** Options of {@link loadTextClassifier}. */
export interface LoadTextClassifierOptions
  extends
    TextClassifierOptions,
    Pick<LoadSequenceClassifierOptions, "backend" | "log">,
    HubOptions {
  /** Where the tokenizer is (default: the model's folder or Hub id). */
  tokenizer?: string;
}

/**
 * Loads a DistilBERT, BERT or RoBERTa classifier (safetensors or `pytorch_model.bin`) and its
 * tokenizer from a folder or a Hub id (through the Hugging Face cache), natively: no ONNX export
 * is needed. Loading the tokenizer imports transformers.js (run with `--allow-ffi --allow-env
 * --allow-sys --allow-read`).
 *
 * @param idOrPath A model folder or a Hub id.
 * @param options Backend, batch size, truncation, tokenizer location and Hub settings.
 */
export async function loadTextClassifier(
  idOrPath: string,
  options: LoadTextClassifierOptions = {},
): Promise<TextClassifier> {
  const { batchSize, maxLength, tokenizer: tokenizerPath, ...loadOptions } = options;
  const model = await loadSequenceClassifier(idOrPath, loadOptions);
  try {
    const tokenizer = await loadTokenizer(tokenizerPath ?? idOrPath, loadOptions);
    return new TextClassifier(model, tokenizer, { batchSize, maxLength });
  } catch (error) {
    model.dispose();
    throw error;
  }
}
