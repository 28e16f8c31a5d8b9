/**
 * BERT (Devlin et al. 2019) with transformers' module tree and weight names:
 * `bert.embeddings.*`, `bert.encoder.layer.{i}.*`, `bert.pooler.dense`, `classifier`. RoBERTa
 * reuses the embeddings (with its position rule) and the encoder.
 *
 * @module
 */

import {
  add,
  arange,
  currentBackend,
  equal,
  Generator,
  matmul,
  mul,
  nn,
  reshape,
  select,
  sub,
  tanh,
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

/**
 * RoBERTa's position ids: padding tokens get `pad`, the others count up from pad + 1 in order
 * (transformers' `create_position_ids_from_input_ids`). The running count is a product with an
 * upper-triangular matrix of ones, exact for integers in f32, so it runs on any backend.
 *
 * @param ids [B, T] token ids.
 * @param pad The padding id.
 */
export function positionsAfterPadding(ids: Tensor, pad: number): Tensor {
  const t = ids.shape[1];
  const upper = new Float32Array(t * t);
  for (let i = 0; i < t; i++) upper.fill(1, i * t + i, (i + 1) * t);
  const real = sub(1, equal(ids, pad));
  const count = matmul(real, tensor(upper, [t, t], { backend: ids.backend.name }));
  return add(mul(count, real), pad);
}

/** Word + token-type + position embeddings, LayerNorm, dropout. */
export class BertEmbeddings extends nn.Module {
  /** [vocab, hidden], padding row untrained. */
  readonly wordEmbeddings: PaddedEmbedding;
  /** [maxPositions, hidden] (RoBERTa: its padding row untrained). */
  readonly positionEmbeddings: nn.Embedding;
  /** [typeVocab, hidden]. */
  readonly tokenTypeEmbeddings: nn.Embedding;
  /** Normalisation after the sum. */
  readonly layerNorm: nn.LayerNorm;
  /** Dropout after the normalisation. */
  readonly dropout: nn.Dropout;

  /**
   * Builds the layers of `config`; `positions` is `absolute` (0..T−1, BERT) or `after-padding`
   * (RoBERTa's rule, see {@link positionsAfterPadding}).
   */
  constructor(
    readonly config: EncoderConfig,
    build: LayerBuild,
    readonly positions: "absolute" | "after-padding",
  ) {
    super();
    const { vocabSize, hiddenSize, maxPositions, padTokenId, typeVocabSize } = config;
    const init = { backend: build.backend, generator: build.skip };
    this.wordEmbeddings = this.registerModule(
      "word_embeddings",
      new PaddedEmbedding(vocabSize, hiddenSize, padTokenId, init),
    );
    this.positionEmbeddings = this.registerModule(
      "position_embeddings",
      positions === "absolute"
        ? new nn.Embedding(maxPositions, hiddenSize, init)
        : new PaddedEmbedding(maxPositions, hiddenSize, padTokenId, init),
    );
    this.tokenTypeEmbeddings = this.registerModule(
      "token_type_embeddings",
      new nn.Embedding(typeVocabSize, hiddenSize, init),
    );
    this.layerNorm = this.registerModule(
      "LayerNorm",
      new nn.LayerNorm(hiddenSize, { eps: config.layerNormEps, backend: build.backend }),
    );
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.hiddenDropout, build.dropout),
    );
  }

  /** ids [B, T] (+ token types) → [B, T, hidden]. */
  forward(t: EncoderTensors): Tensor {
    const backend = t.ids.backend.name;
    const { maxPositions, padTokenId } = this.config;
    const longest = this.positions === "absolute" ? t.length : t.length + padTokenId + 1;
    if (longest > maxPositions) {
      const limit = this.positions === "absolute" ? maxPositions : maxPositions - padTokenId - 1;
      throw new Error(
        `${this.config.modelType}: sequence length ${t.length} exceeds the ${limit} positions ` +
          `max_position_embeddings = ${maxPositions} allows; truncate the inputs`,
      );
    }
    const positions = this.positions === "absolute"
      ? reshape(arange(t.length, undefined, 1, { backend }), [1, t.length])
      : positionsAfterPadding(t.ids, padTokenId);
    const types = t.tokenTypes ?? tensor(new Float32Array(t.length), [1, t.length], { backend });
    const x = add(
      add(this.wordEmbeddings.forward(t.ids), this.tokenTypeEmbeddings.forward(types)),
      this.positionEmbeddings.forward(positions),
    );
    return this.dropout.forward(this.layerNorm.forward(x));
  }
}

