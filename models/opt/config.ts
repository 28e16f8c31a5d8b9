/**
 * OPT's configuration: transformers' `OPTConfig` fields read from `config.json`, the sizes every
 * checkpoint states checked as required, the rest filled with transformers' defaults.
 *
 * @module
 */

/** The activations OPT configs name (`activation_function`). */
export type OptActivation = "relu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh";

const ACTIVATIONS: readonly OptActivation[] = ["relu", "gelu", "gelu_new", "gelu_pytorch_tanh"];

/** A checked OPT config with transformers' field names. */
export interface OPTConfig {
  /** Always `opt`. */
  model_type: "opt";
  /** Vocabulary size. */
  vocab_size: number;
  /** Width of the decoder's hidden states. */
  hidden_size: number;
  /** Width of the token embeddings and the LM head (`project_in`/`project_out` bridge it). */
  word_embed_proj_dim: number;
  /** Number of decoder layers. */
  num_hidden_layers: number;
  /** Width of the MLP. */
  ffn_dim: number;
  /** Attention heads (divide `hidden_size`). */
  num_attention_heads: number;
  /** Longest sequence; the position table has 2 more rows (OPT's offset). */
  max_position_embeddings: number;
  /** Pre-LN (true: 125m, 1.3b, ...) or post-LN (false: 350m). */
  do_layer_norm_before: boolean;
  /** Drop the decoder's final layer norm (checkpoints fine-tuned before transformers 4.20.1). */
  _remove_final_layer_norm: boolean;
  /** Activation of the MLP. */
  activation_function: OptActivation;
  /** Dropout after attention and after the MLP (training only). */
  dropout: number;
  /** Dropout on the attention probabilities (training only). */
  attention_dropout: number;
  /** Biases on every projection. */
  enable_bias: boolean;
  /** Standard deviation of the initial weights. */
  init_std: number;
  /** Share `lm_head` with `embed_tokens` (default true). */
  tie_word_embeddings: boolean;
  /** Beginning-of-text token id. */
  bos_token_id: number | null;
  /** End-of-text token id. */
  eos_token_id: number | null;
  /** Padding token id. */
  pad_token_id: number | null;
  /** Every other field of the file, kept so saving writes it back. */
  [extra: string]: unknown;
}

const REQUIRED: [string, string][] = [
  ["vocab_size", "the vocabulary size"],
  ["hidden_size", "the width of the hidden states"],
  ["num_hidden_layers", "the number of decoder layers"],
  ["ffn_dim", "the width of the MLP"],
  ["num_attention_heads", "the number of attention heads"],
];

function fail(field: string, value: unknown, want: string): never {
  throw new Error(`OPT config: ${field} must be ${want}, got ${JSON.stringify(value)}`);
}

function positiveInt(raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(field, v, "a positive integer");
  return v as number;
}

function tokenId(raw: Record<string, unknown>, field: string): void {
  const v = raw[field] ?? null;
  raw[field] = v;
  if (v !== null && !(Number.isInteger(v) && (v as number) >= 0)) {
    fail(field, v, "a token id or null");
  }
}

/**
 * A checked OPT config from a parsed `config.json`. The sizes (`vocab_size`, `hidden_size`,
 * `num_hidden_layers`, `ffn_dim`, `num_attention_heads`) are required; a missing one is named.
 *
 * @param json The parsed config.
 */
export function optConfig(json: Record<string, unknown>): OPTConfig {
  const type = json.model_type ?? "opt";
  if (type !== "opt") {
    throw new Error(`OPT config: model_type is ${JSON.stringify(type)}; only "opt" loads here`);
  }
  for (const [field, what] of REQUIRED) {
    if (json[field] === undefined || json[field] === null) {
      throw new Error(`OPT config: config.json has no "${field}" (${what}); an opt model needs it`);
    }
  }
  const raw: Record<string, unknown> = {
    max_position_embeddings: 2048,
    do_layer_norm_before: true,
    _remove_final_layer_norm: false,
    activation_function: "relu",
    dropout: 0.1,
    attention_dropout: 0,
    enable_bias: true,
    init_std: 0.02,
    layerdrop: 0,
    layer_norm_elementwise_affine: true,
    tie_word_embeddings: true,
    ...json,
    model_type: "opt",
  };
  for (const [field] of REQUIRED) positiveInt(raw, field);
  raw.word_embed_proj_dim ??= raw.hidden_size;
  positiveInt(raw, "word_embed_proj_dim");
  positiveInt(raw, "max_position_embeddings");
  const d = raw.hidden_size as number, h = raw.num_attention_heads as number;
  if (d % h !== 0) {
    throw new Error(
      `OPT config: hidden_size (${d}) must be divisible by num_attention_heads (${h})`,
    );
  }
  for (
    const f of [
      "do_layer_norm_before",
      "_remove_final_layer_norm",
      "enable_bias",
      "tie_word_embeddings",
    ]
  ) {
    if (typeof raw[f] !== "boolean") fail(f, raw[f], "true or false");
  }
  if (!ACTIVATIONS.includes(raw.activation_function as OptActivation)) {
    fail("activation_function", raw.activation_function, `one of ${ACTIVATIONS.join(", ")}`);
  }
  for (const f of ["dropout", "attention_dropout"]) {
    const v = raw[f];
    if (typeof v !== "number" || !(v >= 0 && v < 1)) fail(f, v, "a number in [0, 1)");
  }
  if (raw.layerdrop !== 0) fail("layerdrop", raw.layerdrop, "0 (LayerDrop is not supported)");
  if (raw.layer_norm_elementwise_affine !== true) {
    fail(
      "layer_norm_elementwise_affine",
      raw.layer_norm_elementwise_affine,
      "true (layer norms without weights are not supported)",
    );
  }
  if (typeof raw.init_std !== "number" || !(raw.init_std >= 0)) {
    fail("init_std", raw.init_std, "a number >= 0");
  }
  for (const f of ["bos_token_id", "eos_token_id", "pad_token_id"]) tokenId(raw, f);
  return raw as OPTConfig;
}

/**
 * The config as `config.json` contents transformers loads.
 *
 * @param config The config.
 * @param architecture The Python class to record (default `OPTForCausalLM`).
 */
export function optConfigJson(
  config: OPTConfig,
  architecture = "OPTForCausalLM",
): Record<string, unknown> {
  return { ...config, architectures: [architecture] };
}
