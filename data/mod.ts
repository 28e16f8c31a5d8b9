/**
 * Datasets for RLHF: an indexed {@link Dataset} and a {@link StreamingDataset}; loaders for
 * JSONL (+gz), CSV/TSV, Parquet and JSON files and for Hub datasets through the standard Hugging
 * Face cache; the tutorial datasets (IMDB, GoEmotions, hh-rlhf, TL;DR) with schemas; all-pairs
 * preference builders; query builders with TRL's `LengthSampler`; and a SYNTHETIC movie-review
 * corpus, preference and SFT sets in its grammar, and its word tokenizer for offline demos.
 *
 * @example
 * ```ts
 * import { loadImdb, pairsFromLabeled } from "@tether/rlhf/data";
 *
 * // loadImdb({ split: "train" }) reads stanfordnlp/imdb from the Hub (or its cache); a local
 * // file in the same columns works offline.
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const rows = [
 *   { text: "a wonderful film.", label: 1 },
 *   { text: "a moving story.", label: 1 },
 *   { text: "a dull mess.", label: 0 },
 * ];
 * await Deno.writeTextFile(path, rows.map((r) => JSON.stringify(r)).join("\n"));
 * const imdb = await loadImdb({ path });
 * // Every positive review chosen over every negative one (the full IMDB train split gives
 * // 156,250,000 pairs, built lazily).
 * const pairs = pairsFromLabeled(imdb, { isChosen: (r) => r.label === 1, value: (r) => r.text });
 * console.log(pairs.length, pairs.get(0)); // 2 { chosen: "a wonderful film.", rejected: "a dull mess." }
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

export { Rng } from "./random.ts";
export { EAGER_PERMUTATION_LIMIT, type Permutation, seededPermutation } from "./permutation.ts";
export {
  type BatchOptions,
  collateRecords,
  Dataset,
  type ShuffleOptions,
  type SplitOptions,
  type TrainTestSplit,
} from "./dataset.ts";
export { StreamingDataset, type StreamShuffleOptions } from "./streaming.ts";
export {
  DataParseError,
  DataValidationError,
  type RowKind,
  type RowLocation,
  type RowSchema,
  type SchemaIssue,
  validateRow,
} from "./errors.ts";

export { type LoadOptions, type SourceRecord, streamRecords } from "./loaders/records.ts";
export { type NumberedLine, openTextStream, readLines } from "./loaders/text.ts";
export { jsonlRecords, loadJsonl, streamJsonl, writeJsonl } from "./loaders/jsonl.ts";
export {
  type CsvOptions,
  type CsvRecord,
  csvRecords,
  CsvTokenizer,
  loadCsv,
  parseCsvRecords,
  streamCsv,
} from "./loaders/csv.ts";
export {
  loadParquet,
  normalizeParquetValue,
  type ParquetOptions,
  parquetRecords,
  streamParquet,
} from "./loaders/parquet.ts";
export { type JsonOptions, jsonRecords, loadJson, streamJson } from "./loaders/json.ts";
export {
  detectFormat,
  loadLocal,
  type LocalFormat,
  localRecords,
  streamLocal,
} from "./loaders/local.ts";

export { datasetFolderName } from "./hub/cache.ts";
export { type HubEnv, isOfflineEnv, readHubEnv, resolveHubCacheDir } from "../common/hub.ts";
export { describeError, type FetchLike, HubRequestError } from "./hub/download.ts";
export {
  HubDatasetError,
  type HubDatasetOptions,
  loadHubDataset,
  PARQUET_CONVERSION_REVISION,
  type ResolvedHubSplit,
  resolveHubSplit,
  streamHubDataset,
} from "./hub/load_dataset.ts";
export {
  formatBytes,
  ProgressBar,
  type ProgressOptions,
  type ProgressSink,
  type TransferState,
  type TransferWording,
} from "../common/progress.ts";

export type { TutorialLoadOptions, TutorialSource } from "./tutorials/source.ts";
export {
  binaryLabelSchema,
  cleanImdbText,
  IMDB_SOURCE,
  type ImdbRow,
  imdbRowSchema,
  loadImdb,
} from "./tutorials/imdb.ts";
export {
  GO_EMOTIONS_LABELS,
  GO_EMOTIONS_SOURCE,
  goEmotionNames,
  type GoEmotionsRow,
  goEmotionsRowSchema,
  loadGoEmotions,
} from "./tutorials/go_emotions.ts";
export {
  extractHhPrompt,
  HH_ASSISTANT_MARKER,
  HH_RLHF_SOURCE,
  type HhRlhfPair,
  hhRlhfRowSchema,
  HhRlhfSplitError,
  loadHhRlhf,
  splitHhPair,
} from "./tutorials/hh_rlhf.ts";
export {
  loadTldrComparisons,
  loadTldrSft,
  TLDR_COMPARISONS_SOURCE,
  TLDR_SFT_SOURCE,
  type TldrComparisonRow,
  tldrComparisonRowSchema,
  type TldrSftRow,
  tldrSftRowSchema,
} from "./tutorials/tldr.ts";

export {
  allPairs,
  type LabeledPairOptions,
  type Pair,
  pairIndex,
  pairPositions,
  pairsFromLabeled,
} from "./pairs.ts";
export { LengthSampler } from "./length_sampler.ts";
export {
  longerThan,
  type QueryLength,
  type QueryOptions,
  type TokenizerLike,
  tokenQueries,
  type TokenQuery,
  wordQueries,
  type WordQuery,
} from "./queries.ts";

export {
  detokenizeWords,
  generateSyntheticReviews,
  SYNTHETIC_ADJECTIVES,
  SYNTHETIC_POLAR_WORDS,
  SYNTHETIC_REVIEW_WORDS,
  SYNTHETIC_SUBJECTS,
  type SyntheticReview,
  type SyntheticReviewOptions,
  type SyntheticSubject,
  writeSyntheticReview,
} from "./synthetic/reviews.ts";
export {
  generateSyntheticPreferences,
  generateSyntheticSft,
  SYNTHETIC_PREFERENCE_WORDS,
  type SyntheticPreference,
  type SyntheticPreferenceOptions,
  syntheticPreferenceSplit,
  type SyntheticSftExample,
  syntheticSftSplit,
  writeSyntheticPreference,
} from "./synthetic/preferences.ts";
export {
  type EmotionLexicon,
  firstWords,
  generateSyntheticEmotions,
  SYNTHETIC_EMOTION_LEXICON,
  SYNTHETIC_EMOTION_OPENINGS,
  SYNTHETIC_EMOTION_WORDS,
  type SyntheticEmotionOptions,
  type SyntheticEmotionText,
  writeSyntheticEmotion,
} from "./synthetic/emotions.ts";
export {
  generateSyntheticSummaries,
  generateSyntheticSummaryComparisons,
  gistScore,
  type RejectedKind,
  type SummaryGist,
  type SyntheticSummaryComparison,
  type SyntheticSummaryOptions,
  type SyntheticSummaryPost,
  writeSyntheticSummaryComparison,
  writeSyntheticSummaryPost,
} from "./synthetic/summaries.ts";
export {
  EOS_TOKEN,
  PAD_TOKEN,
  SyntheticWordTokenizer,
  UNK_TOKEN,
  type WordEncodeOptions,
} from "./synthetic/word_tokenizer.ts";
