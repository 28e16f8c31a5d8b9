/**
 * The configuration of the Llama family (`llama`, `qwen2`, `mistral`): transformers' field
 * names read from `config.json`, the sizes every checkpoint states checked as required, the
 * rest filled with transformers' defaults, and the family differences (Qwen2's q/k/v biases,
 * Mistral's sliding window) made explicit.
 *
 * @module
 */

/** The `model_type`s this folder builds. */
export type LlamaFamily = "llama" | "qwen2" | "mistral";

/** `rope_scaling` of a config (`rope_type` or the older `type`). */
export interface RopeScaling {
  /** `default`, `linear` or `llama3`. */
  rope_type: "default" | "linear" | "llama3";
  /** Stretch of the context (linear, llama3). */
  factor: number;
  /** llama3: wavelengths above original_max_position_embeddings / low_freq_factor are scaled. */
  low_freq_factor?: number;
  /** llama3: wavelengths below original_max_position_embeddings / high_freq_factor are kept. */
  high_freq_factor?: number;
  /** llama3: the context length the model was pre-trained with. */
  original_max_position_embeddings?: number;
}

/** A checked Llama-family config with transformers' field names. */
export interface LlamaConfig {
  /** `llama`, `qwen2` or `mistral`. */
  model_type: LlamaFamily;
  /** Vocabulary size (rows of `embed_tokens`). */
  vocab_size: number;
  /** Width of the hidden states. */
  hidden_size: number;
  /** Width of the SwiGLU MLP. */
  intermediate_size: number;
  /** Number of decoder layers. */
  num_hidden_layers: number;
  /** Query heads. */
  num_attention_heads: number;
  /** Key/value heads (grouped-query attention; equal to the query heads when absent). */
  num_key_value_heads: number;
  /** Width of one head (default hidden_size / num_attention_heads). */
  head_dim: number;
  /** The MLP's gate activation: `silu`. */
  hidden_act: "silu";
  /** Longest context the model was trained for. */
  max_position_embeddings: number;
  /** Standard deviation of the initial weights. */
  initializer_range: number;
  /** RMSNorm epsilon. */
  rms_norm_eps: number;
  /** Share `lm_head` with `embed_tokens`. */
  tie_word_embeddings: boolean;
  /** RoPE base. */
  rope_theta: number;
  /** RoPE frequency scaling, or null. */
  rope_scaling: RopeScaling | null;
  /** Biases on q_proj, k_proj, v_proj (Qwen2: always; Llama: `attention_bias`). */
  qkv_bias: boolean;
  /** Bias on o_proj (Llama: `attention_bias`). */
  o_bias: boolean;
  /** Biases in the MLP (Llama's `mlp_bias`). */
  mlp_bias_in_effect: boolean;
  /** Dropout on the attention probabilities (training only). */
  attention_dropout: number;
  /** Sliding-window attention span in effect, or null (Mistral; Qwen2 with `use_sliding_window`). */
  sliding_window_span: number | null;
  /** Beginning-of-text token id. */
  bos_token_id: number | null;
  /** End-of-text token id, or several (generation stops on the first). */
  eos_token_id: number | number[] | null;
  /** Padding token id. */
  pad_token_id: number | null;
  /** Every other field of the file, kept so saving writes it back. */
  [extra: string]: unknown;
}

const REQUIRED: [string, string][] = [
  ["vocab_size", "the vocabulary size"],
  ["hidden_size", "the width of the hidden states"],
  ["intermediate_size", "the width of the MLP"],
  ["num_hidden_layers", "the number of decoder layers"],
  ["num_attention_heads", "the number of query heads"],
];

function fail(family: string, field: string, value: unknown, want: string): never {
  throw new Error(`${family} config: ${field} must be ${want}, got ${JSON.stringify(value)}`);
}

function positiveInt(family: string, raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (!Number.isInteger(v) || (v as number) <= 0) fail(family, field, v, "a positive integer");
  return v as number;
}

function positiveNumber(family: string, raw: Record<string, unknown>, field: string): number {
  const v = raw[field];
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    fail(family, field, v, "a number > 0");
  }
  return v;
}

function checkTokenId(family: string, raw: Record<string, unknown>, field: string): void {
  const v = raw[field] ?? null;
  raw[field] = v;
  if (v === null) return;
  const ids = Array.isArray(v) ? v : [v];
  if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
    fail(family, field, v, "a token id, a list of them, or null");
  }
}

/** The first id of a config's token-id field (a number or a list), or null. */
export function firstTokenId(value: number | number[] | null | undefined): number | null {
  return Array.isArray(value) ? value[0] ?? null : value ?? null;
}

function ropeScaling(family: string, value: unknown): RopeScaling | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    fail(family, "rope_scaling", value, "an object or null");
  }
  const r = value as Record<string, unknown>;
  const type = r.rope_type ?? r.type ?? "default";
  if (type !== "default" && type !== "linear" && type !== "llama3") {
    fail(
      family,
      "rope_scaling.rope_type",
      type,
      `"default", "linear" or "llama3" (other RoPE scalings are not supported)`,
    );
  }
  const factor = r.factor ?? 1;
  if (typeof factor !== "number" || !(factor > 0)) {
    fail(family, "rope_scaling.factor", factor, "a number > 0");
  }
  const out: RopeScaling = { rope_type: type, factor };
  if (type === "llama3") {
    for (
      const f of ["low_freq_factor", "high_freq_factor", "original_max_position_embeddings"]
    ) {
      const v = r[f];
      if (typeof v !== "number" || !(v > 0)) {
        fail(family, `rope_scaling.${f}`, v, "a number > 0 (llama3 scaling needs it)");
      }
      (out as unknown as Record<string, number>)[f] = v;
    }
    if (!(out.high_freq_factor! > out.low_freq_factor!)) {
      fail(family, "rope_scaling.high_freq_factor", r.high_freq_factor, "> low_freq_factor");
    }
  }
  return out;
}

