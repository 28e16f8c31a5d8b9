/**
 * What a run leaves in its folder to be looked at, beside its checkpoints: `metrics.jsonl`
 * (scalars under TRL's names), `samples.jsonl` (the sample tables), `distributions.jsonl`
 * (per-step value lists such as `env/reward_dist`), `config.json` (the settings, by section),
 * TensorBoard event files when asked, and `report.html`. {@link RunWriter} writes them during a
 * run; the report reads them back.
 *
 * @module
 */

import { join } from "node:path";
import { MetricsWriter } from "../algorithms/common/metrics.ts";
import { EventFileWriter } from "./tensorboard/events.ts";
import { type SampleRecord, type SampleRow, samplesMarkdown } from "./samples.ts";

/** File names inside a run folder. */
export const RUN_FILES = {
  metrics: "metrics.jsonl",
  samples: "samples.jsonl",
  distributions: "distributions.jsonl",
  config: "config.json",
  sideBySide: "side_by_side.json",
  report: "report.html",
} as const;

/** Where a run reports besides `metrics.jsonl` (HF's `report_to`): TensorBoard event files. */
export type ReportTarget = "tensorboard";

/** The accepted {@link ReportTarget}s. */
export const REPORT_TARGETS: readonly ReportTarget[] = ["tensorboard"];

/**
 * Validate a `reportTo` setting: a target, a list of them, `"none"` or undefined (none).
 *
 * @param where Who asks, for the message.
 * @param value The setting.
 */
export function resolveReportTo(where: string, value: unknown): ReportTarget[] {
  if (value === undefined || value === null || value === "none") return [];
  const list = Array.isArray(value) ? value : [value];
  for (const v of list) {
    if (!(REPORT_TARGETS as readonly unknown[]).includes(v)) {
      throw new Error(
        `${where}: reportTo must be ${REPORT_TARGETS.map((t) => `"${t}"`).join(", ")} or ` +
          `"none" (or a list of them); got ${JSON.stringify(v)}`,
      );
    }
  }
  return [...new Set(list as ReportTarget[])];
}

/** A per-step list of values, as `distributions.jsonl` stores it. */
export interface DistributionRecord {
  /** The step. */
  step: number;
  /** TRL's name, e.g. `env/reward_dist`. */
  tag: string;
  /** The values (one per sample). */
  values: number[];
}

/** Options of {@link RunWriter.open}. */
export interface RunWriterOptions {
  /**
   * Resuming from a checkpoint at this step: lines logged after it are dropped from every file
   * (those steps are about to be redone), and TensorBoard is told to drop them too. Undefined:
   * append to what is there.
   */
  resumeStep?: number;
  /** Also write TensorBoard event files (`"tensorboard"`). */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /** Settings to merge into `config.json`, by section (e.g. `{ ppo: trainer.config }`). */
  config?: Record<string, unknown>;
}

const encoder = new TextEncoder();

