/**
 * The table the TL;DR examples end with: for each held-out post, the reference summary, the
 * summaries being compared, their rewards and their ROUGE-L against the reference (and, on the
 * SYNTHETIC corpus, how much of the post's gist each states). Printed and saved as Markdown; its
 * columns go to the run's report as sample tables ({@link columnSamples}) and, for a before and
 * after pair of columns, as the held-out comparison.
 *
 * @module
 */

import { join } from "node:path";
import { RUN_FILES } from "../../report/run_files.ts";
import type { SampleRow } from "../../report/samples.ts";
import type { SideBySideRow } from "../common/side_by_side.ts";

/** One summary in a row. */
export interface TableSummary {
  /** The text. */
  text: string;
  /** Its reward (null: no reward model). */
  reward: number | null;
  /** ROUGE-L F against the reference. */
  rougeL: number;
  /** Share of the gist stated (null: not SYNTHETIC). */
  gist: number | null;
}

/** One row: a post, its reference and the summaries. */
export interface TableRow {
  /** The post (prompt). */
  post: string;
  /** The reference summary. */
  reference: string;
  /** Summaries by column name. */
  summaries: Record<string, TableSummary>;
}

function cell(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

const num = (x: number | null) => (x === null ? "–" : x.toFixed(3));

/**
 * The rows as a Markdown table with a mean line per column.
 *
 * @param rows Rows (every row has the same summary columns).
 * @param width Longest text per cell.
 */
export function formatTable(rows: readonly TableRow[], width = 90): string {
  const columns = rows.length ? Object.keys(rows[0].summaries) : [];
  const header = [
    "#",
    "post",
    "reference",
    ...columns.flatMap((c) => [c, "reward", "ROUGE-L", "gist"]),
  ];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r, i) =>
      `| ${
        [
          String(i + 1),
          cell(r.post, width),
          cell(r.reference, width),
          ...columns.flatMap((c) => {
            const s = r.summaries[c];
            return [cell(s.text, width), num(s.reward), num(s.rougeL), num(s.gist)];
          }),
        ].join(" | ")
      } |`
    ),
    "",
  ];
  for (const c of columns) {
    const mean = (f: (s: TableSummary) => number | null) => {
      const v = rows.map((r) => f(r.summaries[c])).filter((x): x is number => x !== null);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    };
    lines.push(
      `${c}: mean reward ${num(mean((s) => s.reward))}, mean ROUGE-L ${
        num(mean((s) => s.rougeL))
      }, mean gist ${num(mean((s) => s.gist))} over ${rows.length} posts`,
    );
  }
  return lines.join("\n");
}

/**
 * One column of the table as sample rows for the run's report: the post, the summary and its
 * reward (NaN without a reward model).
 *
 * @param rows Rows.
 * @param column The column's name.
 */
export function columnSamples(rows: readonly TableRow[], column: string): SampleRow[] {
  return rows.map((r) => ({
    prompt: r.post,
    completion: r.summaries[column].text,
    reward: r.summaries[column].reward ?? NaN,
  }));
}

/**
 * Print the table and save it as `side_by_side.md` in `outDir`. With `compare`, and rewards in
 * both of its columns, the two also go to `side_by_side.json`, the report's held-out comparison.
 *
 * @param outDir Run folder.
 * @param rows Rows.
 * @param log Where the table is printed.
 * @param compare The columns of the model before and after training.
 * @returns The file written.
 */
export async function writeTable(
  outDir: string,
  rows: readonly TableRow[],
  log: (text: string) => void,
  compare?: { before: string; after: string },
): Promise<string> {
  const table = formatTable(rows);
  log(table);
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, "side_by_side.md");
  await Deno.writeTextFile(path, table + "\n");
  if (compare) {
    const pairs: SideBySideRow[] = rows.map((r) => ({
      prompt: r.post,
      before: r.summaries[compare.before].text,
      beforeReward: r.summaries[compare.before].reward ?? NaN,
      after: r.summaries[compare.after].text,
      afterReward: r.summaries[compare.after].reward ?? NaN,
    }));
    if (pairs.every((p) => Number.isFinite(p.beforeReward) && Number.isFinite(p.afterReward))) {
      await Deno.writeTextFile(
        join(outDir, RUN_FILES.sideBySide),
        JSON.stringify({ labels: compare, rows: pairs }, null, 2) + "\n",
      );
    }
  }
  return path;
}