/**
 * A checked Llama-family config from a parsed `config.json`. The sizes (`vocab_size`,
 * `hidden_size`, `intermediate_size`, `num_hidden_layers`, `num_attention_heads`) are required;
 * a missing one is named. Other fields take transformers' defaults.
 *
 * @param json The parsed config (`model_type` "llama", "qwen2" or "mistral"; default "llama").
 */
export function llamaConfig(json: Record<string, unknown>): LlamaConfig {
  const type = json.model_type ?? "llama";
  if (type !== "llama" && type !== "qwen2" && type !== "mistral") {
    throw new Error(
      `Llama config: model_type is ${JSON.stringify(type)}; this folder builds "llama", "qwen2" ` +
        `and "mistral"`,
    );
  }
  const family = type === "llama" ? "Llama" : type === "qwen2" ? "Qwen2" : "Mistral";
  for (const [field, what] of REQUIRED) {
    if (json[field] === undefined || json[field] === null) {
      throw new Error(
        `${family} config: config.json has no "${field}" (${what}); a ${type} model needs it`,
      );
    }
  }
  const raw: Record<string, unknown> = {
    max_position_embeddings: type === "mistral" ? 32768 : 2048,
    initializer_range: 0.02,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
    rope_theta: 10000,
    rope_scaling: null,
    hidden_act: "silu",
    attention_dropout: 0,
    ...json,
    model_type: type,
  };
  for (const [field] of REQUIRED) positiveInt(family, raw, field);
  raw.num_key_value_heads ??= raw.num_attention_heads;
  positiveInt(family, raw, "num_key_value_heads");
  const heads = raw.num_attention_heads as number, kv = raw.num_key_value_heads as number;
  if (heads % kv !== 0) {
    throw new Error(
      `${family} config: num_attention_heads (${heads}) must be a multiple of ` +
        `num_key_value_heads (${kv})`,
    );
  }
  if (raw.head_dim === undefined || raw.head_dim === null) {
    const hidden = raw.hidden_size as number;
    if (hidden % heads !== 0) {
      throw new Error(
        `${family} config: hidden_size (${hidden}) must be divisible by num_attention_heads ` +
          `(${heads}) when head_dim is not given`,
      );
    }
    raw.head_dim = hidden / heads;
  }
  positiveInt(family, raw, "head_dim");
  if ((raw.head_dim as number) % 2 !== 0) fail(family, "head_dim", raw.head_dim, "even (RoPE)");
  positiveInt(family, raw, "max_position_embeddings");
  positiveNumber(family, raw, "rms_norm_eps");
  positiveNumber(family, raw, "rope_theta");
  if (typeof raw.initializer_range !== "number" || !(raw.initializer_range >= 0)) {
    fail(family, "initializer_range", raw.initializer_range, "a number >= 0");
  }
  if (raw.hidden_act !== "silu") {
    fail(family, "hidden_act", raw.hidden_act, `"silu" (the SwiGLU gate)`);
  }
  const p = raw.attention_dropout;
  if (typeof p !== "number" || !(p >= 0 && p < 1)) {
    fail(family, "attention_dropout", p, "a number in [0, 1)");
  }
  raw.rope_scaling = ropeScaling(family, raw.rope_scaling);
  for (const f of ["tie_word_embeddings"]) {
    if (typeof raw[f] !== "boolean") fail(family, f, raw[f], "true or false");
  }
  const attentionBias = raw.attention_bias ?? false;
  const mlpBias = raw.mlp_bias ?? false;
  if (typeof attentionBias !== "boolean") {
    fail(family, "attention_bias", attentionBias, "a boolean");
  }
  if (typeof mlpBias !== "boolean") fail(family, "mlp_bias", mlpBias, "a boolean");
  raw.qkv_bias = type === "qwen2" ? true : type === "llama" && attentionBias;
  raw.o_bias = type === "llama" && attentionBias;
  raw.mlp_bias_in_effect = type === "llama" && mlpBias;
  const window = type === "mistral"
    ? raw.sliding_window ?? null
    : type === "qwen2" && raw.use_sliding_window === true
    ? raw.sliding_window ?? null
    : null;
  if (window !== null && (!Number.isInteger(window) || (window as number) <= 0)) {
    fail(family, "sliding_window", window, "a positive integer or null");
  }
  raw.sliding_window_span = window;
  for (const f of ["bos_token_id", "eos_token_id", "pad_token_id"]) checkTokenId(family, raw, f);
  return raw as LlamaConfig;
}

/** The derived fields `llamaConfig` adds, left out when the config is written back. */
const DERIVED = ["qkv_bias", "o_bias", "mlp_bias_in_effect", "sliding_window_span"];

/**
 * The config as `config.json` contents transformers loads: the file's fields with defaults
 * filled, the derived flags left out, `architectures` set.
 *
 * @param config The config.
 * @param architecture The Python class to record.
 */
export function llamaConfigJson(
  config: LlamaConfig,
  architecture: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config, architectures: [architecture] };
  for (const f of DERIVED) delete out[f];
  return out;
}
