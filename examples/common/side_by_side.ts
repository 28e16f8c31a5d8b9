/**
 * The table every tutorial ends with: for each held-out prompt, what the original model wrote and
 * what the tuned one wrote, each with its reward. Printed to the console and saved as Markdown.
 *
 * @module
 */

import { join } from "node:path";
import { RUN_FILES } from "../../report/run_files.ts";

/** One row: a prompt and the two samples with their rewards. */
export interface SideBySideRow {
  /** The prompt (query) text. */
  prompt: string;
  /** Original model's continuation. */
  before: string;
  /** Its reward. */
  beforeReward: number;
  /** Tuned model's continuation. */
  after: string;
  /** Its reward. */
  afterReward: number;
}

/** Means over the rows. */
export interface SideBySideSummary {
  /** Rows compared. */
  rows: number;
  /** Mean reward of the original samples. */
  meanBefore: number;
  /** Mean reward of the tuned samples. */
  meanAfter: number;
  /** Rows where the tuned sample scored strictly higher. */
  wins: number;
}

/**
 * Summarize a side-by-side comparison.
 *
 * @param rows Compared samples.
 */
export function summarizeSideBySide(rows: readonly SideBySideRow[]): SideBySideSummary {
  const n = rows.length;
  const mean = (f: (r: SideBySideRow) => number) =>
    n === 0 ? NaN : rows.reduce((s, r) => s + f(r), 0) / n;
  return {
    rows: n,
    meanBefore: mean((r) => r.beforeReward),
    meanAfter: mean((r) => r.afterReward),
    wins: rows.filter((r) => r.afterReward > r.beforeReward).length,
  };
}

function cell(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/**
 * The comparison as a Markdown table, with a summary line under it.
 *
 * @param rows Compared samples.
 * @param labels Column names of the two models.
 * @param width Longest text kept per cell (longer ones end in an ellipsis).
 */
export function formatSideBySide(
  rows: readonly SideBySideRow[],
  labels: { before: string; after: string } = { before: "original", after: "tuned" },
  width = 100,
): string {
  const lines = [
    `| # | prompt | ${labels.before} | reward | ${labels.after} | reward |`,
    "|---|---|---|---|---|---|",
    ...rows.map((r, i) =>
      `| ${i + 1} | ${cell(r.prompt, width)} | ${cell(r.before, width)} | ` +
      `${r.beforeReward.toFixed(3)} | ${cell(r.after, width)} | ${r.afterReward.toFixed(3)} |`
    ),
  ];
  const s = summarizeSideBySide(rows);
  lines.push(
    "",
    `mean reward: ${labels.before} ${s.meanBefore.toFixed(3)}, ${labels.after} ` +
      `${s.meanAfter.toFixed(3)} (${s.meanAfter >= s.meanBefore ? "+" : ""}` +
      `${(s.meanAfter - s.meanBefore).toFixed(3)}); ${labels.after} scored higher on ` +
      `${s.wins} of ${s.rows} prompts`,
  );
  return lines.join("\n");
}

/**
 * Print the table and save it as `side_by_side.md` (and the rows as `side_by_side.json`, which
 * the report reads) in `outDir`.
 *
 * @param outDir Run folder (created if missing).
 * @param rows Compared samples.
 * @param labels Column names of the two models.
 * @param log Where the table is printed (default console.log).
 * @returns The summary and the file written.
 */
export async function writeSideBySide(
  outDir: string,
  rows: readonly SideBySideRow[],
  labels?: { before: string; after: string },
  log: (text: string) => void = (text) => console.log(text),
): Promise<SideBySideSummary & { path: string }> {
  const table = formatSideBySide(rows, labels);
  log(table);
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, "side_by_side.md");
  await Deno.writeTextFile(path, table + "\n");
  // The same rows as data, for the run's report.
  await Deno.writeTextFile(
    join(outDir, RUN_FILES.sideBySide),
    JSON.stringify({ labels: labels ?? { before: "original", after: "tuned" }, rows }, null, 2) +
      "\n",
  );
  return { ...summarizeSideBySide(rows), path };
}
