/**
 * `loadSequenceClassifier`: a BERT-family sequence classifier (DistilBERT, BERT, RoBERTa) from a
 * folder or a Hub id, the way transformers' `AutoModelForSequenceClassification.from_pretrained`
 * builds one: the architecture from `config.json`, the weights from `model.safetensors` (else
 * `pytorch_model.bin`), and a freshly initialised head where the checkpoint has none or the
 * label count changes.
 *
 * @module
 */

import { currentBackend, Generator } from "../core/mod.ts";
import { BertForSequenceClassification } from "./bert/bert.ts";
import type { EncoderForSequenceClassification, EncoderModelOptions } from "./bert/classifier.ts";
import {
  configNumLabels,
  type EncoderType,
  encoderType,
  parseEncoderConfig,
  withNumLabels,
} from "./bert/config.ts";
import { DistilBertForSequenceClassification } from "./bert/distilbert.ts";
import { loadEncoderWeights } from "./bert/load.ts";
import { RobertaForSequenceClassification } from "./bert/roberta.ts";
import type { HubOptions } from "./hub/env.ts";
import { openModel } from "./hub/repo.ts";
import { loadConfig, loadStateDict } from "./io/checkpoint.ts";

/** Options of {@link loadSequenceClassifier}. */
export interface LoadSequenceClassifierOptions extends HubOptions {
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /**
   * Outputs of the head (1 for a reward model). Head weights whose shape differs from the
   * checkpoint's are then initialised fresh (see `seed`, as transformers'
   * `ignore_mismatched_sizes`) and a log line says so.
   */
  numLabels?: number;
  /** Seed of freshly initialised head weights (default 0). */
  seed?: number;
  /** Source of dropout masks in training mode (default: the global generator). */
  dropoutGenerator?: Generator;
  /** Where notices about new or unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

export { EncoderForSequenceClassification } from "./bert/classifier.ts";
export type { EncoderModelOptions, SequenceClassifierOutput } from "./bert/classifier.ts";
export type { EncoderBatch, TokenMatrix } from "./bert/inputs.ts";
export {
  type EncoderConfig,
  type EncoderType,
  type HiddenAct,
  SUPPORTED_ENCODER_TYPES,
} from "./bert/config.ts";

type Family = new (
  config: ReturnType<typeof parseEncoderConfig>,
  raw: Record<string, unknown>,
  opts?: EncoderModelOptions,
) => EncoderForSequenceClassification;

const FAMILIES: Record<EncoderType, Family> = {
  distilbert: DistilBertForSequenceClassification,
  bert: BertForSequenceClassification,
  roberta: RobertaForSequenceClassification,
};

/**
 * A freshly initialised sequence classifier for a config.json's contents (no checkpoint):
 * weights drawn as transformers' `_init_weights` from `seed`.
 *
 * @param rawConfig The parsed config.json (its `model_type` picks the family).
 * @param opts Backend, label count, seed and dropout generator.
 */
export function sequenceClassifierFromConfig(
  rawConfig: Record<string, unknown>,
  opts: Omit<LoadSequenceClassifierOptions, keyof HubOptions | "log"> = {},
): EncoderForSequenceClassification {
  const type = encoderType(rawConfig);
  const numLabels = opts.numLabels ?? configNumLabels(rawConfig);
  const config = parseEncoderConfig(rawConfig, numLabels);
  return new FAMILIES[type](config, withNumLabels(rawConfig, numLabels), {
    backend: opts.backend ?? currentBackend(),
    initGenerator: new Generator(opts.seed ?? 0),
    dropoutGenerator: opts.dropoutGenerator,
  });
}

/**
 * Load a DistilBERT, BERT or RoBERTa sequence classifier from a folder or a Hub id (resolved
 * through the shared Hugging Face cache). The model comes back in eval mode; call `train()`
 * before training.
 *
 * @example
 * ```ts
 * import { loadSequenceClassifier } from "@tether/rlhf/models";
 * // The examples' tiny DistilBERT reward model; from "distilbert-base-uncased" the one-label
 * // head would start fresh (with a warning saying so).
 * const rm = await loadSequenceClassifier("examples/assets/tiny-imdb/reward", { numLabels: 1 });
 * const { logits } = rm.forward({ inputIds: [[1, 23, 2]], attentionMask: [[1, 1, 1]] });
 * console.log(logits.shape); // [1, 1]
 * ```
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Backend, label count, head seed, dropout generator, log and Hub settings.
 */
export async function loadSequenceClassifier(
  idOrPath: string,
  opts: LoadSequenceClassifierOptions = {},
): Promise<EncoderForSequenceClassification> {
  const files = await openModel(idOrPath, opts);
  const rawConfig = await loadConfig(files);
  const type = encoderType(rawConfig);
  const numLabels = opts.numLabels ?? configNumLabels(rawConfig);
  const config = parseEncoderConfig(rawConfig, numLabels);
  const model = new FAMILIES[type](config, withNumLabels(rawConfig, numLabels), {
    backend: opts.backend ?? currentBackend(),
    initGenerator: null,
    dropoutGenerator: opts.dropoutGenerator,
  });
  try {
    const state = await loadStateDict(files);
    loadEncoderWeights(model, state, {
      source: idOrPath,
      numLabelsOverridden: opts.numLabels !== undefined,
      generator: new Generator(opts.seed ?? 0),
      log: opts.log,
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model.eval();
}
