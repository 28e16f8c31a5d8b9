/**
 * Hugging Face `config.json` of the BERT family read into one validated shape. Field names and
 * defaults follow transformers' DistilBertConfig, BertConfig and RobertaConfig, so a config that
 * Python loads means the same model here.
 *
 * @module
 */

/** The `model_type` values this folder implements. */
export const SUPPORTED_ENCODER_TYPES = ["distilbert", "bert", "roberta"] as const;

/** One of {@link SUPPORTED_ENCODER_TYPES}. */
export type EncoderType = (typeof SUPPORTED_ENCODER_TYPES)[number];

/** Activations a config may name (`hidden_act` / `activation`). */
export type HiddenAct = "gelu" | "relu" | "gelu_new" | "gelu_pytorch_tanh";

const HIDDEN_ACTS: readonly HiddenAct[] = ["gelu", "relu", "gelu_new", "gelu_pytorch_tanh"];

/** The architecture of one BERT-family encoder with a sequence-classification head. */
export interface EncoderConfig {
  /** Which family. */
  modelType: EncoderType;
  /** Token vocabulary size. */
  vocabSize: number;
  /** Width of every hidden state. */
  hiddenSize: number;
  /** Transformer blocks. */
  numLayers: number;
  /** Attention heads per block (divides `hiddenSize`). */
  numHeads: number;
  /** Width of the feed-forward layer. */
  intermediateSize: number;
  /** Rows of the position table. */
  maxPositions: number;
  /** Rows of the token-type table (0 for DistilBERT, which has none). */
  typeVocabSize: number;
  /** LayerNorm epsilon. */
  layerNormEps: number;
  /** Dropout on embeddings and block outputs. */
  hiddenDropout: number;
  /** Dropout on attention probabilities. */
  attentionDropout: number;
  /** Dropout inside the classification head. */
  classifierDropout: number;
  /** Feed-forward activation. */
  hiddenAct: HiddenAct;
  /** Padding token id (RoBERTa numbers positions after it). */
  padTokenId: number;
  /** Std of the normal init of new weights. */
  initializerRange: number;
  /** DistilBERT only: fixed sinusoidal position table instead of a learned one. */
  sinusoidalPositions: boolean;
  /** Outputs of the classification head. */
  numLabels: number;
}

/** A parsed config.json. */
export type RawConfig = Record<string, unknown>;

function fail(field: string, value: unknown, want: string): never {
  throw new Error(
    `config.json: "${field}" must be ${want}, got ${JSON.stringify(value)}; fix the config file`,
  );
}

function positiveInt(raw: RawConfig, field: string, fallback?: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(field, v, "a positive integer");
  return v;
}

function nonNegativeInt(raw: RawConfig, field: string, fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    fail(field, v, "a non-negative integer");
  }
  return v;
}

function probability(raw: RawConfig, field: string, fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !(v >= 0 && v < 1)) fail(field, v, "a number in [0, 1)");
  return v;
}

function positiveNumber(raw: RawConfig, field: string, fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    fail(field, v, "a positive number");
  }
  return v;
}

function activation(raw: RawConfig, field: string, fallback: HiddenAct): HiddenAct {
  const v = raw[field] ?? fallback;
  if (!HIDDEN_ACTS.includes(v as HiddenAct)) fail(field, v, `one of ${HIDDEN_ACTS.join(", ")}`);
  return v as HiddenAct;
}

/**
 * The number of labels a config declares: `num_labels` when present, else the size of
 * `id2label`, else transformers' default of 2.
 *
 * @param raw The parsed config.json.
 */
export function configNumLabels(raw: RawConfig): number {
  if (raw.num_labels !== undefined) return positiveInt(raw, "num_labels");
  const id2label = raw.id2label;
  if (id2label === undefined || id2label === null) return 2;
  if (typeof id2label !== "object" || Array.isArray(id2label)) {
    fail("id2label", id2label, "an object mapping label ids to names");
  }
  const n = Object.keys(id2label).length;
  if (n === 0) fail("id2label", id2label, "non-empty");
  return n;
}

/** Class-name prefixes of transformers' architectures, most specific first. */
const ARCHITECTURE_PREFIXES: [string, EncoderType][] = [
  ["DistilBert", "distilbert"],
  ["Roberta", "roberta"],
  ["Bert", "bert"],
];

/**
 * The model type a config declares, checked against the families implemented here. Old configs
 * without `model_type` are recognised from `architectures` (e.g. `BertForMaskedLM`), as
 * transformers' AutoConfig does.
 *
 * @param raw The parsed config.json.
 */
export function encoderType(raw: RawConfig): EncoderType {
  let t = raw.model_type;
  if (t === undefined && Array.isArray(raw.architectures)) {
    const arch = String(raw.architectures[0] ?? "");
    t = ARCHITECTURE_PREFIXES.find(([prefix]) => arch.startsWith(prefix))?.[1];
  }
  if (!SUPPORTED_ENCODER_TYPES.includes(t as EncoderType)) {
    const given = raw.model_type === undefined
      ? `no model_type (architectures ${JSON.stringify(raw.architectures ?? null)})`
      : `model_type ${JSON.stringify(raw.model_type)}`;
    throw new Error(
      `config.json: ${given} is not a supported sequence-classification encoder; ` +
        `supported model_type values: ${SUPPORTED_ENCODER_TYPES.join(", ")}`,
    );
  }
  return t as EncoderType;
}

