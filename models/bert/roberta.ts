/**
 * RoBERTa (Liu et al. 2019) for sequence classification with transformers' names: the BERT
 * encoder under `roberta.` (positions numbered after the padding id, no pooler) and
 * `classifier.dense` + tanh + `classifier.out_proj` on the first token.
 *
 * @module
 */

import { currentBackend, Generator, nn, select, tanh, type Tensor } from "../../core/mod.ts";
import { BertModel } from "./bert.ts";
import {
  EncoderForSequenceClassification,
  type EncoderModelOptions,
  type SequenceClassifierOutput,
} from "./classifier.ts";
import type { EncoderConfig } from "./config.ts";
import { initWeights, type LayerBuild, SkipInit } from "./init.ts";
import { type EncoderBatch, encoderTensors } from "./inputs.ts";

/** dropout → `dense` → tanh → dropout → `out_proj`, on the first token. */
export class RobertaClassificationHead extends nn.Module {
  /** hidden → hidden. */
  readonly dense: nn.Linear;
  /** Dropout before each projection. */
  readonly dropout: nn.Dropout;
  /** hidden → numLabels. */
  readonly outProj: nn.Linear;

  /** Builds the head of `config`. */
  constructor(config: EncoderConfig, build: LayerBuild) {
    super();
    const init = { backend: build.backend, generator: build.skip };
    const d = config.hiddenSize;
    this.dense = this.registerModule("dense", new nn.Linear(d, d, init));
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.classifierDropout, build.dropout),
    );
    this.outProj = this.registerModule("out_proj", new nn.Linear(d, config.numLabels, init));
  }

  /** hidden [B, T, hidden] → [B, numLabels]. */
  forward(hidden: Tensor): Tensor {
    const x = this.dropout.forward(select(hidden, 1, 0));
    return this.outProj.forward(this.dropout.forward(tanh(this.dense.forward(x))));
  }
}

/** transformers' `RobertaForSequenceClassification`. */
export class RobertaForSequenceClassification extends EncoderForSequenceClassification {
  /** The transformers class name. */
  readonly architecture = "RobertaForSequenceClassification";
  /** Prefix of the encoder's weights. */
  readonly basePrefix = "roberta";
  /** Weights a base checkpoint lacks. */
  readonly headPrefixes = ["classifier."];
  /** The encoder (no pooler). */
  readonly roberta: BertModel;
  /** The classification head. */
  readonly classifier: RobertaClassificationHead;

  /**
   * Builds the model of `config` on `opts.backend`, initialised as transformers does unless
   * `opts.initGenerator` is null.
   */
  constructor(
    config: EncoderConfig,
    rawConfig: Record<string, unknown>,
    opts: EncoderModelOptions = {},
  ) {
    const backend = opts.backend ?? currentBackend();
    super(config, rawConfig, backend);
    const build = { backend, skip: new SkipInit(), dropout: opts.dropoutGenerator };
    this.roberta = this.registerModule(
      "roberta",
      new BertModel(config, build, { positions: "after-padding", pooler: false }),
    );
    this.classifier = this.registerModule(
      "classifier",
      new RobertaClassificationHead(config, build),
    );
    const g = opts.initGenerator === undefined ? new Generator(0) : opts.initGenerator;
    if (g) initWeights(this, g, config.initializerRange);
  }

  /** The last hidden state [B, T, hidden]. */
  encode(batch: EncoderBatch): Tensor {
    return this.roberta.forward(encoderTensors(batch, this.backendName));
  }

  /** `{ logits }` [B, numLabels]. */
  forward(batch: EncoderBatch): SequenceClassifierOutput {
    return { logits: this.classifier.forward(this.encode(batch)) };
  }
}