/**
 * Writes a run's scalars, sample tables and distributions, each under one name everywhere:
 * `metrics.jsonl`, `samples.jsonl`, `distributions.jsonl` and, when asked, TensorBoard.
 *
 * @example
 * ```ts
 * import { RunWriter } from "@tether/rlhf/report";
 * const dir = await Deno.makeTempDir(); // a run folder, e.g. runs/demo
 * const run = await RunWriter.open(dir, { reportTo: "tensorboard", config: { ppo: {} } });
 * await run.write(1, { "env/reward_mean": 0.5 });
 * await run.writeSamples(1, [{ prompt: "the film", completion: " was fine", reward: 0.5 }]);
 * await run.writeDistribution(1, "env/reward_dist", [0.4, 0.6]);
 * run.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunWriter {
  /** The run folder. */
  readonly dir: string;
  readonly #metrics: MetricsWriter;
  readonly #events: EventFileWriter | null;

  private constructor(dir: string, metrics: MetricsWriter, events: EventFileWriter | null) {
    this.dir = dir;
    this.#metrics = metrics;
    this.#events = events;
  }

  /**
   * Open a run folder for writing (created when missing).
   *
   * @param dir The run folder.
   * @param options Resume step, TensorBoard, settings.
   */
  static async open(dir: string, options: RunWriterOptions = {}): Promise<RunWriter> {
    const reportTo = resolveReportTo("RunWriter", options.reportTo);
    const metrics = await MetricsWriter.open(dir, { resumeStep: options.resumeStep });
    if (options.resumeStep !== undefined) {
      await dropLinesAfter(join(dir, RUN_FILES.samples), options.resumeStep);
      await dropLinesAfter(join(dir, RUN_FILES.distributions), options.resumeStep);
    }
    const events = reportTo.includes("tensorboard")
      ? EventFileWriter.open(dir, { resumeStep: options.resumeStep })
      : null;
    const writer = new RunWriter(dir, metrics, events);
    if (options.config) await writer.writeConfig(options.config);
    return writer;
  }

  /** Whether TensorBoard event files are written. */
  get tensorboard(): boolean {
    return this.#events !== null;
  }

  /**
   * One line of scalars (`metrics.jsonl`, and TensorBoard scalars).
   *
   * @param step The step.
   * @param metrics Values by name (TRL's names).
   */
  async write(step: number, metrics: Readonly<Record<string, number>>): Promise<void> {
    await this.#metrics.write(step, metrics);
    this.#events?.scalars(step, metrics);
  }

  /**
   * A sample table (`samples.jsonl`, and TensorBoard text as a Markdown table).
   *
   * @param step The step the samples were drawn at.
   * @param rows The rows.
   * @param table Which table (default `completions`).
   */
  async writeSamples(
    step: number,
    rows: readonly SampleRow[],
    table = "completions",
  ): Promise<void> {
    if (rows.length === 0) return;
    const lines = rows.map((r) => {
      const record: SampleRecord = { step, table, ...r };
      return JSON.stringify(record, finiteOrString) + "\n";
    });
    await appendText(join(this.dir, RUN_FILES.samples), lines.join(""));
    this.#events?.text(step, table, samplesMarkdown(rows));
  }

  /**
   * A per-step list of values (`distributions.jsonl`, and a TensorBoard histogram).
   *
   * @param step The step.
   * @param tag TRL's name, e.g. `env/reward_dist`.
   * @param values The values.
   */
  async writeDistribution(step: number, tag: string, values: readonly number[]): Promise<void> {
    const record: DistributionRecord = { step, tag, values: [...values] };
    await appendText(
      join(this.dir, RUN_FILES.distributions),
      JSON.stringify(record, finiteOrString) + "\n",
    );
    this.#events?.histogram(step, tag, values);
  }

  /**
   * Merge settings into `config.json` by section (and into TensorBoard as text at step 0).
   *
   * @param sections Settings by section name.
   */
  async writeConfig(sections: Record<string, unknown>): Promise<void> {
    await writeRunConfig(this.dir, sections);
    for (const [name, value] of Object.entries(sections)) {
      this.#events?.text(0, `config/${name}`, "```\n" + JSON.stringify(value, null, 2) + "\n```");
    }
  }

  /** Close the files. */
  close(): void {
    this.#metrics.close();
    this.#events?.close();
  }
}

/**
 * Merge settings into `dir/config.json` by section: a section written again replaces the old
 * one, others stay.
 *
 * @param dir The run folder (created when missing).
 * @param sections Settings by section name.
 */
export async function writeRunConfig(
  dir: string,
  sections: Record<string, unknown>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, RUN_FILES.config);
  const merged = { ...(await readRunConfig(dir)), ...JSON.parse(JSON.stringify(sections)) };
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, JSON.stringify(merged, null, 2) + "\n");
  await Deno.rename(temp, path);
}

/**
 * The settings in `dir/config.json` (an empty object when there is none).
 *
 * @param dir The run folder.
 */
export async function readRunConfig(dir: string): Promise<Record<string, unknown>> {
  const text = await readIfThere(join(dir, RUN_FILES.config));
  if (text === null) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${join(dir, RUN_FILES.config)} is not JSON (${(error as Error).message})`);
  }
}

/**
 * The sample rows of `dir/samples.jsonl`, in the order written (none when there is no file).
 *
 * @param dir The run folder.
 */
export async function readSamples(dir: string): Promise<SampleRecord[]> {
  return await readJsonLines<SampleRecord>(join(dir, RUN_FILES.samples));
}

/**
 * The records of `dir/distributions.jsonl` (none when there is no file).
 *
 * @param dir The run folder.
 */
export async function readDistributions(dir: string): Promise<DistributionRecord[]> {
  return await readJsonLines<DistributionRecord>(join(dir, RUN_FILES.distributions));
}

/** JSON lines of a file; a torn last line is skipped; a missing file is empty. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  const text = await readIfThere(path);
  if (text === null) return [];
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const out: T[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      out.push(JSON.parse(line, stringToNonFinite) as T);
    } catch (error) {
      if (i === lines.length - 1) break;
      throw new Error(`${path}: line ${i + 1} is not JSON (${(error as Error).message})`);
    }
  }
  return out;
}

async function readIfThere(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function appendText(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, { append: true, create: true });
  try {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  } finally {
    file.close();
  }
}

async function dropLinesAfter(path: string, step: number): Promise<void> {
  const text = await readIfThere(path);
  if (text === null) return;
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const kept = lines.filter((line) => {
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  if (kept.length === lines.length) return;
  await Deno.writeTextFile(path, kept.map((line) => line + "\n").join(""));
}

// NaN and ±Infinity are stored as strings, as metrics.jsonl stores them.
function finiteOrString(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

// Only number fields are converted back (a completion may well read "NaN").
function stringToNonFinite(key: string, value: unknown): unknown {
  if (typeof value !== "string" || !(key === "reward" || key === "kl" || /^\d+$/.test(key))) {
    return value;
  }
  return value === "NaN"
    ? NaN
    : value === "Infinity"
    ? Infinity
    : value === "-Infinity"
    ? -Infinity
    : value;
}