/**
 * Read a BERT-family config.json into an {@link EncoderConfig}, with transformers' defaults for
 * absent fields and an error naming any field that is malformed or describes something this
 * implementation does not do (relative position embeddings, a decoder).
 *
 * @param raw The parsed config.json.
 * @param numLabels Overrides the label count the config declares.
 */
export function parseEncoderConfig(raw: RawConfig, numLabels?: number): EncoderConfig {
  const modelType = encoderType(raw);
  const labels = numLabels ?? configNumLabels(raw);
  if (!Number.isInteger(labels) || labels <= 0) {
    throw new Error(`numLabels must be a positive integer, got ${numLabels}`);
  }
  const config = modelType === "distilbert"
    ? parseDistilBert(raw, labels)
    : parseBertLike(raw, modelType, labels);
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new Error(
      `config.json: hidden size ${config.hiddenSize} is not divisible by the ${config.numHeads} ` +
        `attention heads; fix the config file`,
    );
  }
  return config;
}

function parseDistilBert(raw: RawConfig, numLabels: number): EncoderConfig {
  const sinusoidal = raw.sinusoidal_pos_embds ?? false;
  if (typeof sinusoidal !== "boolean") fail("sinusoidal_pos_embds", sinusoidal, "a boolean");
  const act = activation(raw, "activation", "gelu");
  if (act !== "gelu" && act !== "relu") fail("activation", act, `"gelu" or "relu" for DistilBERT`);
  return {
    modelType: "distilbert",
    vocabSize: positiveInt(raw, "vocab_size", 30522),
    hiddenSize: positiveInt(raw, "dim", 768),
    numLayers: positiveInt(raw, "n_layers", 6),
    numHeads: positiveInt(raw, "n_heads", 12),
    intermediateSize: positiveInt(raw, "hidden_dim", 3072),
    maxPositions: positiveInt(raw, "max_position_embeddings", 512),
    typeVocabSize: 0,
    // transformers builds DistilBERT's LayerNorms with eps=1e-12 whatever the config says.
    layerNormEps: 1e-12,
    hiddenDropout: probability(raw, "dropout", 0.1),
    attentionDropout: probability(raw, "attention_dropout", 0.1),
    classifierDropout: probability(raw, "seq_classif_dropout", 0.2),
    hiddenAct: act,
    padTokenId: nonNegativeInt(raw, "pad_token_id", 0),
    initializerRange: positiveNumber(raw, "initializer_range", 0.02),
    sinusoidalPositions: sinusoidal,
    numLabels,
  };
}

function parseBertLike(
  raw: RawConfig,
  modelType: "bert" | "roberta",
  numLabels: number,
): EncoderConfig {
  const positionType = raw.position_embedding_type ?? "absolute";
  if (positionType !== "absolute") {
    fail("position_embedding_type", positionType, `"absolute" (the only kind implemented)`);
  }
  if (raw.is_decoder === true) fail("is_decoder", true, "false for a sequence classifier");
  const hiddenDropout = probability(raw, "hidden_dropout_prob", 0.1);
  const classifierDropout = raw.classifier_dropout === null
    ? hiddenDropout
    : probability(raw, "classifier_dropout", hiddenDropout);
  return {
    modelType,
    vocabSize: positiveInt(raw, "vocab_size", modelType === "bert" ? 30522 : 50265),
    hiddenSize: positiveInt(raw, "hidden_size", 768),
    numLayers: positiveInt(raw, "num_hidden_layers", 12),
    numHeads: positiveInt(raw, "num_attention_heads", 12),
    intermediateSize: positiveInt(raw, "intermediate_size", 3072),
    maxPositions: positiveInt(raw, "max_position_embeddings", 512),
    typeVocabSize: positiveInt(raw, "type_vocab_size", 2),
    layerNormEps: positiveNumber(raw, "layer_norm_eps", 1e-12),
    hiddenDropout,
    attentionDropout: probability(raw, "attention_probs_dropout_prob", 0.1),
    classifierDropout,
    hiddenAct: activation(raw, "hidden_act", "gelu"),
    padTokenId: nonNegativeInt(raw, "pad_token_id", modelType === "bert" ? 0 : 1),
    initializerRange: positiveNumber(raw, "initializer_range", 0.02),
    sinusoidalPositions: false,
    numLabels,
  };
}

/**
 * A copy of `raw` declaring `numLabels` generic labels (`LABEL_0`, ...), as transformers writes
 * a config whose `num_labels` was changed; the config is returned unchanged when it already
 * declares that many.
 *
 * @param raw The parsed config.json.
 * @param numLabels The new label count.
 */
export function withNumLabels(raw: RawConfig, numLabels: number): RawConfig {
  if (configNumLabels(raw) === numLabels) return { ...raw };
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < numLabels; i++) {
    id2label[String(i)] = `LABEL_${i}`;
    label2id[`LABEL_${i}`] = i;
  }
  const out: RawConfig = { ...raw, id2label, label2id };
  if (raw.num_labels !== undefined) out.num_labels = numLabels;
  return out;
}
