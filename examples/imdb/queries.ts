/**
 * The tutorial's queries: the first 2–7 tokens of movie reviews (the preset's `queryLength`),
 * from IMDB (train split for PPO, test split for the held-out table) or, in the tiny preset,
 * from two SYNTHETIC corpora written with different seeds.
 *
 * @module
 */

import {
  cleanImdbText,
  Dataset,
  generateSyntheticReviews,
  LengthSampler,
  loadImdb,
  tokenQueries,
} from "../../data/mod.ts";
import type { Tokenizer } from "../../models/mod.ts";
import type { ImdbPreset } from "./presets.ts";

/** A query: its tokens and text. */
export interface ImdbQuery {
  /** Token ids (what PPO and generation take). */
  inputIds: number[];
  /** Decoded text. */
  query: string;
}

/** PPO's query set and the held-out prompts of the side-by-side table. */
export interface ImdbQueries {
  /** Queries from the training reviews. */
  train: ImdbQuery[];
  /** Queries from reviews PPO never sees. */
  heldOut: ImdbQuery[];
}

async function reviewTexts(preset: ImdbPreset, split: "train" | "test", count: number) {
  if (preset.data === "synthetic") {
    // Different seeds make the held-out corpus disjoint in draws from the training one.
    const seed = split === "train" ? 101 : 202;
    return generateSyntheticReviews(count, { seed }).toArray().map((r) => r.text);
  }
  // IMDB is sorted by label; read all and let the seeded shuffle below mix them.
  const rows = await loadImdb({ split });
  return rows.toArray().map((r) => cleanImdbText(r.text));
}

function build(
  texts: string[],
  preset: ImdbPreset,
  tokenizer: Tokenizer,
  seed: number,
  count: number,
): ImdbQuery[] {
  const length = new LengthSampler(preset.queryLength.min, preset.queryLength.max, { seed });
  const kept = texts.filter((t) => t.length > preset.minReviewChars);
  // A query is at most a few tokens: encoding the first 500 characters gives the same prefix
  // without tokenizing whole reviews.
  const picked = Dataset.from(kept).shuffle(seed).take(count).toArray().map((t) => t.slice(0, 500));
  return tokenQueries(picked, { tokenizer, length })
    .toArray()
    .filter((q) => q.inputIds.length > 0)
    .map((q) => ({
      inputIds: withBos(preset, tokenizer, q.inputIds),
      query: q.query ?? tokenizer.decode(q.inputIds),
    }));
}

function withBos(
  preset: Pick<ImdbPreset, "promptStartsWithBos">,
  tokenizer: Tokenizer,
  ids: number[],
): number[] {
  if (!preset.promptStartsWithBos) return ids;
  const bos = tokenizer.bosTokenId;
  if (bos === undefined) {
    throw new Error("imdb preset: promptStartsWithBos is set but the tokenizer has no bos_token");
  }
  return [bos, ...ids];
}

/**
 * A prompt's token ids as the preset's policy expects them (BOS first when it asks for one).
 *
 * @param preset Whether prompts start with BOS.
 * @param tokenizer The policy's tokenizer.
 * @param text The prompt.
 */
export function encodePrompt(
  preset: Pick<ImdbPreset, "promptStartsWithBos">,
  tokenizer: Tokenizer,
  text: string,
): number[] {
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new Error(`prompt '${text}' has no tokens`);
  return withBos(preset, tokenizer, ids);
}

/**
 * Build the preset's queries.
 *
 * @param preset Data source, counts and query length.
 * @param tokenizer The policy's tokenizer.
 * @param seed Seed of the review order and the query lengths.
 */
export async function imdbQueries(
  preset: ImdbPreset,
  tokenizer: Tokenizer,
  seed: number,
): Promise<ImdbQueries> {
  const train = build(
    await reviewTexts(preset, "train", preset.queryReviews),
    preset,
    tokenizer,
    seed,
    preset.queryReviews,
  );
  const heldOut = build(
    await reviewTexts(preset, "test", preset.heldOutPrompts * 4),
    preset,
    tokenizer,
    seed + 1,
    preset.heldOutPrompts,
  );
  return { train, heldOut };
}
