/**
 * A frozen text classifier as a {@link RewardFunction}: the probability (or the raw logit) of one
 * chosen label, e.g. POSITIVE of an SST-2 sentiment model, or one emotion of a multi-label
 * go_emotions model. The model is an ONNX export in the layout transformers.js reads
 * (`config.json`, tokenizer files, `onnx/model.onnx`), from a local folder or the Hugging Face
 * cache (downloaded into it when missing), and runs on onnxruntime-node through
 * `@huggingface/transformers`.
 *
 * Loading imports transformers, which loads onnxruntime-node's Node-API addon: run with
 * `--allow-ffi --allow-env --allow-sys --allow-read`. That addon keeps JavaScript handles in
 * process-wide state, so only one isolate of a process (the main thread, or one worker) should
 * run its sessions: Deno panics ("attempt to use Handle in an Isolate that is not its host") when
 * a second isolate creates sessions too.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { PreTrainedModel } from "@huggingface/transformers";
import type { HubOptions } from "../models/hub/env.ts";
import { HubError } from "../models/hub/errors.ts";
import { openModel } from "../models/hub/repo.ts";
import { loadTokenizer, type Tokenizer } from "../models/tokenizer.ts";
import type { RewardFunction } from "../algorithms/common/reward_functions.ts";
import { importTransformers, type Transformers } from "../models/transformers_js.ts";

/** Weight formats of transformers.js ONNX exports; each names a file suffix. */
export type ClassifierDtype = "fp32" | "fp16" | "q8" | "int8" | "uint8" | "q4" | "q4f16" | "bnb4";

const DTYPE_SUFFIX: Record<ClassifierDtype, string> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

/** Options of {@link classifierReward}. */
export interface ClassifierRewardOptions extends HubOptions {
  /** The label whose score is the reward: its name in config.json's `id2label`, or its index. */
  label: string | number;
  /**
   * `probability` (default): the label's probability after {@link function}. `logit`: the raw
   * logit, as in the classic IMDB PPO recipe (`function_to_apply="none"`).
   */
  output?: "probability" | "logit";
  /**
   * How logits become probabilities: `softmax` over the labels, or `sigmoid` per label
   * (multi-label models such as go_emotions). Default: `sigmoid` when config.json's
   * `problem_type` is `multi_label_classification` or there is one label, else `softmax`
   * (the text-classification pipeline's rule).
   */
  function?: "softmax" | "sigmoid";
  /** Texts per forward (default 16). */
  batchSize?: number;
  /** Keep at most this many tokens per text, special tokens included (default: the tokenizer's `model_max_length`, else no limit). */
  maxLength?: number;
  /** Which ONNX weights to load: `onnx/model{suffix}.onnx` (default `fp32`, i.e. `model.onnx`). */
  dtype?: ClassifierDtype;
}

/** A loaded classifier reward: call it with texts; dispose it to release the session. */
export interface ClassifierReward {
  /**
   * One score per text: the chosen label's probability or logit.
   *
   * @param texts The texts to score.
   */
  (texts: readonly string[]): Promise<number[]>;
  /** The model's labels, by id. */
  readonly labels: readonly string[];
  /** Index of the rewarded label in {@link labels}. */
  readonly labelId: number;
  /** The function applied to logits, or `none` for raw logits. */
  readonly function: "softmax" | "sigmoid" | "none";
  /** Release the onnxruntime session; later calls fail. */
  dispose(): Promise<void>;
}

// transformers disables local files inside web workers (it takes them for browsers); a load
// lifts that one setting and restores it, one load at a time so the restore is never stale.
let loadQueue: Promise<unknown> = Promise.resolve();

function loadSequenceClassifier(
  transformers: Transformers,
  folder: string,
  dtype: ClassifierDtype,
): Promise<PreTrainedModel> {
  const load = loadQueue.then(async () => {
    const { env, AutoModelForSequenceClassification } = transformers;
    const allowed = env.allowLocalModels;
    env.allowLocalModels = true;
    try {
      return await AutoModelForSequenceClassification.from_pretrained(folder, {
        local_files_only: true,
        dtype,
        device: "cpu",
      });
    } finally {
      env.allowLocalModels = allowed;
    }
  });
  loadQueue = load.catch(() => undefined);
  return load;
}

