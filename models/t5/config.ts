/**
 * T5's configuration: transformers' `T5Config` fields read from `config.json`, checked, with
 * transformers' defaults for the optional ones. The fields that fix the weights' shapes have no
 * default here: a config without them cannot describe a checkpoint, so their absence is an error
 * naming the field.
 *
 * @module
 */

/** The activations a T5 feed-forward block may use (`feed_forward_proj`'s last part). */
export type T5Activation = "relu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "silu" | "swish";

const ACTIVATIONS: readonly T5Activation[] = [
  "relu",
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "silu",
  "swish",
];

/** A T5 configuration with transformers' field names. */
export interface T5Config {
  /** Always `"t5"`. */
  model_type: "t5";
  /** Vocabulary size (rows of `shared`). */
  vocab_size: number;
  /** Width of the hidden states. */
  d_model: number;
  /** Width of one attention head's keys and values. */
  d_kv: number;
  /** Inner width of the feed-forward blocks. */
  d_ff: number;
  /** Encoder blocks. */
  num_layers: number;
  /** Decoder blocks (default: `num_layers`). */
  num_decoder_layers: number;
  /** Attention heads. */
  num_heads: number;
  /** Buckets of the relative position bias (default 32). */
  relative_attention_num_buckets: number;
  /** Offsets at and beyond this share the last bucket (default 128). */
  relative_attention_max_distance: number;
  /** Dropout everywhere in the stacks (training only; default 0.1). */
  dropout_rate: number;
  /** RMS layer norm epsilon (default 1e-6). */
  layer_norm_epsilon: number;
  /** Scale of the initial weights (default 1). */
  initializer_factor: number;
  /** `relu` (T5 1.0), `gated-gelu` (T5 1.1, flan-T5), or `gated-<act>` / `<act>` (default `relu`). */
  feed_forward_proj: string;
  /** The activation `feed_forward_proj` names (`gated-gelu` means `gelu_new`, as transformers). */
  dense_act_fn: T5Activation;
  /** Whether the feed-forward block is gated (`wi_0`, `wi_1`) rather than plain (`wi`). */
  is_gated_act: boolean;
  /** Share `lm_head` with `shared` and scale the decoder output by `d_model ** -0.5` (default true). */
  tie_word_embeddings: boolean;
  /** Padding token id (default 0). */
  pad_token_id: number;
  /** End-of-sequence token id (default 1; null never stops). */
  eos_token_id: number | null;
  /** The first decoder token of every row (T5 checkpoints use 0, the pad token). */
  decoder_start_token_id: number;
  /** Dropout before TRL's value head (`summary_dropout_prob`), when set. */
  summary_dropout_prob: number | null;
  /** Every other field of the file, kept so saving writes it back. */
  [extra: string]: unknown;
}

/** Fields every T5 `config.json` carries; the weights' shapes follow from them. */
export const T5_REQUIRED_FIELDS = [
  "vocab_size",
  "d_model",
  "d_kv",
  "d_ff",
  "num_layers",
  "num_heads",
] as const;

const DEFAULTS = {
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  dropout_rate: 0.1,
  layer_norm_epsilon: 1e-6,
  initializer_factor: 1.0,
  feed_forward_proj: "relu",
  tie_word_embeddings: true,
  pad_token_id: 0,
  eos_token_id: 1,
  summary_dropout_prob: null,
} as const;

function fail(field: string, value: unknown, want: string): never {
  throw new Error(`T5Config: ${field} must be ${want}, got ${JSON.stringify(value)}`);
}

function positiveInt(raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(field, v, "a positive integer");
  return v as number;
}

function tokenId(v: unknown, field: string): number | null {
  if (v === null || v === undefined) return null;
  const id = Array.isArray(v) ? v[0] : v;
  if (!Number.isInteger(id) || id < 0) fail(field, v, "a token id (non-negative integer)");
  return id;
}

/** `feed_forward_proj` → activation and gating, by transformers' rules. */
function feedForward(proj: unknown): { act: T5Activation; gated: boolean } {
  if (typeof proj !== "string") fail("feed_forward_proj", proj, 'a string such as "gated-gelu"');
  const parts = proj.split("-");
  const gated = parts[0] === "gated";
  if ((parts.length > 1 && !gated) || parts.length > 2) {
    fail("feed_forward_proj", proj, `"<act>" or "gated-<act>" (e.g. "relu", "gated-gelu")`);
  }
  // transformers reads "gated-gelu" as the tanh approximation, for T5 1.1 checkpoints.
  const act = proj === "gated-gelu" ? "gelu_new" : parts[parts.length - 1];
  if (!ACTIVATIONS.includes(act as T5Activation)) {
    fail("feed_forward_proj", proj, `built from one of ${ACTIVATIONS.join(", ")}`);
  }
  return { act: act as T5Activation, gated };
}

