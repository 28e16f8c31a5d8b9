/**
 * `metrics.jsonl`: one JSON object per line, each with the optimizer `step` and metrics under
 * TRL's names. Lines are appended and handed to the OS at once, so a crash loses at most the line
 * being written and `tail -f` shows progress live.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** One logged line: the step and its metrics. */
export interface MetricsRecord {
  /** Optimizer steps completed when the line was written. */
  step: number;
  /** Metric values by name; non-finite numbers are stored as the strings "NaN", "Infinity". */
  [name: string]: number | string;
}

/** Options of {@link MetricsWriter.open}. */
export interface MetricsWriterOptions {
  /**
   * When resuming from a checkpoint at this step: drop lines logged after it (the run that
   * wrote them died before its next checkpoint, and those steps are about to be redone).
   */
  resumeStep?: number;
}

const encoder = new TextEncoder();

/** Appends metrics lines to a `metrics.jsonl` file. */
export class MetricsWriter {
  readonly #file: Deno.FsFile;
  /** Path of the file written. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Open (creating folders as needed) `dir/metrics.jsonl` for appending.
   *
   * @param dir Output folder of a run; a path ending in `.jsonl` is used as the file itself.
   * @param options Resume handling.
   */
  static async open(dir: string, options: MetricsWriterOptions = {}): Promise<MetricsWriter> {
    const path = dir.endsWith(".jsonl") ? dir : join(dir, "metrics.jsonl");
    await Deno.mkdir(dirname(path), { recursive: true });
    if (options.resumeStep !== undefined) await dropLinesAfter(path, options.resumeStep);
    const file = await Deno.open(path, { append: true, create: true });
    return new MetricsWriter(path, file);
  }

  /**
   * Append one line `{step, ...metrics}`.
   *
   * @param step Optimizer steps completed.
   * @param metrics Values by metric name.
   */
  async write(step: number, metrics: Readonly<Record<string, number>>): Promise<void> {
    const record: Record<string, number | string> = { step };
    for (const [name, value] of Object.entries(metrics)) {
      if (name === "step") throw new Error(`MetricsWriter: "step" is reserved for the step number`);
      record[name] = Number.isFinite(value) ? value : String(value);
    }
    const bytes = encoder.encode(JSON.stringify(record) + "\n");
    let written = 0;
    while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
  }

  /** Close the file. */
  close(): void {
    this.#file.close();
  }
}

/**
 * Read a `metrics.jsonl` file back (a folder holding one, or the file itself). A torn last line
 * (a write cut short by a crash, or one still in progress) is skipped.
 *
 * @param path The run folder or the file.
 */
export async function readMetrics(path: string): Promise<MetricsRecord[]> {
  const file = path.endsWith(".jsonl") ? path : join(path, "metrics.jsonl");
  const text = await Deno.readTextFile(file);
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const out: MetricsRecord[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch (error) {
      if (i === lines.length - 1) break;
      throw new Error(`${file}: line ${i + 1} is not JSON (${(error as Error).message})`);
    }
  }
  return out;
}

async function dropLinesAfter(path: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  // A torn last line (the process died mid-write) is dropped along with later steps.
  const kept = lines.filter((line) => {
    try {
      return (JSON.parse(line) as MetricsRecord).step <= step;
    } catch {
      return false;
    }
  });
  if (kept.length === lines.length) return;
  await Deno.writeTextFile(path, kept.map((line) => line + "\n").join(""));
}