function labelsOf(config: Record<string, unknown>, where: string): string[] {
  const id2label = config.id2label;
  if (id2label !== null && typeof id2label === "object") {
    const entries = Object.entries(id2label as Record<string, unknown>);
    const labels: string[] = [];
    for (const [key, name] of entries) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || typeof name !== "string") {
        throw new Error(
          `${where}: id2label must map ids 0..${entries.length - 1} to names, got "${key}": ` +
            JSON.stringify(name),
        );
      }
      labels[id] = name;
    }
    return labels;
  }
  // Without id2label, transformers names labels LABEL_i, two unless num_labels says otherwise.
  const count = config.num_labels ?? 2;
  if (typeof count === "number" && Number.isInteger(count) && count > 0) {
    return Array.from({ length: count }, (_, i) => `LABEL_${i}`);
  }
  throw new Error(`${where}: num_labels must be a positive integer, got ${JSON.stringify(count)}`);
}

/** How many `.onnx_data` files transformers will read beside the model (large exports). */
function externalDataChunks(config: Record<string, unknown>, onnxFile: string): number {
  const custom = config["transformers.js_config"] as Record<string, unknown> | undefined;
  let setting = custom?.use_external_data_format;
  if (setting !== null && typeof setting === "object") {
    const byFile = setting as Record<string, unknown>;
    setting = byFile[onnxFile.slice("onnx/".length)] ?? byFile.model;
  }
  return setting === true ? 1 : typeof setting === "number" ? setting : 0;
}

function resolveLabel(label: string | number, labels: readonly string[], id: string): number {
  const index = typeof label === "number"
    ? (Number.isInteger(label) && label >= 0 && label < labels.length ? label : -1)
    : labels.indexOf(label);
  if (index < 0) {
    throw new Error(
      `classifierReward: ${id} has no label ${JSON.stringify(label)}; its labels are ` +
        labels.map((name, i) => `${i}: ${name}`).join(", "),
    );
  }
  return index;
}

function positiveInteger(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new Error(`classifierReward: ${name} must be an integer >= 1, got ${value}`);
  }
  return value;
}

function encodeRows(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number | undefined,
): number[][] {
  return texts.map((text, i) => {
    if (typeof text !== "string") {
      throw new TypeError(`classifierReward: text ${i} is ${typeof text}, not a string`);
    }
    const ids = tokenizer.encode(
      text,
      maxLength === undefined ? {} : { truncation: true, maxLength },
    );
    if (ids.length === 0) {
      throw new Error(
        `classifierReward: text ${i} (${JSON.stringify(text)}) has no tokens; the classifier ` +
          `needs at least one`,
      );
    }
    return ids;
  });
}

/** Score of `labelId` from one row of logits, computed in f64. */
function labelScore(
  logits: ArrayLike<number>,
  start: number,
  width: number,
  labelId: number,
  fn: "softmax" | "sigmoid" | "none",
): number {
  const z = logits[start + labelId];
  if (fn === "none") return z;
  if (fn === "sigmoid") return 1 / (1 + Math.exp(-z));
  let max = -Infinity;
  for (let j = 0; j < width; j++) max = Math.max(max, logits[start + j]);
  let total = 0;
  for (let j = 0; j < width; j++) total += Math.exp(logits[start + j] - max);
  return Math.exp(z - max) / total;
}

/**
 * Load a frozen text classifier and wrap it as a reward function scoring one label.
 *
 * The example downloads an ONNX export from the Hub, so the doc tests leave it out (`ignore`);
 * the classifier tests build and score a tiny local one.
 *
 * @example
 * ```ts ignore
 * import { classifierReward } from "@tether/rlhf/reward";
 * // Raw POSITIVE logit, as TRL's IMDB sentiment recipe uses for PPO.
 * const reward = await classifierReward("Xenova/distilbert-base-uncased-finetuned-sst-2-english", {
 *   label: "POSITIVE",
 *   output: "logit",
 * });
 * const scores = await reward(["a wonderful film", "a dull film"]);
 * await reward.dispose();
 * ```
 *
 * @param model A folder or Hub id of a transformers.js text-classification export.
 * @param options The label, the output (probability or logit), batching and Hub settings.
 * @returns The reward; throws when the label is not one of the model's (the error lists them).
 */
