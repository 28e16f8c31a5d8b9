/**
 * GPT-2's configuration: Hugging Face's `GPT2Config` fields, read from `config.json` with their
 * defaults filled in and checked, and written back with every field the file came with.
 *
 * @module
 */

/** The activation functions GPT-2 configs name (`activation_function`). */
export type Gpt2Activation = "gelu_new" | "gelu_pytorch_tanh" | "gelu" | "relu" | "tanh";

const ACTIVATIONS: readonly Gpt2Activation[] = [
  "gelu_new",
  "gelu_pytorch_tanh",
  "gelu",
  "relu",
  "tanh",
];

/** A GPT-2 configuration with Hugging Face's field names and defaults. */
export interface GPT2Config {
  /** Always `"gpt2"`. */
  model_type: "gpt2";
  /** Vocabulary size (rows of `wte`). */
  vocab_size: number;
  /** Longest sequence the position table covers (rows of `wpe`). */
  n_positions: number;
  /** Hidden size. */
  n_embd: number;
  /** Number of transformer blocks. */
  n_layer: number;
  /** Number of attention heads (divides `n_embd`). */
  n_head: number;
  /** Width of the MLP; null means 4 × `n_embd`. */
  n_inner: number | null;
  /** Activation inside the MLP (`gelu_new` is the tanh approximation). */
  activation_function: Gpt2Activation;
  /** Dropout after each residual branch (training only). */
  resid_pdrop: number;
  /** Dropout after the embeddings (training only). */
  embd_pdrop: number;
  /** Dropout on the attention probabilities (training only). */
  attn_pdrop: number;
  /** Layer norm epsilon. */
  layer_norm_epsilon: number;
  /** Standard deviation of the initial weights. */
  initializer_range: number;
  /** Divide attention scores by √head_dim (default true). */
  scale_attn_weights: boolean;
  /** Also divide the scores of block i by i + 1 (default false). */
  scale_attn_by_inverse_layer_idx: boolean;
  /** Share `lm_head` with `wte` (default true). */
  tie_word_embeddings: boolean;
  /** Beginning-of-text token id. */
  bos_token_id: number | null;
  /** End-of-text token id. */
  eos_token_id: number | null;
  /** Padding token id (GPT-2 has none; generation falls back to EOS). */
  pad_token_id: number | null;
  /** Dropout before TRL's value head (`summary_dropout_prob`, default 0.1 as TRL). */
  summary_dropout_prob: number | null;
  /** Number of labels of a sequence-classification (score) head (default 2). */
  num_labels: number;
  /** Every other field of the file, kept so saving writes it back. */
  [extra: string]: unknown;
}

const DEFAULTS = {
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  activation_function: "gelu_new",
  resid_pdrop: 0.1,
  embd_pdrop: 0.1,
  attn_pdrop: 0.1,
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  scale_attn_weights: true,
  scale_attn_by_inverse_layer_idx: false,
  tie_word_embeddings: true,
  bos_token_id: 50256,
  eos_token_id: 50256,
  pad_token_id: null,
  summary_dropout_prob: null,
} as const;

function fail(field: string, value: unknown, want: string): never {
  throw new Error(`GPT2Config: ${field} must be ${want}, got ${JSON.stringify(value)}`);
}

function positiveInt(raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(field, v, "a positive integer");
  return v as number;
}

function probability(raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (typeof v !== "number" || !(v >= 0 && v < 1)) fail(field, v, "a number in [0, 1)");
  return v;
}

function tokenId(raw: Record<string, unknown>, field: string): number | null {
  const v = raw[field];
  if (v === null || v === undefined) return null;
  // Some configs list several EOS ids; GPT-2 generation stops on the first.
  const id = Array.isArray(v) ? v[0] : v;
  if (!Number.isInteger(id) || id < 0) fail(field, v, "a token id (non-negative integer) or null");
  return id;
}

/**
 * A checked GPT-2 config from a parsed `config.json` (or a partial object: missing fields take
 * Hugging Face's defaults). Throws naming the field for a bad value or a non-GPT-2 model type.
 *
 * @param json The parsed config.
 */
export function gpt2Config(json: Record<string, unknown>): GPT2Config {
  const modelType = json.model_type ?? "gpt2";
  if (modelType !== "gpt2") {
    throw new Error(
      `GPT2Config: model_type is ${JSON.stringify(modelType)}; only "gpt2" configs load here`,
    );
  }
  const raw: Record<string, unknown> = { ...DEFAULTS, ...json, model_type: "gpt2" };
  // Older configs name the context length n_ctx only.
  if (json.n_positions === undefined && json.n_ctx !== undefined) raw.n_positions = json.n_ctx;
  for (const f of ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"]) {
    positiveInt(raw, f);
  }
  if ((raw.n_embd as number) % (raw.n_head as number) !== 0) {
    throw new Error(
      `GPT2Config: n_embd (${raw.n_embd}) must be divisible by n_head (${raw.n_head})`,
    );
  }
  if (raw.n_inner !== null) positiveInt(raw, "n_inner");
  if (!ACTIVATIONS.includes(raw.activation_function as Gpt2Activation)) {
    fail("activation_function", raw.activation_function, `one of ${ACTIVATIONS.join(", ")}`);
  }
  for (const f of ["resid_pdrop", "embd_pdrop", "attn_pdrop"]) probability(raw, f);
  if (raw.summary_dropout_prob !== null) probability(raw, "summary_dropout_prob");
  const eps = raw.layer_norm_epsilon;
  if (typeof eps !== "number" || !(eps > 0)) fail("layer_norm_epsilon", eps, "a number > 0");
  if (typeof raw.initializer_range !== "number" || !(raw.initializer_range >= 0)) {
    fail("initializer_range", raw.initializer_range, "a number >= 0");
  }
  for (
    const f of ["scale_attn_weights", "scale_attn_by_inverse_layer_idx", "tie_word_embeddings"]
  ) {
    if (typeof raw[f] !== "boolean") fail(f, raw[f], "true or false");
  }
  raw.bos_token_id = tokenId(raw, "bos_token_id");
  raw.eos_token_id = tokenId(raw, "eos_token_id");
  raw.pad_token_id = tokenId(raw, "pad_token_id");
  const labels = raw.num_labels ??
    (raw.id2label && typeof raw.id2label === "object"
      ? Object.keys(raw.id2label as object).length
      : 2);
  if (!Number.isInteger(labels) || (labels as number) <= 0) {
    fail("num_labels", labels, "a positive integer");
  }
  raw.num_labels = labels;
  return raw as GPT2Config;
}

/** The MLP width: `n_inner`, or 4 × `n_embd` when unset. */
export function innerSize(config: GPT2Config): number {
  return config.n_inner ?? 4 * config.n_embd;
}

/**
 * The config as `config.json` contents Python's transformers loads (`model_type`,
 * `architectures` and every field, defaults included).
 *
 * @param config The config.
 * @param architecture The Python class name to record (default `GPT2LMHeadModel`).
 */
export function gpt2ConfigJson(
  config: GPT2Config,
  architecture = "GPT2LMHeadModel",
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config, architectures: [architecture] };
  if (out.summary_dropout_prob === null) delete out.summary_dropout_prob;
  return out;
}
