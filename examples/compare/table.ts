/**
 * The comparison's table as Markdown (console and `compare_algorithms.md`) and JSON
 * (`compare_algorithms.json`).
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "../../models/io/atomic.ts";
import type { CompareResult } from "./compare.ts";

/** Column headers, in order. */
export const TABLE_HEADER: readonly string[] = [
  "algorithm",
  "steps done",
  "train wall time",
  "held-out reward (before → after)",
  "KL to reference (nats)",
  "reward gain / s",
  "sampling cost / prompt",
];

/**
 * The table: one row per algorithm, then the notes.
 *
 * @param r A comparison's result.
 */
export function markdownTable(r: CompareResult): string {
  const rows = r.rows.map((row) => [
    row.algorithm,
    row.steps === 0 ? "0" : `${row.steps} × ${row.stepUnit}`,
    `${row.trainSeconds.toFixed(1)} s`,
    `${row.rewardBefore.toFixed(3)} → ${row.rewardAfter.toFixed(3)}`,
    row.kl.toFixed(3),
    row.rewardGainPerSecond === null ? "— (inference only)" : row.rewardGainPerSecond.toFixed(4),
    `${row.inferenceMsPerPrompt.toFixed(1)} ms` +
    (row.algorithm === "best-of-n" ? ` (${r.settings.bestOfN.n} samples)` : ""),
  ]);
  const widths = TABLE_HEADER.map((h, j) => Math.max(h.length, ...rows.map((x) => x[j].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, j) => c.padEnd(widths[j])).join(" | ")} |`;
  const lines = [
    line(TABLE_HEADER),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
    "",
    `Budget ${r.budgetSeconds} s of training per algorithm, seed ${r.seed}, backend ${r.backend}; ` +
    `${r.heldOut.prompts} held-out prompts × ${r.heldOut.samplesPerPrompt} samples, ` +
    `${r.settings.maxNewTokens} new tokens at most; whole run ${r.seconds.toFixed(0)} s.`,
  ];
  for (const row of r.rows) {
    for (const note of row.notes) lines.push(`- ${row.algorithm}: ${note}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Write `compare_algorithms.md` and `compare_algorithms.json` into `dir` (atomically).
 *
 * @param dir Output folder (created if missing).
 * @param r A comparison's result.
 * @returns The two paths.
 */
export async function writeCompareFiles(
  dir: string,
  r: CompareResult,
): Promise<{ markdown: string; json: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const markdown = join(dir, "compare_algorithms.md");
  const json = join(dir, "compare_algorithms.json");
  await writeTextFileAtomic(markdown, markdownTable(r));
  await writeTextFileAtomic(json, JSON.stringify(r, null, 2) + "\n");
  return { markdown, json };
}