/** `query`, `key`, `value` projections and the attention itself. */
export class BertSelfAttention extends nn.Module {
  /** Query projection. */
  readonly query: nn.Linear;
  /** Key projection. */
  readonly key: nn.Linear;
  /** Value projection. */
  readonly value: nn.Linear;

  /** Builds the projections of `config`. */
  constructor(readonly config: EncoderConfig, readonly build: LayerBuild) {
    super();
    const d = config.hiddenSize;
    const init = { backend: build.backend, generator: build.skip };
    this.query = this.registerModule("query", new nn.Linear(d, d, init));
    this.key = this.registerModule("key", new nn.Linear(d, d, init));
    this.value = this.registerModule("value", new nn.Linear(d, d, init));
  }

  /** x [B, T, hidden] → the attention context [B, T, hidden]. */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const h = this.config.numHeads;
    return mergeHeads(selfAttention(
      splitHeads(this.query.forward(x), h),
      splitHeads(this.key.forward(x), h),
      splitHeads(this.value.forward(x), h),
      mask,
      { p: this.config.attentionDropout, training: this.training, generator: this.build.dropout },
    ));
  }
}

/** `dense` → dropout → `LayerNorm(· + residual)`: BertSelfOutput and BertOutput alike. */
export class BertResidualOutput extends nn.Module {
  /** The projection. */
  readonly dense: nn.Linear;
  /** Norm of the sum with the residual. */
  readonly layerNorm: nn.LayerNorm;
  /** Dropout on the projection. */
  readonly dropout: nn.Dropout;

  /** Projects `inFeatures` to the hidden width of `config`. */
  constructor(config: EncoderConfig, build: LayerBuild, inFeatures: number) {
    super();
    const init = { backend: build.backend, generator: build.skip };
    this.dense = this.registerModule(
      "dense",
      new nn.Linear(inFeatures, config.hiddenSize, init),
    );
    this.layerNorm = this.registerModule(
      "LayerNorm",
      new nn.LayerNorm(config.hiddenSize, { eps: config.layerNormEps, backend: build.backend }),
    );
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.hiddenDropout, build.dropout),
    );
  }

  /** LayerNorm(dropout(dense(x)) + residual). */
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.layerNorm.forward(add(this.dropout.forward(this.dense.forward(x)), residual));
  }
}

/** `self` then `output`. */
export class BertAttention extends nn.Module {
  /** The attention. */
  readonly selfAttention: BertSelfAttention;
  /** Projection, residual, norm. */
  readonly output: BertResidualOutput;

  /** Builds the sub-layers of `config`. */
  constructor(config: EncoderConfig, build: LayerBuild) {
    super();
    this.selfAttention = this.registerModule("self", new BertSelfAttention(config, build));
    this.output = this.registerModule(
      "output",
      new BertResidualOutput(config, build, config.hiddenSize),
    );
  }

  /** x [B, T, hidden] → [B, T, hidden]. */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    return this.output.forward(this.selfAttention.forward(x, mask), x);
  }
}

/** One post-LayerNorm block: `attention`, `intermediate.dense` + activation, `output`. */
export class BertLayer extends nn.Module {
  /** Attention sub-layer. */
  readonly attention: BertAttention;
  /** The feed-forward expansion. */
  readonly intermediateDense: nn.Linear;
  /** Projection back, residual, norm. */
  readonly output: BertResidualOutput;

  /** Builds the block of `config`. */
  constructor(readonly config: EncoderConfig, build: LayerBuild) {
    super();
    const init = { backend: build.backend, generator: build.skip };
    this.attention = this.registerModule("attention", new BertAttention(config, build));
    const intermediate = this.registerModule("intermediate", new nn.Module());
    this.intermediateDense = intermediate.registerModule(
      "dense",
      new nn.Linear(config.hiddenSize, config.intermediateSize, init),
    );
    this.output = this.registerModule(
      "output",
      new BertResidualOutput(config, build, config.intermediateSize),
    );
  }

