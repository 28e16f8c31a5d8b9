/**
 * The tiny emotion classifier's `config.json` and tokenizer documents, on the SYNTHETIC emotion
 * vocabulary (`data/synthetic/emotions.ts`): a RoBERTa-style word-level tokenizer (`<s>` … `</s>`,
 * `<pad>` id 1, as RoBERTa numbers its specials) and a 2-layer RoBERTa with GoEmotions' 28
 * labels, multi-label like `SamLowe/roberta-base-go_emotions`.
 *
 * @module
 */

import { GO_EMOTIONS_LABELS, SYNTHETIC_EMOTION_WORDS } from "../../data/mod.ts";
import { type TokenizerJson, wordLevelTokenizerJson } from "../../models/mod.ts";

/** Longest text the tiny classifier reads, in tokens, `<s>` and `</s>` included. */
export const TINY_EMOTION_MAX_LENGTH = 64;

/** RoBERTa's special tokens, in RoBERTa's id order. */
export const ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"] as const;

/** The tokenizer's vocabulary: the specials, then the grammar's words sorted. */
export function emotionClassifierVocab(): string[] {
  return [...ROBERTA_SPECIALS, ...[...SYNTHETIC_EMOTION_WORDS].sort()];
}

/** `tokenizer.json` and `tokenizer_config.json` of the tiny classifier. */
export function emotionClassifierTokenizerFiles(): {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: Record<string, unknown>;
} {
  const vocab = emotionClassifierVocab();
  const json = wordLevelTokenizerJson(vocab, {
    unkToken: "<unk>",
    specialTokens: [...ROBERTA_SPECIALS],
  });
  json.post_processor = {
    type: "RobertaProcessing",
    sep: ["</s>", vocab.indexOf("</s>")],
    cls: ["<s>", vocab.indexOf("<s>")],
    trim_offsets: true,
    add_prefix_space: false,
  };
  return {
    tokenizerJson: json,
    tokenizerConfig: {
      bos_token: "<s>",
      eos_token: "</s>",
      cls_token: "<s>",
      sep_token: "</s>",
      pad_token: "<pad>",
      unk_token: "<unk>",
      model_max_length: TINY_EMOTION_MAX_LENGTH,
      padding_side: "right",
    },
  };
}

/** The tiny classifier's `config.json` (a `RobertaForSequenceClassification`). */
export function tinyEmotionClassifierConfig(): Record<string, unknown> {
  return {
    model_type: "roberta",
    architectures: ["RobertaForSequenceClassification"],
    vocab_size: emotionClassifierVocab().length,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    // RoBERTa numbers positions from pad_token_id + 1.
    max_position_embeddings: TINY_EMOTION_MAX_LENGTH + 2,
    type_vocab_size: 1,
    initializer_range: 0.02,
    layer_norm_eps: 1e-5,
    bos_token_id: 0,
    pad_token_id: 1,
    eos_token_id: 2,
    position_embedding_type: "absolute",
    classifier_dropout: null,
    problem_type: "multi_label_classification",
    id2label: Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(GO_EMOTIONS_LABELS.map((l, i) => [l, i])),
  };
}
