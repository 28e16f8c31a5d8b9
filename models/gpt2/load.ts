/**
 * Building GPT-2 models from a folder or Hub checkpoint: config, weights (safetensors preferred,
 * else `pytorch_model.bin`), heads.
 *
 * @module
 */

import type { Generator } from "../../core/random.ts";
import type { ModelFiles } from "../hub/repo.ts";
import { loadStateDict } from "../io/checkpoint.ts";
import type { ValueHeadOptions } from "../heads.ts";
import { GPT2LMHeadModel } from "./model.ts";
import { GPT2ForSequenceClassification } from "./sequence_classification.ts";
import { loadGpt2Weights } from "./weights.ts";

/** How to build a GPT-2 from a checkpoint. */
export interface Gpt2BuildOptions {
  /** Backend of the weights. */
  backend: string;
  /** Attach TRL's value head; its weights load when the checkpoint has `v_head.*`. */
  valueHead?: boolean | ValueHeadOptions;
  /** Source of freshly initialised weights (heads the checkpoint lacks) and dropout masks. */
  generator?: Generator;
  /** Where notices about fresh or unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

/** A `GPT2LMHeadModel` with the checkpoint's weights, in eval mode. */
export async function loadGpt2LMHeadModel(
  files: ModelFiles,
  config: Record<string, unknown>,
  opts: Gpt2BuildOptions,
): Promise<GPT2LMHeadModel> {
  const state = await loadStateDict(files);
  const model = new GPT2LMHeadModel(config, {
    backend: opts.backend,
    generator: opts.generator,
    valueHead: opts.valueHead,
    initWeights: false,
  });
  try {
    const r = loadGpt2Weights(model, state, { optional: ["v_head."] });
    const log = opts.log ?? console.warn;
    if (r.initialized.length) {
      log(`${files.id}: no value head in the checkpoint; v_head starts fresh`);
    }
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}

/**
 * A `GPT2ForSequenceClassification` with the checkpoint's weights, in eval mode; `score`
 * starts fresh (N(0, initializer_range²)) when the checkpoint is a plain language model.
 */
export async function loadGpt2Classifier(
  files: ModelFiles,
  config: Record<string, unknown>,
  opts: Omit<Gpt2BuildOptions, "valueHead"> & { numLabels?: number },
): Promise<GPT2ForSequenceClassification> {
  const state = await loadStateDict(files);
  const withLabels = opts.numLabels === undefined
    ? config
    : { ...config, num_labels: opts.numLabels, id2label: undefined, label2id: undefined };
  const model = new GPT2ForSequenceClassification(withLabels, {
    backend: opts.backend,
    generator: opts.generator,
    initWeights: false,
  });
  const log = opts.log ?? console.warn;
  const saved = state.get("score.weight");
  if (saved && saved.shape[0] !== model.numLabels) {
    log(
      `${files.id}: the checkpoint's score head has ${saved.shape[0]} labels, ${model.numLabels} ` +
        `were asked for; score starts fresh`,
    );
    state.delete("score.weight");
  }
  try {
    const r = loadGpt2Weights(model, state, { optional: ["score."] });
    if (r.initialized.length) log(`${files.id}: no score head in the checkpoint; it starts fresh`);
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}
