/**
 * The checkpoints the tutorials' full presets name, as random-weight copies of the real ones:
 * each repo's real `config.json` (the values the Hub's file holds), its tensors under the names
 * and shapes the Hub's file uses (GPT-2's bare names and causal-mask buffers, gpt2-imdb's
 * `transformer.` prefix, DistilBERT's masked-LM head that a classifier load must drop, RoBERTa's
 * `position_ids` buffer, T5's untied LM head, OPT-350m's 512-wide embeddings with
 * `project_in`/`project_out` and post-LN blocks, SmolLM2's bf16 tied Llama), in the stored dtype
 * of the Hub's file where that matters (OPT-350m f16, SmolLM2 bf16), and a tokenizer of the real
 * vocabulary size and special tokens (`tokenizers.ts`).
 *
 * Where the Hub ships only `pytorch_model.bin` (gpt2-imdb, opt-350m) the copy is written as
 * `model.safetensors` with the same names.
 *
 * @module
 */

import { GO_EMOTIONS_LABELS } from "../../data/mod.ts";
import type { RepoFile } from "./hub_cache.ts";
import { safetensorsFile, type TensorSpec } from "./safetensors_stream.ts";
import {
  bertCasedTokenizerFiles,
  gpt2TokenizerFiles,
  optTokenizerFiles,
  robertaTokenizerFiles,
  smolLmTokenizerFiles,
  t5TokenizerFiles,
} from "./tokenizers.ts";

