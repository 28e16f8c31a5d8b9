/**
 * Download progress: redrawn in place on a terminal, a plain line now and then in a log, so CI
 * output stays readable.
 *
 * @module
 */

import type { ProgressSink } from "./env.ts";

/**
 * Bytes with binary units, e.g. `12.3 MiB`.
 *
 * @param bytes Byte count.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Options for {@link DownloadProgress}. */
export interface DownloadProgressOptions {
  /** What is downloading, e.g. `gpt2/model.safetensors`. */
  label: string;
  /** Expected bytes, when the server said. */
  total?: number;
  /** Output. */
  sink: ProgressSink;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /** Minimum time between terminal redraws (default 100 ms). */
  redrawMs?: number;
  /** Minimum time between log lines (default 10 s). */
  logEveryMs?: number;
}

/** Progress of one download. */
export class DownloadProgress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #sink: ProgressSink;
  readonly #terminal: boolean;
  readonly #now: () => number;
  readonly #redrawMs: number;
  readonly #logEveryMs: number;
  readonly #start: number;
  #done = 0;
  #lastDraw: number;

  /** @param options Label, expected size, output. */
  constructor(options: DownloadProgressOptions) {
    this.#label = options.label;
    this.#total = options.total;
    this.#sink = options.sink;
    this.#terminal = options.sink.isTerminal();
    this.#now = options.now ?? (() => performance.now());
    this.#redrawMs = options.redrawMs ?? 100;
    this.#logEveryMs = options.logEveryMs ?? 10_000;
    this.#start = this.#now();
    this.#lastDraw = this.#start;
    if (this.#terminal) this.#draw();
    else {
      const size = this.#total === undefined ? "" : ` (${formatBytes(this.#total)})`;
      this.#sink.write(`downloading ${this.#label}${size}\n`);
    }
  }

  /** Bytes received so far. */
  get done(): number {
    return this.#done;
  }

  /**
   * Record received bytes.
   *
   * @param bytes How many arrived.
   */
  add(bytes: number): void {
    this.#done += bytes;
    const now = this.#now();
    if (now - this.#lastDraw < (this.#terminal ? this.#redrawMs : this.#logEveryMs)) return;
    this.#lastDraw = now;
    if (this.#terminal) this.#draw();
    else this.#sink.write(`  ${this.#label}: ${this.#amount()}\n`);
  }

  /** Close the line with a summary. */
  finish(): void {
    const seconds = (this.#now() - this.#start) / 1000;
    const summary = `${formatBytes(this.#done)} in ${seconds.toFixed(1)} s`;
    if (this.#terminal) {
      this.#draw();
      this.#sink.write(`\n`);
    } else this.#sink.write(`  ${this.#label}: done, ${summary}\n`);
  }

  #amount(): string {
    const seconds = Math.max((this.#now() - this.#start) / 1000, 1e-3);
    const rate = `${formatBytes(this.#done / seconds)}/s`;
    if (this.#total === undefined || this.#total === 0) {
      return `${formatBytes(this.#done)} ${rate}`;
    }
    const percent = Math.min(100, (100 * this.#done) / this.#total).toFixed(0).padStart(3);
    return `${percent}% ${formatBytes(this.#done)}/${formatBytes(this.#total)} ${rate}`;
  }

  #draw(): void {
    const width = 24;
    let bar = "";
    if (this.#total) {
      const filled = Math.min(width, Math.round((width * this.#done) / this.#total));
      bar = `[${"#".repeat(filled)}${" ".repeat(width - filled)}] `;
    }
    // \x1b[K clears what a longer previous line left behind.
    this.#sink.write(`\r${this.#label} ${bar}${this.#amount()}\x1b[K`);
  }
}
