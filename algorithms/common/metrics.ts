/**
 * `metrics.jsonl`: one JSON object per line, each with the optimizer `step` and metrics under
 * TRL's names. Lines are appended and handed to the OS at once, so a crash loses at most the line
 * being written and `tail -f` shows progress live. A write that fails (a full disk) is cut back
 * to the last whole line before the error, which names the file, is thrown.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { PathError, withPath } from "../../common/fs_errors.ts";

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
    await withPath("create", dirname(path), () => Deno.mkdir(dirname(path), { recursive: true }));
    if (options.resumeStep !== undefined) await dropLinesAfter(path, options.resumeStep);
    const file = await withPath(
      "open",
      path,
      () => Deno.open(path, { append: true, create: true }),
    );
    try {
      await cutTornLine(path, file);
      return new MetricsWriter(path, file);
    } catch (error) {
      file.close();
      throw error;
    }
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
    const start = (await withPath("write", this.path, () => this.#file.stat())).size;
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    } catch (error) {
      // Part of the line may be on disk: cut it off, so the file stays whole lines.
      await this.#file.truncate(start).catch(() => {});
      throw new PathError("write", this.path, error);
    }
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

/** A torn last line (a crash mid-write) is cut off, so the next line starts on its own. */
async function cutTornLine(path: string, file: Deno.FsFile): Promise<void> {
  if ((await file.stat()).size === 0) return;
  const bytes = await withPath("read", path, () => Deno.readFile(path));
  const end = bytes.lastIndexOf(0x0a) + 1;
  if (end < bytes.length) await withPath("truncate", path, () => file.truncate(end));
}

async function dropLinesAfter(path: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new PathError("read", path, error);
  }
  // A torn last line (the process died mid-write) is dropped along with later steps.
  const keep = (line: string) => {
    try {
      return (JSON.parse(line) as MetricsRecord).step <= step;
    } catch {
      return false;
    }
  };
  const lines = text.split("\n");
  let cutAt = -1, offset = 0, keptAfterCut = false;
  for (const line of lines) {
    if (line.trim() !== "") {
      if (!keep(line)) cutAt = cutAt < 0 ? offset : cutAt;
      else if (cutAt >= 0) keptAfterCut = true;
    }
    offset += encoder.encode(line).length + 1;
  }
  if (cutAt < 0) return;
  if (!keptAfterCut) {
    // The usual case, the dropped lines end the file: cut it there (needs no free space).
    await withPath("truncate", path, () => Deno.truncate(path, cutAt));
    return;
  }
  // Lines out of step order: rewrite through a temporary file, so a failure loses nothing.
  const kept = lines.filter((line) => line.trim() !== "" && keep(line));
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await withPath(
      "write",
      temp,
      () => Deno.writeTextFile(temp, kept.map((l) => l + "\n").join("")),
    );
    await withPath("rename", path, () => Deno.rename(temp, path));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
