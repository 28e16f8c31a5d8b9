/**
 * A download progress bar that redraws in place on a terminal and otherwise prints a plain line
 * now and then, so CI logs stay readable.
 *
 * @module
 */

/** Where progress is written. */
export interface ProgressSink {
  /** Whether the sink is an interactive terminal (redraw in place) or a log (plain lines). */
  isTerminal(): boolean;
  /** Write text as is. */
  write(text: string): void;
}

/** Options for {@link ProgressBar}. */
export interface ProgressOptions {
  /** What is being transferred, e.g. `stanfordnlp/imdb train`. */
  label: string;
  /** Total bytes, when known. */
  total?: number;
  /** Output (default: standard error). */
  sink?: ProgressSink;
  /** Minimum time between redraws on a terminal (default 100 ms). */
  redrawMs?: number;
  /** Minimum time between plain lines in a log (default 5,000 ms). */
  logEveryMs?: number;
  /** Clock in milliseconds (injectable for tests; default `performance.now`). */
  now?: () => number;
}

const encoder = new TextEncoder();

/** A sink writing to the process's standard error. */
export const stderrSink: ProgressSink = {
  isTerminal: () => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  },
  write: (text) => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  },
};

/**
 * Format a byte count with binary units.
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
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Byte progress for a transfer.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "@tether/rlhf/data";
 * const bar = new ProgressBar({ label: "download", total: 1000 });
 * bar.add(500);
 * bar.finish();
 * ```
 */
export class ProgressBar {
  readonly #label: string;
  #total: number | undefined;
  readonly #sink: ProgressSink;
  readonly #terminal: boolean;
  readonly #redrawMs: number;
  readonly #logEveryMs: number;
  readonly #now: () => number;
  readonly #start: number;
  #done = 0;
  #lastDraw = -Infinity;
  #finished = false;

  /**
   * Start tracking; in a log (not a terminal) a "starting" line is printed at once.
   *
   * @param options Label, total and output.
   */
  constructor(options: ProgressOptions) {
    this.#label = options.label;
    this.#total = options.total;
    this.#sink = options.sink ?? stderrSink;
    this.#terminal = this.#sink.isTerminal();
    this.#redrawMs = options.redrawMs ?? 100;
    this.#logEveryMs = options.logEveryMs ?? 5000;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    if (!this.#terminal) {
      const size = this.#total === undefined ? "" : ` (${formatBytes(this.#total)})`;
      this.#sink.write(`${this.#label}: starting${size}\n`);
      this.#lastDraw = this.#start;
    }
  }

  /** Bytes transferred so far. */
  get done(): number {
    return this.#done;
  }

  /**
   * Record `bytes` more transferred.
   *
   * @param bytes Newly transferred bytes.
   */
  add(bytes: number): void {
    this.#done += bytes;
    const now = this.#now();
    const gap = this.#terminal ? this.#redrawMs : this.#logEveryMs;
    if (now - this.#lastDraw >= gap) {
      this.#lastDraw = now;
      this.#draw(now);
    }
  }

  #describe(now: number): string {
    const seconds = Math.max(1e-3, (now - this.#start) / 1000);
    const rate = `${formatBytes(Math.round(this.#done / seconds))}/s`;
    if (this.#total === undefined || this.#total <= 0) {
      return `${formatBytes(this.#done)}, ${rate}`;
    }
    const percent = Math.min(100, (100 * this.#done) / this.#total);
    return `${percent.toFixed(0).padStart(3)}% ${formatBytes(this.#done)} of ${
      formatBytes(this.#total)
    }, ${rate}`;
  }

  #draw(now: number): void {
    if (this.#terminal) {
      let bar = "";
      if (this.#total !== undefined && this.#total > 0) {
        const width = 24;
        const filled = Math.min(width, Math.round((width * this.#done) / this.#total));
        bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] `;
      }
      // \x1b[K clears what a longer previous line left behind.
      this.#sink.write(`\r${this.#label} ${bar}${this.#describe(now)}\x1b[K`);
    } else {
      this.#sink.write(`${this.#label}: ${this.#describe(now)}\n`);
    }
  }

  /** Draw the final state (once) and end the line. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const now = this.#now();
    if (this.#terminal) {
      this.#draw(now);
      this.#sink.write("\n");
    } else {
      this.#sink.write(`${this.#label}: done, ${this.#describe(now)}\n`);
    }
  }
}