/**
 * A checked T5 config from a parsed `config.json`. The shape fields (`T5_REQUIRED_FIELDS`) and
 * `decoder_start_token_id` must be present; the rest take transformers' defaults. Throws naming
 * the field for a missing or bad value.
 *
 * @param json The parsed config.
 * @example
 * ```ts
 * import { t5Config } from "@tether/rlhf/models";
 * const c = t5Config({
 *   vocab_size: 100, d_model: 32, d_kv: 8, d_ff: 64, num_layers: 2, num_heads: 4,
 *   feed_forward_proj: "gated-gelu", decoder_start_token_id: 0,
 * });
 * console.log(c.dense_act_fn, c.num_decoder_layers); // "gelu_new" 2
 * ```
 */
export function t5Config(json: Record<string, unknown>): T5Config {
  const modelType = json.model_type ?? "t5";
  if (modelType !== "t5") {
    throw new Error(
      `T5Config: model_type is ${JSON.stringify(modelType)}; only "t5" configs load here`,
    );
  }
  for (const f of T5_REQUIRED_FIELDS) {
    if (json[f] === undefined) {
      throw new Error(
        `T5Config: config.json has no "${f}"; T5 needs ${T5_REQUIRED_FIELDS.join(", ")} ` +
          `to build its weights`,
      );
    }
  }
  const raw: Record<string, unknown> = { ...DEFAULTS, ...json, model_type: "t5" };
  for (const f of T5_REQUIRED_FIELDS) positiveInt(raw, f);
  if (raw.num_decoder_layers === undefined || raw.num_decoder_layers === null) {
    raw.num_decoder_layers = raw.num_layers;
  }
  for (
    const f of [
      "num_decoder_layers",
      "relative_attention_num_buckets",
      "relative_attention_max_distance",
    ]
  ) positiveInt(raw, f);
  if ((raw.relative_attention_num_buckets as number) < 2) {
    fail("relative_attention_num_buckets", raw.relative_attention_num_buckets, "at least 2");
  }
  const rate = raw.dropout_rate;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    fail("dropout_rate", rate, "a number in [0, 1)");
  }
  const eps = raw.layer_norm_epsilon;
  if (typeof eps !== "number" || !(eps > 0)) fail("layer_norm_epsilon", eps, "a number > 0");
  if (typeof raw.initializer_factor !== "number" || !(raw.initializer_factor > 0)) {
    fail("initializer_factor", raw.initializer_factor, "a number > 0");
  }
  if (typeof raw.tie_word_embeddings !== "boolean") {
    fail("tie_word_embeddings", raw.tie_word_embeddings, "true or false");
  }
  const ff = feedForward(raw.feed_forward_proj);
  raw.dense_act_fn = ff.act;
  raw.is_gated_act = ff.gated;
  const pad = tokenId(raw.pad_token_id, "pad_token_id");
  if (pad === null) fail("pad_token_id", raw.pad_token_id, "a token id (T5 pads with 0)");
  raw.pad_token_id = pad;
  raw.eos_token_id = tokenId(raw.eos_token_id, "eos_token_id");
  const start = tokenId(raw.decoder_start_token_id, "decoder_start_token_id");
  if (start === null) {
    throw new Error(
      `T5Config: config.json has no "decoder_start_token_id"; T5 checkpoints start the decoder ` +
        `with the pad token (0): add "decoder_start_token_id": 0`,
    );
  }
  raw.decoder_start_token_id = start;
  for (const f of ["pad_token_id", "eos_token_id", "decoder_start_token_id"]) {
    const id = raw[f];
    if (typeof id === "number" && id >= (raw.vocab_size as number)) {
      fail(f, id, `below vocab_size (${raw.vocab_size})`);
    }
  }
  const summary = raw.summary_dropout_prob;
  if (summary !== null && (typeof summary !== "number" || !(summary >= 0 && summary < 1))) {
    fail("summary_dropout_prob", summary, "a number in [0, 1) or null");
  }
  return raw as T5Config;
}

/**
 * The config as `config.json` contents transformers loads (`model_type`, `architectures`, the
 * derived `dense_act_fn` / `is_gated_act` as transformers writes them, and every other field).
 *
 * @param config The config.
 * @param architecture The Python class recorded (default `T5ForConditionalGeneration`).
 */
export function t5ConfigJson(
  config: T5Config,
  architecture = "T5ForConditionalGeneration",
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...config,
    architectures: [architecture],
    is_encoder_decoder: true,
  };
  if (out.summary_dropout_prob === null) delete out.summary_dropout_prob;
  return out;
}
