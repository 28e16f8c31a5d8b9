/**
 * DistilBERT (Sanh et al. 2019) with transformers' module tree and weight names:
 * `distilbert.embeddings.*`, `distilbert.transformer.layer.{i}.*`, then `pre_classifier` and
 * `classifier` reading the first token.
 *
 * @module
 */

import {
  add,
  arange,
  currentBackend,
  Generator,
  nn,
  relu,
  reshape,
  select,
  type Tensor,
  tensor,
} from "../../core/mod.ts";
import { hiddenActivation } from "./activation.ts";
import { mergeHeads, selfAttention, splitHeads } from "./attention.ts";
import {
  EncoderForSequenceClassification,
  type EncoderModelOptions,
  type SequenceClassifierOutput,
} from "./classifier.ts";
import type { EncoderConfig } from "./config.ts";
import { initWeights, type LayerBuild, SkipInit } from "./init.ts";
import { type EncoderBatch, type EncoderTensors, encoderTensors } from "./inputs.ts";
import { PaddedEmbedding } from "./padded_embedding.ts";

/** DistilBERT's fixed table: sin on even columns, cos on odd ones, of pos / 10000^(2⌊j/2⌋/dim). */
export function sinusoidalTable(rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let pos = 0; pos < rows; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/** Word plus position embeddings, LayerNorm, dropout. */
export class DistilBertEmbeddings extends nn.Module {
  /** [vocab, dim], padding row untrained. */
  readonly wordEmbeddings: PaddedEmbedding;
  /** [maxPositions, dim]. */
  readonly positionEmbeddings: nn.Embedding;
  /** Normalisation after the sum. */
  readonly layerNorm: nn.LayerNorm;
  /** Dropout after the normalisation. */
  readonly dropout: nn.Dropout;

  /** Builds the layers of `config`. */
  constructor(readonly config: EncoderConfig, build: LayerBuild) {
    super();
    const { vocabSize, hiddenSize, maxPositions, padTokenId } = config;
    const init = { backend: build.backend, generator: build.skip };
    this.wordEmbeddings = this.registerModule(
      "word_embeddings",
      new PaddedEmbedding(vocabSize, hiddenSize, padTokenId, init),
    );
    this.positionEmbeddings = this.registerModule(
      "position_embeddings",
      new nn.Embedding(maxPositions, hiddenSize, init),
    );
    this.layerNorm = this.registerModule(
      "LayerNorm",
      new nn.LayerNorm(hiddenSize, { eps: config.layerNormEps, backend: build.backend }),
    );
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.hiddenDropout, build.dropout),
    );
    if (config.sinusoidalPositions) this.resetSinusoidal();
  }

  /** Fills the position table with the fixed sinusoids and freezes it, as transformers does. */
  resetSinusoidal(): void {
    const w = this.positionEmbeddings.weight;
    using values = tensor(sinusoidalTable(w.shape[0], w.shape[1]), w.shape, {
      backend: w.backend.name,
    });
    nn.assign(w, values, "sinusoidal position embeddings");
    w.requiresGrad = false;
  }

  /** ids [B, T] → [B, T, dim]; positions are 0..T−1 whatever the padding, as transformers. */
  forward(t: EncoderTensors): Tensor {
    if (t.length > this.config.maxPositions) {
      throw new Error(
        `DistilBERT: sequence length ${t.length} exceeds max_position_embeddings ` +
          `${this.config.maxPositions}; truncate the inputs`,
      );
    }
    const positions = reshape(arange(t.length, undefined, 1, { backend: t.ids.backend.name }), [
      1,
      t.length,
    ]);
    const x = add(this.wordEmbeddings.forward(t.ids), this.positionEmbeddings.forward(positions));
    return this.dropout.forward(this.layerNorm.forward(x));
  }
}

/** Self-attention with `q_lin`, `k_lin`, `v_lin`, `out_lin`. */
export class MultiHeadSelfAttention extends nn.Module {
  /** Query projection. */
  readonly qLin: nn.Linear;
  /** Key projection. */
  readonly kLin: nn.Linear;
  /** Value projection. */
  readonly vLin: nn.Linear;
  /** Output projection. */
  readonly outLin: nn.Linear;

  /** Builds the projections of `config`. */
  constructor(readonly config: EncoderConfig, readonly build: LayerBuild) {
    super();
    const d = config.hiddenSize;
    const init = { backend: build.backend, generator: build.skip };
    this.qLin = this.registerModule("q_lin", new nn.Linear(d, d, init));
    this.kLin = this.registerModule("k_lin", new nn.Linear(d, d, init));
    this.vLin = this.registerModule("v_lin", new nn.Linear(d, d, init));
    this.outLin = this.registerModule("out_lin", new nn.Linear(d, d, init));
  }

  /** x [B, T, dim], mask [B, T] or undefined → [B, T, dim]. */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const h = this.config.numHeads;
    const context = selfAttention(
      splitHeads(this.qLin.forward(x), h),
      splitHeads(this.kLin.forward(x), h),
      splitHeads(this.vLin.forward(x), h),
      mask,
      { p: this.config.attentionDropout, training: this.training, generator: this.build.dropout },
    );
    return this.outLin.forward(mergeHeads(context));
  }
}

/** `lin1` → activation → `lin2` → dropout. */
export class FFN extends nn.Module {
  /** Expansion to hidden_dim. */
  readonly lin1: nn.Linear;
  /** Projection back to dim. */
  readonly lin2: nn.Linear;
  /** Dropout on the output. */
  readonly dropout: nn.Dropout;

