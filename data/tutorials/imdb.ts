/**
 * IMDB movie reviews (`stanfordnlp/imdb`): 25,000 train and 25,000 test reviews, `label` 1 for
 * positive and 0 for negative — the sentiment task of TRL's first PPO tutorial.
 *
 * @module
 */

import { z } from "zod";
import type { RowSchema } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import { loadTutorial, type TutorialLoadOptions, type TutorialSource } from "./source.ts";

/** Where IMDB lives on the Hub. */
export const IMDB_SOURCE: TutorialSource = { id: "stanfordnlp/imdb", config: "plain_text" };

const binaryLabel = z.preprocess(
  (value) => typeof value === "string" && /^\s*[01]\s*$/.test(value) ? Number(value) : value,
  z.literal([0, 1]),
);

/** A 0/1 label. CSV files carry it as the text "0" or "1", so those are accepted too. */
export const binaryLabelSchema: RowSchema<0 | 1> = binaryLabel;

/** One IMDB review. */
export interface ImdbRow {
  /** Review text (may contain `<br />` tags, as in the original data). */
  text: string;
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
}

/** Schema of an IMDB row; other columns are dropped. */
export const imdbRowSchema: RowSchema<ImdbRow> = z.object({
  text: z.string(),
  label: binaryLabel,
});

/**
 * Load IMDB reviews from a local file or the Hub. The Hub's `unsupervised` split has label -1
 * and is rejected by the schema; read it with `streamHubDataset` instead.
 *
 * @param options Path, split (`train`/`test`), limit and Hub settings.
 */
export function loadImdb(options: TutorialLoadOptions = {}): Promise<Dataset<ImdbRow>> {
  return loadTutorial(IMDB_SOURCE, imdbRowSchema, options);
}

/**
 * IMDB text with its HTML line breaks turned into spaces, as the TRL tutorial does before
 * building queries.
 *
 * @param text A review.
 */
export function cleanImdbText(text: string): string {
  return text.replace(/<br\s*\/?>/gi, " ");
}