/** A checkpoint repo: its id, files, and the weights it holds (for the report). */
export interface CheckpointRepo {
  /** Hub id. */
  id: string;
  /** What it is, in a few words. */
  describe: string;
  /** Files by repo path. */
  files: Record<string, RepoFile>;
  /** Tensors written (name, shape). */
  tensors: TensorSpec[];
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

function gpt2Tensors(prefix: string, layers: number, width: number, positions: number) {
  const t: TensorSpec[] = [
    { name: `${prefix}wte.weight`, shape: [50257, width] },
    { name: `${prefix}wpe.weight`, shape: [positions, width] },
  ];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}h.${i}.`;
    t.push(
      { name: `${p}ln_1.weight`, shape: [width] },
      { name: `${p}ln_1.bias`, shape: [width] },
      { name: `${p}attn.bias`, shape: [1, 1, positions, positions] },
      { name: `${p}attn.c_attn.weight`, shape: [width, 3 * width] },
      { name: `${p}attn.c_attn.bias`, shape: [3 * width] },
      { name: `${p}attn.c_proj.weight`, shape: [width, width] },
      { name: `${p}attn.c_proj.bias`, shape: [width] },
      { name: `${p}ln_2.weight`, shape: [width] },
      { name: `${p}ln_2.bias`, shape: [width] },
      { name: `${p}mlp.c_fc.weight`, shape: [width, 4 * width] },
      { name: `${p}mlp.c_fc.bias`, shape: [4 * width] },
      { name: `${p}mlp.c_proj.weight`, shape: [4 * width, width] },
      { name: `${p}mlp.c_proj.bias`, shape: [width] },
    );
  }
  t.push({ name: `${prefix}ln_f.weight`, shape: [width] }, {
    name: `${prefix}ln_f.bias`,
    shape: [width],
  });
  return t;
}

/** GPT-2 124M's `config.json` as `openai-community/gpt2` ships it. */
export const GPT2_CONFIG = {
  activation_function: "gelu_new",
  architectures: ["GPT2LMHeadModel"],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: "gpt2",
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: "cls_index",
  summary_use_proj: true,
  task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

/** GPT-2's sizes (the real ones by default; a test writes a tiny one the same way). */
export interface Gpt2Shape {
  /** Blocks. */
  layers: number;
  /** Hidden width. */
  width: number;
  /** Attention heads. */
  heads: number;
  /** Positions. */
  positions: number;
}

const GPT2_SMALL: Gpt2Shape = { layers: 12, width: 768, heads: 12, positions: 1024 };

/**
 * GPT-2 small as `gpt2` / `openai-community/gpt2` ships it: bare tensor names (no
 * `transformer.`), the causal-mask buffers, `tokenizer.json` beside the legacy files.
 *
 * @param id The Hub id to file it under.
 * @param shape Sizes (default GPT-2 small's; the vocabulary is always GPT-2's 50,257).
 */
export function gpt2Repo(id: string, shape: Gpt2Shape = GPT2_SMALL): CheckpointRepo {
  const { layers, width, heads, positions } = shape;
  const tensors = gpt2Tensors("", layers, width, positions);
  const small = shape === GPT2_SMALL;
  return {
    id,
    describe: small ? "GPT-2 124M (bare names, f32)" : `GPT-2 ${layers}x${width} (bare names, f32)`,
    tensors,
    files: {
      "config.json": json({
        ...GPT2_CONFIG,
        n_layer: layers,
        n_embd: width,
        n_head: heads,
        n_ctx: positions,
        n_positions: positions,
      }),
      "generation_config.json": json({ bos_token_id: 50256, eos_token_id: 50256 }),
      ...gpt2TokenizerFiles({ tokenizerJson: true, config: { model_max_length: positions } }),
      "model.safetensors": safetensorsFile(tensors, "F32"),
    },
  };
}

/**
 * `lvwerra/gpt2-imdb`: GPT-2 small fine-tuned on IMDB, saved by `GPT2LMHeadModel` (names under
 * `transformer.`, an `lm_head.weight`, both mask buffers), with only the legacy tokenizer files.
 */
export function gpt2ImdbRepo(): CheckpointRepo {
  const tensors = gpt2Tensors("transformer.", 12, 768, 1024);
  for (let i = 0; i < 12; i++) {
    tensors.push({ name: `transformer.h.${i}.attn.masked_bias`, shape: [] });
  }
  tensors.push({ name: "lm_head.weight", shape: [50257, 768] });
  return {
    id: "lvwerra/gpt2-imdb",
    describe: "GPT-2 124M as GPT2LMHeadModel saved it (transformer. names, f32)",
    tensors,
    files: {
      "config.json": json({ ...GPT2_CONFIG, _name_or_path: "gpt2" }),
      ...gpt2TokenizerFiles({ tokenizerJson: false, config: { model_max_length: 1024 } }),
      "model.safetensors": safetensorsFile(tensors, "F32"),
    },
  };
}

/** `distilbert-base-cased`: the masked-LM checkpoint a reward model starts from. */
export function distilbertCasedRepo(): CheckpointRepo {
  const d = 768;
  const tensors: TensorSpec[] = [
    { name: "distilbert.embeddings.word_embeddings.weight", shape: [28996, d] },
    { name: "distilbert.embeddings.position_embeddings.weight", shape: [512, d] },
    { name: "distilbert.embeddings.LayerNorm.weight", shape: [d] },
    { name: "distilbert.embeddings.LayerNorm.bias", shape: [d] },
  ];
  for (let i = 0; i < 6; i++) {
    const p = `distilbert.transformer.layer.${i}.`;
    for (const lin of ["q_lin", "k_lin", "v_lin", "out_lin"]) {
      tensors.push({ name: `${p}attention.${lin}.weight`, shape: [d, d] }, {
        name: `${p}attention.${lin}.bias`,
        shape: [d],
      });
    }
    tensors.push(
      { name: `${p}sa_layer_norm.weight`, shape: [d] },
      { name: `${p}sa_layer_norm.bias`, shape: [d] },
      { name: `${p}ffn.lin1.weight`, shape: [3072, d] },
      { name: `${p}ffn.lin1.bias`, shape: [3072] },
      { name: `${p}ffn.lin2.weight`, shape: [d, 3072] },
      { name: `${p}ffn.lin2.bias`, shape: [d] },
      { name: `${p}output_layer_norm.weight`, shape: [d] },
      { name: `${p}output_layer_norm.bias`, shape: [d] },
    );
  }
  tensors.push(
    { name: "vocab_transform.weight", shape: [d, d] },
    { name: "vocab_transform.bias", shape: [d] },
    { name: "vocab_layer_norm.weight", shape: [d] },
    { name: "vocab_layer_norm.bias", shape: [d] },
    { name: "vocab_projector.bias", shape: [28996] },
  );
  return {
    id: "distilbert-base-cased",
    describe: "DistilBERT-base cased 66M (DistilBertForMaskedLM, f32)",
    tensors,
    files: {
      "config.json": json({
        activation: "gelu",
        architectures: ["DistilBertForMaskedLM"],
        attention_dropout: 0.1,
        dim: 768,
        dropout: 0.1,
        hidden_dim: 3072,
        initializer_range: 0.02,
        max_position_embeddings: 512,
        model_type: "distilbert",
        n_heads: 12,
        n_layers: 6,
        output_past: true,
        pad_token_id: 0,
        qa_dropout: 0.1,
        seq_classif_dropout: 0.2,
        sinusoidal_pos_embds: false,
        tie_weights_: true,
        vocab_size: 28996,
      }),
      ...bertCasedTokenizerFiles(),
      "model.safetensors": safetensorsFile(tensors, "F32"),
    },
  };
}

/** `SamLowe/roberta-base-go_emotions`: RoBERTa-base with go_emotions' 28-label head. */
export function robertaGoEmotionsRepo(): CheckpointRepo {
  const d = 768;
  const tensors: TensorSpec[] = [
    { name: "roberta.embeddings.position_ids", shape: [1, 514], dtype: "I64" },
    { name: "roberta.embeddings.word_embeddings.weight", shape: [50265, d] },
    { name: "roberta.embeddings.position_embeddings.weight", shape: [514, d] },
    { name: "roberta.embeddings.token_type_embeddings.weight", shape: [1, d] },
    { name: "roberta.embeddings.LayerNorm.weight", shape: [d] },
    { name: "roberta.embeddings.LayerNorm.bias", shape: [d] },
  ];
  for (let i = 0; i < 12; i++) {
    const p = `roberta.encoder.layer.${i}.`;
    for (const lin of ["self.query", "self.key", "self.value", "output.dense"]) {
      tensors.push({ name: `${p}attention.${lin}.weight`, shape: [d, d] }, {
        name: `${p}attention.${lin}.bias`,
        shape: [d],
      });
    }
    tensors.push(
      { name: `${p}attention.output.LayerNorm.weight`, shape: [d] },
      { name: `${p}attention.output.LayerNorm.bias`, shape: [d] },
      { name: `${p}intermediate.dense.weight`, shape: [3072, d] },
      { name: `${p}intermediate.dense.bias`, shape: [3072] },
      { name: `${p}output.dense.weight`, shape: [d, 3072] },
      { name: `${p}output.dense.bias`, shape: [d] },
      { name: `${p}output.LayerNorm.weight`, shape: [d] },
      { name: `${p}output.LayerNorm.bias`, shape: [d] },
    );
  }
  tensors.push(
    { name: "classifier.dense.weight", shape: [d, d] },
    { name: "classifier.dense.bias", shape: [d] },
    { name: "classifier.out_proj.weight", shape: [28, d] },
    { name: "classifier.out_proj.bias", shape: [28] },
  );
  const id2label = Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [l, i]));
  return {
    id: "SamLowe/roberta-base-go_emotions",
    describe: "RoBERTa-base 125M, 28 go_emotions labels (f32, position_ids buffer)",
    tensors,
    files: {
      "config.json": json({
        _name_or_path: "roberta-base",
        architectures: ["RobertaForSequenceClassification"],
        attention_probs_dropout_prob: 0.1,
        bos_token_id: 0,
        classifier_dropout: null,
        eos_token_id: 2,
        hidden_act: "gelu",
        hidden_dropout_prob: 0.1,
        hidden_size: 768,
        id2label,
        initializer_range: 0.02,
        intermediate_size: 3072,
        label2id,
        layer_norm_eps: 1e-5,
        max_position_embeddings: 514,
        model_type: "roberta",
        num_attention_heads: 12,
        num_hidden_layers: 12,
        pad_token_id: 1,
        position_embedding_type: "absolute",
        problem_type: "multi_label_classification",
        torch_dtype: "float32",
        type_vocab_size: 1,
        use_cache: true,
        vocab_size: 50265,
      }),
      ...robertaTokenizerFiles(),
      "model.safetensors": safetensorsFile(tensors, "F32"),
    },
  };
}

/** `google/flan-t5-small`: T5 v1.1 small (gated GELU, untied LM head). */
export function flanT5SmallRepo(): CheckpointRepo {
  const [d, inner, ff, layers, heads] = [512, 384, 1024, 8, 6];
  const tensors: TensorSpec[] = [{ name: "shared.weight", shape: [32128, d] }];
  const attention = (p: string, kind: string, relative: boolean) => {
    for (const m of ["q", "k", "v"]) {
      tensors.push({ name: `${p}${kind}.${m}.weight`, shape: [inner, d] });
    }
    tensors.push({ name: `${p}${kind}.o.weight`, shape: [d, inner] });
    if (relative) {
      tensors.push({ name: `${p}${kind}.relative_attention_bias.weight`, shape: [32, heads] });
    }
    tensors.push({ name: `${p}layer_norm.weight`, shape: [d] });
  };
  const feedForward = (p: string) => {
    tensors.push(
      { name: `${p}DenseReluDense.wi_0.weight`, shape: [ff, d] },
      { name: `${p}DenseReluDense.wi_1.weight`, shape: [ff, d] },
      { name: `${p}DenseReluDense.wo.weight`, shape: [d, ff] },
      { name: `${p}layer_norm.weight`, shape: [d] },
    );
  };
  for (let i = 0; i < layers; i++) {
    attention(`encoder.block.${i}.layer.0.`, "SelfAttention", i === 0);
    feedForward(`encoder.block.${i}.layer.1.`);
  }
  tensors.push({ name: "encoder.final_layer_norm.weight", shape: [d] });
  for (let i = 0; i < layers; i++) {
    attention(`decoder.block.${i}.layer.0.`, "SelfAttention", i === 0);
    attention(`decoder.block.${i}.layer.1.`, "EncDecAttention", false);
    feedForward(`decoder.block.${i}.layer.2.`);
  }
  tensors.push({ name: "decoder.final_layer_norm.weight", shape: [d] }, {
    name: "lm_head.weight",
    shape: [32128, d],
  });
  return {
    id: "google/flan-t5-small",
    describe: "flan-T5-small 77M (gated GELU, untied head, f32)",
    tensors,
    files: {
      "config.json": json({
        architectures: ["T5ForConditionalGeneration"],
        d_ff: ff,
        d_kv: 64,
        d_model: d,
        decoder_start_token_id: 0,
        dense_act_fn: "gelu_new",
        dropout_rate: 0.1,
        eos_token_id: 1,
        feed_forward_proj: "gated-gelu",
        initializer_factor: 1.0,
        is_encoder_decoder: true,
        is_gated_act: true,
        layer_norm_epsilon: 1e-6,
        model_type: "t5",
        n_positions: 512,
        num_decoder_layers: layers,
        num_heads: heads,
        num_layers: layers,
        output_past: true,
        pad_token_id: 0,
        relative_attention_max_distance: 128,
        relative_attention_num_buckets: 32,
        tie_word_embeddings: false,
        torch_dtype: "float32",
        use_cache: true,
        vocab_size: 32128,
      }),
      "generation_config.json": json({
        decoder_start_token_id: 0,
        eos_token_id: 1,
        pad_token_id: 0,
      }),
      ...t5TokenizerFiles(),
      "model.safetensors": safetensorsFile(tensors, "F32"),
    },
  };
}

/** `HuggingFaceTB/SmolLM2-135M`: a 30-layer, 576-wide Llama with grouped-query attention. */
export function smolLm2Repo(): CheckpointRepo {
  const [d, ff, layers, heads, kv] = [576, 1536, 30, 9, 3];
  const head = d / heads;
  const tensors: TensorSpec[] = [{ name: "model.embed_tokens.weight", shape: [49152, d] }];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    tensors.push(
      { name: `${p}self_attn.q_proj.weight`, shape: [heads * head, d] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv * head, d] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv * head, d] },
      { name: `${p}self_attn.o_proj.weight`, shape: [d, heads * head] },
      { name: `${p}mlp.gate_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.up_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.down_proj.weight`, shape: [d, ff] },
      { name: `${p}input_layernorm.weight`, shape: [d] },
      { name: `${p}post_attention_layernorm.weight`, shape: [d] },
    );
  }
  tensors.push({ name: "model.norm.weight", shape: [d] });
  return {
    id: "HuggingFaceTB/SmolLM2-135M",
    describe: "SmolLM2-135M-shaped Llama (GQA 9/3, tied, bf16)",
    tensors,
    files: {
      "config.json": json({
        architectures: ["LlamaForCausalLM"],
        attention_bias: false,
        attention_dropout: 0.0,
        bos_token_id: 0,
        eos_token_id: 0,
        hidden_act: "silu",
        hidden_size: d,
        initializer_range: 0.041666666666666664,
        intermediate_size: ff,
        is_llama_config: true,
        max_position_embeddings: 8192,
        model_type: "llama",
        num_attention_heads: heads,
        num_hidden_layers: layers,
        num_key_value_heads: kv,
        pretraining_tp: 1,
        rms_norm_eps: 1e-5,
        rope_interleaved: false,
        rope_scaling: null,
        rope_theta: 100000,
        tie_word_embeddings: true,
        torch_dtype: "bfloat16",
        use_cache: true,
        vocab_size: 49152,
      }),
      "generation_config.json": json({ bos_token_id: 0, eos_token_id: 0 }),
      ...smolLmTokenizerFiles(),
      "model.safetensors": safetensorsFile(tensors, "BF16"),
    },
  };
}

/** `facebook/opt-350m`: post-LN OPT with 512-wide embeddings projected to 1024, stored f16. */
export function opt350mRepo(): CheckpointRepo {
  const [d, e, ff, layers] = [1024, 512, 4096, 24];
  const tensors: TensorSpec[] = [
    { name: "model.decoder.embed_tokens.weight", shape: [50272, e] },
    { name: "model.decoder.embed_positions.weight", shape: [2050, d] },
    { name: "model.decoder.project_out.weight", shape: [e, d] },
    { name: "model.decoder.project_in.weight", shape: [d, e] },
  ];
  for (let i = 0; i < layers; i++) {
    const p = `model.decoder.layers.${i}.`;
    for (const proj of ["k_proj", "v_proj", "q_proj", "out_proj"]) {
      tensors.push({ name: `${p}self_attn.${proj}.weight`, shape: [d, d] }, {
        name: `${p}self_attn.${proj}.bias`,
        shape: [d],
      });
    }
    tensors.push(
      { name: `${p}self_attn_layer_norm.weight`, shape: [d] },
      { name: `${p}self_attn_layer_norm.bias`, shape: [d] },
      { name: `${p}fc1.weight`, shape: [ff, d] },
      { name: `${p}fc1.bias`, shape: [ff] },
      { name: `${p}fc2.weight`, shape: [d, ff] },
      { name: `${p}fc2.bias`, shape: [d] },
      { name: `${p}final_layer_norm.weight`, shape: [d] },
      { name: `${p}final_layer_norm.bias`, shape: [d] },
    );
  }
  return {
    id: "facebook/opt-350m",
    describe: "OPT-350m 331M (post-LN, 512→1024 projections, f16)",
    tensors,
    files: {
      "config.json": json({
        _name_or_path: "facebook/opt-350m",
        activation_dropout: 0.0,
        activation_function: "relu",
        architectures: ["OPTForCausalLM"],
        attention_dropout: 0.0,
        bos_token_id: 2,
        do_layer_norm_before: false,
        dropout: 0.1,
        eos_token_id: 2,
        ffn_dim: ff,
        hidden_size: d,
        init_std: 0.02,
        layerdrop: 0.0,
        max_position_embeddings: 2048,
        model_type: "opt",
        num_attention_heads: 16,
        num_hidden_layers: layers,
        pad_token_id: 1,
        prefix: "</s>",
        torch_dtype: "float16",
        use_cache: true,
        vocab_size: 50272,
        word_embed_proj_dim: e,
      }),
      "generation_config.json": json({ bos_token_id: 2, eos_token_id: 2, pad_token_id: 1 }),
      ...optTokenizerFiles(),
      "model.safetensors": safetensorsFile(tensors, "F16"),
    },
  };
}

/** Every checkpoint this smoke run can fill, by Hub id. */
export const CHECKPOINTS: Readonly<Record<string, () => CheckpointRepo>> = {
  "gpt2": () => gpt2Repo("gpt2"),
  "openai-community/gpt2": () => gpt2Repo("openai-community/gpt2"),
  "lvwerra/gpt2-imdb": gpt2ImdbRepo,
  "distilbert-base-cased": distilbertCasedRepo,
  "SamLowe/roberta-base-go_emotions": robertaGoEmotionsRepo,
  "google/flan-t5-small": flanT5SmallRepo,
  "HuggingFaceTB/SmolLM2-135M": smolLm2Repo,
  "facebook/opt-350m": opt350mRepo,
};