  /** Builds the layers of `config`. */
  constructor(readonly config: EncoderConfig, build: LayerBuild) {
    super();
    const init = { backend: build.backend, generator: build.skip };
    const { hiddenSize, intermediateSize } = config;
    this.lin1 = this.registerModule("lin1", new nn.Linear(hiddenSize, intermediateSize, init));
    this.lin2 = this.registerModule("lin2", new nn.Linear(intermediateSize, hiddenSize, init));
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.hiddenDropout, build.dropout),
    );
  }

  /** x [..., dim] → [..., dim]. */
  forward(x: Tensor): Tensor {
    const y = this.lin2.forward(hiddenActivation(this.lin1.forward(x), this.config.hiddenAct));
    return this.dropout.forward(y);
  }
}

/** One post-LayerNorm block: attention + residual + `sa_layer_norm`, FFN + residual + norm. */
export class TransformerBlock extends nn.Module {
  /** Self-attention. */
  readonly attention: MultiHeadSelfAttention;
  /** Norm after attention. */
  readonly saLayerNorm: nn.LayerNorm;
  /** Feed-forward. */
  readonly ffn: FFN;
  /** Norm after the feed-forward. */
  readonly outputLayerNorm: nn.LayerNorm;

  /** Builds the block of `config`. */
  constructor(config: EncoderConfig, build: LayerBuild) {
    super();
    const ln = { eps: config.layerNormEps, backend: build.backend };
    this.attention = this.registerModule("attention", new MultiHeadSelfAttention(config, build));
    this.saLayerNorm = this.registerModule(
      "sa_layer_norm",
      new nn.LayerNorm(config.hiddenSize, ln),
    );
    this.ffn = this.registerModule("ffn", new FFN(config, build));
    this.outputLayerNorm = this.registerModule(
      "output_layer_norm",
      new nn.LayerNorm(config.hiddenSize, ln),
    );
  }

  /** x [B, T, dim] → [B, T, dim]. */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const attended = nn.inferenceScope(() => this.attention.forward(x, mask));
    const sa = this.saLayerNorm.forward(add(attended, x));
    return this.outputLayerNorm.forward(add(nn.inferenceScope(() => this.ffn.forward(sa)), sa));
  }
}

/** `embeddings` then `transformer.layer.{i}`. */
export class DistilBertModel extends nn.Module {
  /** Input embeddings. */
  readonly embeddings: DistilBertEmbeddings;
  /** The blocks, in order. */
  readonly layers: TransformerBlock[] = [];

  /** Builds the encoder of `config`. */
  constructor(config: EncoderConfig, build: LayerBuild) {
    super();
    this.embeddings = this.registerModule("embeddings", new DistilBertEmbeddings(config, build));
    const transformer = this.registerModule("transformer", new nn.Module());
    const layer = transformer.registerModule("layer", new nn.Module());
    for (let i = 0; i < config.numLayers; i++) {
      this.layers.push(layer.registerModule(String(i), new TransformerBlock(config, build)));
    }
  }

  /** The last hidden state [B, T, dim]. */
  forward(t: EncoderTensors): Tensor {
    let x = this.embeddings.forward(t);
    for (const block of this.layers) {
      x = nn.runBlock(block, (h) => block.forward(h, t.mask), x, { consumeInput: true });
    }
    return x;
  }
}

/**
 * transformers' `DistilBertForSequenceClassification`: first-token state → `pre_classifier` →
 * ReLU → dropout (`seq_classif_dropout`) → `classifier`.
 */
export class DistilBertForSequenceClassification extends EncoderForSequenceClassification {
  /** The transformers class name. */
  readonly architecture = "DistilBertForSequenceClassification";
  /** Prefix of the encoder's weights. */
  readonly basePrefix = "distilbert";
  /** Weights a base checkpoint lacks. */
  readonly headPrefixes = ["pre_classifier.", "classifier."];
  /** The encoder. */
  readonly distilbert: DistilBertModel;
  /** dim → dim, before the ReLU. */
  readonly preClassifier: nn.Linear;
  /** dim → numLabels. */
  readonly classifier: nn.Linear;
  /** Dropout before the classifier. */
  readonly dropout: nn.Dropout;

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
    const init = { backend, generator: build.skip };
    const d = config.hiddenSize;
    this.distilbert = this.registerModule("distilbert", new DistilBertModel(config, build));
    this.preClassifier = this.registerModule("pre_classifier", new nn.Linear(d, d, init));
    this.classifier = this.registerModule(
      "classifier",
      new nn.Linear(d, config.numLabels, init),
    );
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.classifierDropout, opts.dropoutGenerator),
    );
    const g = opts.initGenerator === undefined ? new Generator(0) : opts.initGenerator;
    if (g) {
      initWeights(this, g, config.initializerRange);
      if (config.sinusoidalPositions) this.distilbert.embeddings.resetSinusoidal();
    }
  }

  /** The last hidden state [B, T, dim]. */
  encode(batch: EncoderBatch): Tensor {
    return this.distilbert.forward(encoderTensors(batch, this.backendName));
  }

  /** `{ logits }` [B, numLabels]. */
  forward(batch: EncoderBatch): SequenceClassifierOutput {
    const first = select(this.encode(batch), 1, 0);
    const pooled = this.dropout.forward(relu(this.preClassifier.forward(first)));
    return { logits: this.classifier.forward(pooled) };
  }
}
