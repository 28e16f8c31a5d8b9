/**
 * `writeReport`: read one or more run folders and write `report.html`.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { renderReport } from "./html.ts";
import { findRuns, readRun, runNames } from "./read_run.ts";
import { RUN_FILES } from "./run_files.ts";

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /**
   * Where to write the page. Default: `report.html` in the folder named (when one folder is
   * named), else in the current folder.
   */
  out?: string;
  /** Page title (default: the run names). */
  title?: string;
}

/** What {@link writeReport} wrote. */
export interface WriteReportResult {
  /** The HTML file. */
  path: string;
  /** The run folders it drew. */
  runs: string[];
  /** Its size in bytes. */
  bytes: number;
}

/**
 * Write the report of one or more runs: a folder holding `metrics.jsonl` (or samples) is a run;
 * a folder holding none stands for the runs one level below it. Several runs overlay their
 * curves: one chart per metric, one line per run that logged it.
 *
 * @example
 * ```ts
 * import { RunWriter, writeReport } from "@tether/rlhf/report";
 *
 * // A run folder (e.g. runs/imdb_demo-tiny after `deno task demo`) with a few logged steps.
 * const dir = await Deno.makeTempDir();
 * const run = await RunWriter.open(dir);
 * for (let step = 1; step <= 5; step++) {
 *   await run.write(step, { "env/reward_mean": step / 5, "objective/kl": step / 50 });
 * }
 * run.close();
 * const { path } = await writeReport([dir]);
 * console.log(`open ${path}`); // <dir>/report.html, one chart per metric
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param paths Run folders (or folders of runs).
 * @param options Output file and title.
 */
export async function writeReport(
  paths: readonly string[],
  options: WriteReportOptions = {},
): Promise<WriteReportResult> {
  const dirs = await findRuns(paths);
  const names = runNames(dirs);
  const runs = await Promise.all(dirs.map((dir, i) => readRun(dir, names[i])));
  const title = options.title ??
    `Tether report: ${paths.map((p) => basename(resolve(p))).join(", ")}`;
  const html = renderReport(runs, { title });
  const out = options.out ??
    (paths.length === 1 ? join(paths[0], RUN_FILES.report) : RUN_FILES.report);
  const temp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, html);
  await Deno.rename(temp, out);
  return { path: out, runs: dirs, bytes: new TextEncoder().encode(html).length };
}