  /** x [B, T, hidden] → [B, T, hidden]. */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const a = nn.inferenceScope(() => this.attention.forward(x, mask));
    return nn.inferenceScope(() =>
      this.output.forward(
        hiddenActivation(this.intermediateDense.forward(a), this.config.hiddenAct),
        a,
      )
    );
  }
}

/** `embeddings`, `encoder.layer.{i}` and, for BERT, `pooler.dense` + tanh on the first token. */
export class BertModel extends nn.Module {
  /** Input embeddings. */
  readonly embeddings: BertEmbeddings;
  /** The blocks, in order. */
  readonly layers: BertLayer[] = [];
  /** The pooler's projection (absent in RoBERTa's classifier). */
  readonly poolerDense: nn.Linear | null;

  /** Builds the encoder of `config`. */
  constructor(
    config: EncoderConfig,
    build: LayerBuild,
    opts: { positions: "absolute" | "after-padding"; pooler: boolean },
  ) {
    super();
    this.embeddings = this.registerModule(
      "embeddings",
      new BertEmbeddings(config, build, opts.positions),
    );
    const encoder = this.registerModule("encoder", new nn.Module());
    const layer = encoder.registerModule("layer", new nn.Module());
    for (let i = 0; i < config.numLayers; i++) {
      this.layers.push(layer.registerModule(String(i), new BertLayer(config, build)));
    }
    if (opts.pooler) {
      const pooler = this.registerModule("pooler", new nn.Module());
      const d = config.hiddenSize;
      this.poolerDense = pooler.registerModule(
        "dense",
        new nn.Linear(d, d, { backend: build.backend, generator: build.skip }),
      );
    } else this.poolerDense = null;
  }

  /** The last hidden state [B, T, hidden]. */
  forward(t: EncoderTensors): Tensor {
    let x = this.embeddings.forward(t);
    for (const block of this.layers) {
      x = nn.runBlock(block, (h) => block.forward(h, t.mask), x, { consumeInput: true });
    }
    return x;
  }

  /** tanh(pooler.dense(first token)) [B, hidden]. */
  pool(hidden: Tensor): Tensor {
    if (!this.poolerDense) throw new Error("BertModel.pool: this encoder was built without pooler");
    return tanh(this.poolerDense.forward(select(hidden, 1, 0)));
  }
}

/** transformers' `BertForSequenceClassification`: pooler output → dropout → `classifier`. */
export class BertForSequenceClassification extends EncoderForSequenceClassification {
  /** The transformers class name. */
  readonly architecture = "BertForSequenceClassification";
  /** Prefix of the encoder's weights. */
  readonly basePrefix = "bert";
  /** Weights transformers may create fresh (the pooler is absent from some checkpoints). */
  readonly headPrefixes = ["classifier.", "bert.pooler."];
  /** The encoder with its pooler. */
  readonly bert: BertModel;
  /** Dropout before the classifier (`classifier_dropout`, else `hidden_dropout_prob`). */
  readonly dropout: nn.Dropout;
  /** hidden → numLabels. */
  readonly classifier: nn.Linear;

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
    this.bert = this.registerModule(
      "bert",
      new BertModel(config, build, { positions: "absolute", pooler: true }),
    );
    this.dropout = this.registerModule(
      "dropout",
      new nn.Dropout(config.classifierDropout, opts.dropoutGenerator),
    );
    this.classifier = this.registerModule(
      "classifier",
      new nn.Linear(config.hiddenSize, config.numLabels, { backend, generator: build.skip }),
    );
    const g = opts.initGenerator === undefined ? new Generator(0) : opts.initGenerator;
    if (g) initWeights(this, g, config.initializerRange);
  }

  /** The last hidden state [B, T, hidden]. */
  encode(batch: EncoderBatch): Tensor {
    return this.bert.forward(encoderTensors(batch, this.backendName));
  }

  /** `{ logits }` [B, numLabels]. */
  forward(batch: EncoderBatch): SequenceClassifierOutput {
    const pooled = this.bert.pool(this.encode(batch));
    return { logits: this.classifier.forward(this.dropout.forward(pooled)) };
  }
}
