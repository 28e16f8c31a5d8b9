/**
 * Where a tutorial dataset comes from: a local file when a path is given, otherwise its Hub
 * dataset (cached, or downloaded once).
 *
 * @module
 */

import type { RowSchema } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import { type HubDatasetOptions, streamHubDataset } from "../hub/load_dataset.ts";
import { streamLocal } from "../loaders/local.ts";
import type { LoadOptions } from "../loaders/records.ts";
import type { StreamingDataset } from "../streaming.ts";

/** Options shared by the tutorial loaders. */
export interface TutorialLoadOptions extends Omit<LoadOptions<unknown>, "schema"> {
  /**
   * A local file (`.parquet`, `.jsonl`, `.jsonl.gz`, `.csv`, `.tsv`, `.json`) holding the split;
   * when set, the Hub is not used.
   */
  path?: string;
  /** Split to read from the Hub (default `train`). */
  split?: string;
  /** Read at most this many rows. */
  limit?: number;
  /** Hub settings (config, revision, cache folder, offline mode, fetch, progress). */
  hub?: Omit<HubDatasetOptions<unknown>, "split" | "schema">;
}

/** Where a tutorial dataset lives on the Hub. */
export interface TutorialSource {
  /** Hub dataset id. */
  id: string;
  /** Hub configuration holding the tutorial's columns. */
  config: string;
}

/**
 * A stream of validated tutorial rows from a local file or the Hub.
 *
 * @param source The dataset's Hub location.
 * @param schema Row schema.
 * @param options Path, split, limit and Hub settings.
 */
export function streamTutorial<T>(
  source: TutorialSource,
  schema: RowSchema<T>,
  options: TutorialLoadOptions = {},
): StreamingDataset<T> {
  const validation = { schema, invalidRows: options.invalidRows, onSkip: options.onSkip };
  const stream = options.path !== undefined
    ? streamLocal(options.path, validation)
    : streamHubDataset(source.id, {
      config: source.config,
      ...options.hub,
      split: options.split ?? "train",
      ...validation,
    });
  return options.limit === undefined ? stream : stream.take(options.limit);
}

/**
 * Load validated tutorial rows into memory.
 *
 * @param source The dataset's Hub location.
 * @param schema Row schema.
 * @param options Path, split, limit and Hub settings.
 */
export function loadTutorial<T>(
  source: TutorialSource,
  schema: RowSchema<T>,
  options: TutorialLoadOptions = {},
): Promise<Dataset<T>> {
  return streamTutorial(source, schema, options).collect();
}
