/**
 * `GPT2ForSequenceClassification`: the GPT-2 trunk with transformers' bias-free `score` head,
 * pooled at each sequence's last real token: the usual shape of a GPT-2 reward model. It is
 * the generic `CausalLMForSequenceClassification` over a `GPT2LMHeadModel`.
 *
 * @module
 */

import { currentBackend } from "../../core/mod.ts";
import {
  CausalLMForSequenceClassification,
  type ClassifierInput,
  type ClassifierOutput,
} from "../for_sequence_classification.ts";
import type { GPT2Config } from "./config.ts";
import { GPT2LMHeadModel, type GPT2ModelOptions } from "./model.ts";

/** Inputs of a sequence-classification forward pass. */
export type GPT2ClassifierInput = ClassifierInput;

/** What a sequence classifier returns. */
export type GPT2ClassifierOutput = ClassifierOutput;

/** GPT-2 with a sequence-classification `score` head (transformers' names and pooling). */
export class GPT2ForSequenceClassification extends CausalLMForSequenceClassification {
  /** The trunk. */
  readonly transformer: GPT2LMHeadModel["transformer"];

  /**
   * A freshly initialised classifier (load weights with `loadGpt2ForSequenceClassification`),
   * or one over an existing GPT-2 (sharing its trunk; its `num_labels` sets the outputs).
   * @param config A `GPT2Config` or partial `config.json` contents, or a `GPT2LMHeadModel`.
   */
  constructor(
    config: Partial<GPT2Config> | Record<string, unknown> | GPT2LMHeadModel,
    opts: GPT2ModelOptions = {},
  ) {
    const base = config instanceof GPT2LMHeadModel ? config : new GPT2LMHeadModel(config, {
      ...opts,
      backend: opts.backend ?? currentBackend(),
    });
    super(base, {
      numLabels: base.config.num_labels,
      generator: opts.generator,
      className: "GPT2ForSequenceClassification",
    });
    this.transformer = base.transformer;
  }

  /** The checked config (`num_labels` outputs). */
  get config(): GPT2Config {
    return (this.base as GPT2LMHeadModel).config;
  }
}
