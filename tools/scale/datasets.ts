/**
 * Small parquet files in the real schemas of the tutorials' Hub datasets, laid out as the Hub's
 * parquet conversion serves them (`<config>/<split>/0000.parquet`): IMDB (`text`, `label`),
 * Anthropic/hh-rlhf (`chosen`, `rejected` transcripts), go_emotions `simplified` (`text`,
 * `labels` as a list of int64, `id`), CarperAI's TL;DR SFT set (`prompt`, `label`) and its
 * comparisons (`prompt`, `chosen`, `rejected`). The rows are SYNTHETIC, written by the repo's
 * seeded grammars and stretched to the real sets' lengths (IMDB reviews up to ~4,000
 * characters, multi-turn hh transcripts, Reddit posts of a few hundred words), so truncation at
 * 512 and 550 tokens happens as it does on the real data.
 *
 * @module
 */

import { parquetWriteBuffer } from "hyparquet-writer";
import {
  GO_EMOTIONS_LABELS,
  Rng,
  writeSyntheticEmotion,
  writeSyntheticReview,
  writeSyntheticSummaryComparison,
  writeSyntheticSummaryPost,
} from "../../data/mod.ts";
import type { RepoFile } from "./hub_cache.ts";

/** A dataset repo: its id and parquet files. */
export interface DatasetRepo {
  /** Hub id. */
  id: string;
  /** Files by repo path. */
  files: Record<string, RepoFile>;
  /** Rows per split, for the report. */
  rows: Record<string, number>;
}

type Column = { name: string; data: unknown[]; type: "STRING" | "INT64" };

function parquet(columns: Column[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({
    columnData: columns.map((c) => ({
      name: c.name,
      data: c.type === "INT64" ? c.data.map((v) => BigInt(v as number)) : c.data,
      type: c.type,
    })),
  }));
}

/** Sentences of one sentiment until the text is about `chars` long. */
function longReview(rng: Rng, label: 0 | 1, chars: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const text = writeSyntheticReview(rng, label).text;
    const sentence = text[0].toUpperCase() + text.slice(1);
    parts.push(sentence);
    length += sentence.length + 1;
  }
  // IMDB's reviews keep the site's paragraph breaks as HTML.
  return parts.map((s, i) => (i > 0 && i % 4 === 0 ? `<br /><br />${s}` : s)).join(" ");
}

/** IMDB (`stanfordnlp/imdb`, config `plain_text`): reviews of 200 to ~4,000 characters. */
export function imdbDataset(rowsPerSplit = 400): DatasetRepo {
  const files: Record<string, RepoFile> = {};
  const rows: Record<string, number> = {};
  for (const [split, seed] of [["train", 1], ["test", 2]] as const) {
    const rng = new Rng(seed);
    const texts: string[] = [], labels: number[] = [];
    for (let i = 0; i < rowsPerSplit; i++) {
      // The real splits are sorted by label: negatives first.
      const label = i < rowsPerSplit / 2 ? 0 : 1;
      texts.push(longReview(rng, label, 150 + Math.floor(rng.random() ** 2 * 3800)));
      labels.push(label);
    }
    files[`plain_text/${split}/0000.parquet`] = parquet([
      { name: "text", data: texts, type: "STRING" },
      { name: "label", data: labels, type: "INT64" },
    ]);
    rows[split] = rowsPerSplit;
  }
  return { id: "stanfordnlp/imdb", files, rows };
}

const HH_QUESTIONS = [
  "What do you think about",
  "Can you tell me more about",
  "Why do people talk so much about",
  "Is it worth my time to look into",
  "How would you describe",
];

/** One hh-rlhf row: turns of Human and Assistant, the final Assistant reply differing. */
function hhRow(rng: Rng): { chosen: string; rejected: string } {
  const turns = 1 + rng.int(4);
  let shared = "";
  for (let t = 0; t < turns; t++) {
    const topic = writeSyntheticReview(rng, rng.chance(0.5) ? 1 : 0).text.split(" ").slice(0, 4)
      .join(" ");
    shared += `\n\nHuman: ${rng.pick(HH_QUESTIONS)} ${topic}?\n\nAssistant:`;
    if (t < turns - 1) shared += ` ${longReview(rng, rng.chance(0.5) ? 1 : 0, 30 + rng.int(200))}`;
  }
  const chosen = ` ${longReview(rng, 1, 20 + rng.int(300))}`;
  let rejected = ` ${longReview(rng, 0, 20 + rng.int(300))}`;
  if (rejected === chosen) rejected += " No.";
  return { chosen: shared + chosen, rejected: shared + rejected };
}

/** Anthropic/hh-rlhf (config `default`): multi-turn transcripts. */
export function hhRlhfDataset(trainRows = 300, testRows = 100): DatasetRepo {
  const files: Record<string, RepoFile> = {};
  const rows: Record<string, number> = {};
  for (const [split, count, seed] of [["train", trainRows, 3], ["test", testRows, 4]] as const) {
    const rng = new Rng(seed);
    const pairs = Array.from({ length: count }, () => hhRow(rng));
    files[`default/${split}/0000.parquet`] = parquet([
      { name: "chosen", data: pairs.map((p) => p.chosen), type: "STRING" },
      { name: "rejected", data: pairs.map((p) => p.rejected), type: "STRING" },
    ]);
    rows[split] = count;
  }
  return { id: "Anthropic/hh-rlhf", files, rows };
}

