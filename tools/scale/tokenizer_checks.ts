/**
 * What each filled tokenizer must do when `loadTokenizer` reads it from the cache: the real
 * vocabulary size, the special tokens the real one puts around a text (GPT-2 none, BERT
 * `[CLS] … [SEP]`, RoBERTa `<s> … </s>`, OPT a leading `</s>`, T5 a trailing `</s>`), and its
 * EOS and padding ids as transformers reports them. A loader that drops one of these (OPT's
 * `add_bos_token` in a legacy-files repo, say) fails here before any example runs.
 *
 * @module
 */

import { loadTokenizer } from "../../models/mod.ts";
import { CHECKPOINTS } from "./checkpoints.ts";

/** The behaviour a checkpoint's tokenizer must show. */
interface TokenizerExpectation {
  /** Tokens in the vocabulary (added tokens included). */
  vocabSize: number;
  /** Ids before the text's own tokens. */
  prefix: number[];
  /** Ids after them. */
  suffix: number[];
  /** EOS id. */
  eos: number;
  /** Padding id (GPT-2 family: EOS, as TRL sets it). */
  pad: number;
}

const GPT2: TokenizerExpectation = {
  vocabSize: 50257,
  prefix: [],
  suffix: [],
  eos: 50256,
  pad: 50256,
};

/** Expectations by Hub id. */
export const TOKENIZER_EXPECTATIONS: Readonly<Record<string, TokenizerExpectation>> = {
  "gpt2": GPT2,
  "openai-community/gpt2": GPT2,
  "lvwerra/gpt2-imdb": GPT2,
  "distilbert-base-cased": { vocabSize: 28996, prefix: [101], suffix: [102], eos: -1, pad: 0 },
  "SamLowe/roberta-base-go_emotions": {
    vocabSize: 50265,
    prefix: [0],
    suffix: [2],
    eos: 2,
    pad: 1,
  },
  "google/flan-t5-small": { vocabSize: 32100, prefix: [], suffix: [1], eos: 1, pad: 0 },
  "HuggingFaceTB/SmolLM2-135M": { vocabSize: 49152, prefix: [], suffix: [], eos: 0, pad: 0 },
  "facebook/opt-350m": { vocabSize: 50265, prefix: [2], suffix: [], eos: 2, pad: 1 },
};

/** One tokenizer's verdict. */
export interface TokenizerCheck {
  /** Hub id. */
  id: string;
  /** Whether it behaves as the real one. */
  ok: boolean;
  /** What was seen. */
  detail: string;
}

const SAMPLE = "The movie was great, I loved it.";

/**
 * Load each model repo's tokenizer from `hubDir` offline and compare it with its expectation.
 *
 * @param hubDir The filled hub cache.
 * @param ids Repos to check (datasets and unknown ids are passed over).
 */
export async function checkTokenizers(
  hubDir: string,
  ids: readonly string[],
): Promise<TokenizerCheck[]> {
  const out: TokenizerCheck[] = [];
  for (const id of ids) {
    if (!Object.hasOwn(CHECKPOINTS, id)) continue;
    const want = TOKENIZER_EXPECTATIONS[id];
    try {
      const t = await loadTokenizer(id, { cacheDir: hubDir, offline: true });
      const ids = t.encode(SAMPLE);
      const bare = ids.slice(want.prefix.length, ids.length - want.suffix.length);
      const problems: string[] = [];
      if (t.vocabSize !== want.vocabSize) {
        problems.push(`vocabulary ${t.vocabSize}, not ${want.vocabSize}`);
      }
      const head = ids.slice(0, want.prefix.length),
        tail = ids.slice(ids.length - want.suffix.length);
      if (JSON.stringify(head) !== JSON.stringify(want.prefix)) {
        problems.push(`starts with [${head}], not [${want.prefix}]`);
      }
      if (want.suffix.length > 0 && JSON.stringify(tail) !== JSON.stringify(want.suffix)) {
        problems.push(`ends with [${tail}], not [${want.suffix}]`);
      }
      if (
        want.suffix.length === 0 && ids.length > 0 &&
        [want.eos, want.pad].includes(ids[ids.length - 1]) && want.eos >= 0
      ) {
        problems.push(`ends with a special token ${ids[ids.length - 1]}`);
      }
      if (want.eos >= 0 && t.eosTokenId !== want.eos) {
        problems.push(`eos ${t.eosTokenId}, not ${want.eos}`);
      }
      if (t.padTokenId !== want.pad) problems.push(`pad ${t.padTokenId}, not ${want.pad}`);
      const roundTrip = t.decode(ids, { skipSpecialTokens: true }).trim();
      if (roundTrip !== SAMPLE) problems.push(`decodes to ${JSON.stringify(roundTrip)}`);
      out.push({
        id,
        ok: problems.length === 0,
        detail: problems.length === 0
          ? `${t.vocabSize} tokens, "${SAMPLE}" → [${
            ids.slice(0, 4)
          }…] ${bare.length} tokens + [${want.prefix}]/[${want.suffix}]`
          : problems.join("; "),
      });
    } catch (e) {
      out.push({ id, ok: false, detail: `failed to load: ${(e as Error).message}` });
    }
  }
  return out;
}