export async function classifierReward(
  model: string,
  options: ClassifierRewardOptions,
): Promise<ClassifierReward> {
  const batchSize = positiveInteger(options.batchSize, "batchSize") ?? 16;
  const maxLengthOption = positiveInteger(options.maxLength, "maxLength");
  const output = options.output ?? "probability";
  if (output !== "probability" && output !== "logit") {
    throw new Error(`classifierReward: output must be "probability" or "logit", got "${output}"`);
  }
  if (
    options.function !== undefined && options.function !== "softmax" &&
    options.function !== "sigmoid"
  ) {
    throw new Error(
      `classifierReward: function must be "softmax" or "sigmoid", got "${options.function}"`,
    );
  }
  if (output === "logit" && options.function !== undefined) {
    throw new Error(
      `classifierReward: output "logit" returns raw logits, so function "${options.function}" ` +
        `would be ignored; drop one of the two`,
    );
  }
  const dtype = options.dtype ?? "fp32";
  if (!Object.hasOwn(DTYPE_SUFFIX, dtype)) {
    throw new Error(
      `classifierReward: dtype "${dtype}" is not one of ${Object.keys(DTYPE_SUFFIX).join(", ")}`,
    );
  }

  const files = await openModel(model, options);
  const configPath = await files.file("config.json");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await Deno.readTextFile(configPath));
  } catch (error) {
    throw new Error(`${configPath}: not valid JSON (${(error as Error).message})`);
  }
  const labels = labelsOf(config, configPath);
  const labelId = resolveLabel(options.label, labels, files.id);
  const fn: ClassifierReward["function"] = output === "logit" ? "none" : options.function ??
    (config.problem_type === "multi_label_classification" || labels.length === 1
      ? "sigmoid"
      : "softmax");

  // Resolve (and download) every file first, so transformers only reads one folder.
  const folder = dirname(configPath);
  const onnxFile = `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
  const onnxPath = await files.file(onnxFile).catch((error) => {
    if (!(error instanceof HubError && error.kind === "not-found")) throw error;
    throw new Error(
      `classifierReward: dtype "${dtype}" loads ${onnxFile}, which ${files.id} lacks; pick the ` +
        `dtype of a file its onnx/ folder has (${
          Object.entries(DTYPE_SUFFIX).map(([d, suffix]) => `${d}: model${suffix}.onnx`).join(", ")
        }) (${(error as Error).message})`,
      { cause: error },
    );
  });
  if (onnxPath !== join(folder, onnxFile)) {
    throw new Error(
      `classifierReward: ${files.id} resolved ${onnxFile} to ${onnxPath}, outside the folder ` +
        `of its config.json (${folder})`,
    );
  }
  for (let chunk = 0; chunk < externalDataChunks(config, onnxFile); chunk++) {
    await files.file(`${onnxFile}_data${chunk === 0 ? "" : `_${chunk}`}`);
  }
  const tokenizer = await loadTokenizer(files);
  const maxLength = maxLengthOption ?? tokenizer.modelMaxLength;
  const padId = tokenizer.padTokenId ??
    (typeof config.pad_token_id === "number" ? config.pad_token_id : 0);

  const transformers = await importTransformers("classifierReward");
  let session: PreTrainedModel | null = await loadSequenceClassifier(transformers, folder, dtype);

  const score = async (texts: readonly string[]): Promise<number[]> => {
    if (session === null) throw new Error(`classifierReward: ${files.id} was disposed`);
    const rows = encodeRows(tokenizer, texts, maxLength);
    const scores: number[] = [];
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const width = Math.max(...batch.map((row) => row.length));
      const ids = new BigInt64Array(batch.length * width).fill(BigInt(padId));
      const mask = new BigInt64Array(batch.length * width);
      batch.forEach((row, r) => {
        row.forEach((id, c) => {
          ids[r * width + c] = BigInt(id);
          mask[r * width + c] = 1n;
        });
      });
      const shape = [batch.length, width];
      const { logits } = await session({
        input_ids: new transformers.Tensor("int64", ids, shape),
        attention_mask: new transformers.Tensor("int64", mask, shape),
      });
      const [rowsOut, labelsOut] = logits.dims as number[];
      if (logits.dims.length !== 2 || rowsOut !== batch.length || labelsOut !== labels.length) {
        throw new Error(
          `classifierReward: ${files.id} returned logits [${logits.dims}] for ${batch.length} ` +
            `texts; config.json declares ${labels.length} labels, so expected ` +
            `[${batch.length}, ${labels.length}]`,
        );
      }
      const data = logits.data as Float32Array;
      for (let r = 0; r < batch.length; r++) {
        scores.push(labelScore(data, r * labelsOut, labelsOut, labelId, fn));
      }
      logits.dispose();
    }
    return scores;
  };

  return Object.assign(score, {
    labels,
    labelId,
    function: fn,
    dispose: async () => {
      const current = session;
      session = null;
      await current?.dispose();
    },
  }) satisfies RewardFunction;
}