/** go_emotions `simplified`: `labels` is a list column (int64 items), as the Hub stores it. */
export function goEmotionsDataset(rowsPerSplit = 200): DatasetRepo {
  const files: Record<string, RepoFile> = {};
  const rows: Record<string, number> = {};
  const splits = [["train", 5], ["validation", 6], ["test", 7]] as const;
  for (const [split, seed] of splits) {
    const rng = new Rng(seed);
    const texts: string[] = [], labels: bigint[][] = [], ids: string[] = [];
    for (let i = 0; i < rowsPerSplit; i++) {
      const row = writeSyntheticEmotion(rng, rng.pick(GO_EMOTIONS_LABELS));
      texts.push(row.text);
      labels.push(row.labels.map(BigInt));
      ids.push(`e${rng.int(36 ** 6).toString(36).padStart(6, "0")}`);
    }
    files[`simplified/${split}/0000.parquet`] = new Uint8Array(parquetWriteBuffer({
      columnData: [
        { name: "text", data: texts },
        { name: "labels", data: labels },
        { name: "id", data: ids },
      ],
      schema: [
        { name: "root", num_children: 3 },
        { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "labels", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: "INT64", repetition_type: "OPTIONAL" },
        { name: "id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      ],
    }));
    rows[split] = rowsPerSplit;
  }
  return { id: "google-research-datasets/go_emotions", files, rows };
}

/** Lengthen a Reddit post's body to about `chars` characters before its `TL;DR:` cue, if any. */
function longPost(rng: Rng, prompt: string, chars: number): string {
  const cue = prompt.endsWith("\nTL;DR:") ? "\nTL;DR:" : "";
  const body = cue ? prompt.slice(0, -cue.length) : prompt;
  const extra = longReview(rng, rng.chance(0.5) ? 1 : 0, chars).replaceAll("<br /><br />", "");
  return `${body} ${extra}${cue}`;
}

/** CarperAI/openai_summarize_tldr: `prompt` (post ending in `TL;DR:`) and `label` (summary). */
export function tldrSftDataset(rowsPerSplit = 300): DatasetRepo {
  const files: Record<string, RepoFile> = {};
  const rows: Record<string, number> = {};
  for (const [split, seed] of [["train", 8], ["valid", 9], ["test", 10]] as const) {
    const rng = new Rng(seed);
    const posts = Array.from({ length: rowsPerSplit }, () => {
      const p = writeSyntheticSummaryPost(rng);
      return { prompt: longPost(rng, p.prompt, 200 + rng.int(2200)), label: p.label };
    });
    files[`default/${split}/0000.parquet`] = parquet([
      { name: "prompt", data: posts.map((p) => p.prompt), type: "STRING" },
      { name: "label", data: posts.map((p) => p.label), type: "STRING" },
    ]);
    rows[split] = rowsPerSplit;
  }
  return { id: "CarperAI/openai_summarize_tldr", files, rows };
}

/** CarperAI/openai_summarize_comparisons: `prompt`, `chosen` and `rejected` summaries. */
export function tldrComparisonsDataset(rowsPerSplit = 300): DatasetRepo {
  const files: Record<string, RepoFile> = {};
  const rows: Record<string, number> = {};
  const splits = [["train", 11], ["test", 12], ["valid1", 13], ["valid2", 14]] as const;
  for (const [split, seed] of splits) {
    const rng = new Rng(seed);
    const pairs = Array.from({ length: rowsPerSplit }, () => {
      const c = writeSyntheticSummaryComparison(rng);
      return { ...c, prompt: longPost(rng, c.prompt, 200 + rng.int(2200)) };
    });
    files[`default/${split}/0000.parquet`] = parquet([
      { name: "prompt", data: pairs.map((p) => p.prompt), type: "STRING" },
      { name: "chosen", data: pairs.map((p) => p.chosen), type: "STRING" },
      { name: "rejected", data: pairs.map((p) => p.rejected), type: "STRING" },
    ]);
    rows[split] = rowsPerSplit;
  }
  return { id: "CarperAI/openai_summarize_comparisons", files, rows };
}

/** Every dataset this smoke run can fill, by Hub id. */
export const DATASETS: Readonly<Record<string, () => DatasetRepo>> = {
  "stanfordnlp/imdb": () => imdbDataset(),
  "Anthropic/hh-rlhf": () => hhRlhfDataset(),
  "google-research-datasets/go_emotions": () => goEmotionsDataset(),
  "CarperAI/openai_summarize_tldr": () => tldrSftDataset(),
  "CarperAI/openai_summarize_comparisons": () => tldrComparisonsDataset(),
};
