/**
 * `tokenizer.json` documents for the tiny offline IMDB models, built on the SYNTHETIC review
 * vocabulary (data/synthetic) so that `loadTokenizer(dir)` encodes and decodes synthetic reviews
 * exactly as `SyntheticWordTokenizer` does:
 *
 * - the policy's is GPT-2-like: `<|endoftext|>` is BOS, EOS and (by TRL's convention) padding;
 * - the reward model's is DistilBERT-like: the same words plus `[CLS]` and `[SEP]`, added around
 *   every encoded text, with `<pad>` (id 0) as padding.
 *
 * @module
 */

import { EOS_TOKEN, PAD_TOKEN, SyntheticWordTokenizer, UNK_TOKEN } from "../../data/mod.ts";
import { type TokenizerJson, wordLevelTokenizerJson } from "../../models/mod.ts";

/** Longest text, in tokens, the tiny models take (their position tables' size). */
export const TINY_MAX_LENGTH = 128;

/** Classification token of the tiny reward model's tokenizer. */
export const CLS_TOKEN = "[CLS]";
/** Separator token of the tiny reward model's tokenizer. */
export const SEP_TOKEN = "[SEP]";

const SYNTHETIC_SPECIALS = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN];

/** A tokenizer folder's two documents. */
export interface TokenizerFiles {
  /** The `tokenizer.json` document. */
  tokenizerJson: TokenizerJson;
  /** The `tokenizer_config.json` contents (special tokens, length limit). */
  tokenizerConfig: Record<string, unknown>;
}

/**
 * The policy's tokenizer: the SYNTHETIC vocabulary with the ids `SyntheticWordTokenizer` gives
 * (169 tokens), `<|endoftext|>` as BOS/EOS/pad as in GPT-2.
 */
export function policyTokenizerFiles(): TokenizerFiles {
  const vocab = new SyntheticWordTokenizer().vocab;
  return {
    tokenizerJson: wordLevelTokenizerJson(vocab, {
      unkToken: UNK_TOKEN,
      specialTokens: SYNTHETIC_SPECIALS,
    }),
    tokenizerConfig: {
      bos_token: EOS_TOKEN,
      eos_token: EOS_TOKEN,
      unk_token: UNK_TOKEN,
      model_max_length: TINY_MAX_LENGTH,
      padding_side: "left",
    },
  };
}

/**
 * The reward model's tokenizer: the SYNTHETIC vocabulary (same ids) with `[CLS]` and `[SEP]`
 * appended, wrapped around each text as DistilBERT's tokenizer does.
 */
export function rewardTokenizerFiles(): TokenizerFiles {
  const vocab = [...new SyntheticWordTokenizer().vocab, CLS_TOKEN, SEP_TOKEN];
  const json = wordLevelTokenizerJson(vocab, {
    unkToken: UNK_TOKEN,
    specialTokens: [...SYNTHETIC_SPECIALS, CLS_TOKEN, SEP_TOKEN],
  });
  json.post_processor = {
    type: "BertProcessing",
    sep: [SEP_TOKEN, vocab.indexOf(SEP_TOKEN)],
    cls: [CLS_TOKEN, vocab.indexOf(CLS_TOKEN)],
  };
  return {
    tokenizerJson: json,
    tokenizerConfig: {
      pad_token: PAD_TOKEN,
      unk_token: UNK_TOKEN,
      cls_token: CLS_TOKEN,
      sep_token: SEP_TOKEN,
      model_max_length: TINY_MAX_LENGTH,
      padding_side: "right",
    },
  };
}
