/**
 * GoEmotions (`google-research-datasets/go_emotions`, config `simplified`): Reddit comments
 * with one or more of 27 emotions or neutral.
 *
 * @module
 */

import { z } from "zod";
import type { RowSchema } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import { loadTutorial, type TutorialLoadOptions, type TutorialSource } from "./source.ts";

/** The 28 GoEmotions labels; a label id is an index into this list. */
export const GO_EMOTIONS_LABELS: readonly string[] = Object.freeze([
  "admiration",
  "amusement",
  "anger",
  "annoyance",
  "approval",
  "caring",
  "confusion",
  "curiosity",
  "desire",
  "disappointment",
  "disapproval",
  "disgust",
  "embarrassment",
  "excitement",
  "fear",
  "gratitude",
  "grief",
  "joy",
  "love",
  "nervousness",
  "optimism",
  "pride",
  "realization",
  "relief",
  "remorse",
  "sadness",
  "surprise",
  "neutral",
]);

/** Where GoEmotions lives on the Hub. */
export const GO_EMOTIONS_SOURCE: TutorialSource = {
  id: "google-research-datasets/go_emotions",
  config: "simplified",
};

/** One GoEmotions comment. */
export interface GoEmotionsRow {
  /** Comment text. */
  text: string;
  /** Label ids, indices into {@link GO_EMOTIONS_LABELS}. */
  labels: number[];
  /** Comment id, when the source has one. */
  id?: string;
}

/** Schema of a GoEmotions row. The original TSV's `"3,27"` label lists are accepted too. */
export const goEmotionsRowSchema: RowSchema<GoEmotionsRow> = z.object({
  text: z.string(),
  labels: z.preprocess(
    (value) =>
      typeof value === "string"
        ? value.split(",").filter((part) => part.trim() !== "").map((part) => Number(part))
        : value,
    z.array(z.number().int().min(0).max(GO_EMOTIONS_LABELS.length - 1)).min(1),
  ),
  id: z.string().optional(),
});

/**
 * Load GoEmotions from a local file or the Hub.
 *
 * @param options Path, split (`train`/`validation`/`test`), limit and Hub settings.
 */
export function loadGoEmotions(options: TutorialLoadOptions = {}): Promise<Dataset<GoEmotionsRow>> {
  return loadTutorial(GO_EMOTIONS_SOURCE, goEmotionsRowSchema, options);
}

/**
 * The names of a row's labels.
 *
 * @param labels Label ids.
 */
export function goEmotionNames(labels: readonly number[]): string[] {
  return labels.map((id) => {
    const name = GO_EMOTIONS_LABELS[id];
    if (name === undefined) throw new RangeError(`no GoEmotions label with id ${id}`);
    return name;
  });
}
