/**
 * `deno task report <run folder>... [--out FILE] [--title TEXT]`: write the HTML report of one
 * run, or of several with their curves overlaid.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeReport } from "./report.ts";

const USAGE = "usage: deno task report <run folder>... [--out report.html] [--title TEXT]";

/**
 * Run the command; returns the exit status.
 *
 * @param args Command-line arguments.
 */
export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { out: { type: "string" }, title: { type: "string" }, help: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`report: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    console.error(`report: name at least one run folder\n${USAGE}`);
    return 2;
  }
  try {
    const result = await writeReport(parsed.positionals, {
      out: parsed.values.out,
      title: parsed.values.title,
    });
    console.log(
      `report: ${result.runs.length} run${result.runs.length === 1 ? "" : "s"} ` +
        `(${result.runs.join(", ")}) → ${result.path} (${(result.bytes / 1024).toFixed(0)} KiB)`,
    );
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
