/**
 * A training progress line: redrawn in place on a terminal, otherwise a plain line every few
 * steps, so CI logs stay readable.
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

const encoder = new TextEncoder();

/** A sink writing to the process's standard error. */
export const stderrProgressSink: ProgressSink = {
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

/** Options of {@link Progress}. */
export interface TrainingProgressOptions {
  /** Shown first on the line, e.g. `dpo`. */
  label: string;
  /** Total optimizer steps, when known. */
  total?: number;
  /** In a log (not a terminal), print a line every this many steps (default 10). */
  every?: number;
  /** Output (default: standard error). */
  sink?: ProgressSink;
  /** Minimum time between redraws on a terminal (default 100 ms). */
  redrawMs?: number;
  /** Clock in milliseconds (injectable for tests; default `performance.now`). */
  now?: () => number;
}

/** Steps done, rate and the latest metrics of a training run. */
export class Progress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #every: number;
  readonly #sink: ProgressSink;
  readonly #terminal: boolean;
  readonly #redrawMs: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #step = 0;
  #stats: Readonly<Record<string, number>> = {};
  #finished = false;

  /**
   * Start tracking a run.
   *
   * @param options Label, total, cadence and output.
   */
  constructor(options: TrainingProgressOptions) {
    const every = options.every ?? 10;
    if (!(Number.isInteger(every) && every >= 1)) {
      throw new Error(`Progress: every must be an integer >= 1, got ${every}`);
    }
    this.#label = options.label;
    this.#total = options.total;
    this.#every = every;
    this.#sink = options.sink ?? stderrProgressSink;
    this.#terminal = this.#sink.isTerminal();
    this.#redrawMs = options.redrawMs ?? 100;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /**
   * Record that `step` optimizer steps are done, with the latest metrics.
   *
   * @param step Steps completed.
   * @param stats Metrics to show (a few short ones: loss, accuracy).
   */
  update(step: number, stats: Readonly<Record<string, number>> = {}): void {
    this.#step = step;
    this.#stats = stats;
    if (this.#terminal) {
      const now = this.#now();
      if (now - this.#lastDraw >= this.#redrawMs) {
        this.#lastDraw = now;
        // \x1b[K clears what a longer previous line left behind.
        this.#sink.write(`\r${this.#describe(now)}\x1b[K`);
      }
    } else if (step % this.#every === 0 || step === this.#total) {
      this.#sink.write(`${this.#describe(this.#now())}\n`);
    }
  }

  #describe(now: number): string {
    const seconds = Math.max(1e-3, (now - this.#start) / 1000);
    const of = this.#total === undefined ? "" : `/${this.#total}`;
    const rate = (this.#step / seconds).toFixed(2);
    const stats = Object.entries(this.#stats).map(([k, v]) => `${k} ${formatNumber(v)}`);
    return [`${this.#label} step ${this.#step}${of}`, `${rate} steps/s`, ...stats].join(" | ");
  }

  /** Draw the final state (once) and end the line on a terminal. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#terminal) {
      this.#sink.write(`\r${this.#describe(this.#now())}\x1b[K\n`);
    } else if (this.#step % this.#every !== 0 && this.#step !== this.#total) {
      this.#sink.write(`${this.#describe(this.#now())}\n`);
    }
  }
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
