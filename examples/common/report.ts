/**
 * The last thing every example does: write the run folder's `report.html` (charts of every
 * logged scalar, the sample tables, the held-out comparison and the config) and say where it is.
 *
 * @module
 */

import { writeReport } from "../../report/report.ts";

/**
 * Write the report of a run folder (or a folder of runs) and print its path. A report that
 * cannot be written is said so, and the run still counts: its results are already saved.
 *
 * @param out The run folder.
 * @param log Where the line goes.
 * @returns The report's path, or null when it could not be written.
 */
export async function writeRunReport(
  out: string,
  log: (line: string) => void = (line) => console.log(line),
): Promise<string | null> {
  try {
    const { path } = await writeReport([out]);
    log(`report: ${path} (open it in a browser; deno task report ${out} rewrites it)`);
    return path;
  } catch (error) {
    log(`report: not written (${(error as Error).message}); the run's files are in ${out}`);
    return null;
  }
}
