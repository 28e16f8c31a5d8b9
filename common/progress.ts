/**
 * Progress lines for downloads (bytes) and training (steps), with one drawing policy: on a
 * terminal the line is redrawn in place, a few times a second at most; anywhere else (a CI log,
 * a file) a plain line is printed now and then, so logs stay readable.
 *
 * This folder depends on nothing else in the project, so data, models, reward and the
 * algorithms can all use it without importing one another.
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
 * Format a byte count with binary units, e.g. `12.3 MiB` (whole bytes below 1 KiB).
 *
 * @param bytes Byte count (a rate may be fractional).
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

interface LineOptions {
  sink?: ProgressSink;
  redrawMs?: number;
  logEveryMs?: number;
  now?: () => number;
}

/** The drawing policy every progress kind shares. */
class ProgressLine {
  readonly terminal: boolean;
  readonly #sink: ProgressSink;
  readonly #redrawMs: number;
  readonly #logEveryMs: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #finished = false;

  constructor(options: LineOptions) {
    this.#sink = options.sink ?? stderrSink;
    this.terminal = this.#sink.isTerminal();
    this.#redrawMs = options.redrawMs ?? 100;
    this.#logEveryMs = options.logEveryMs ?? Infinity;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Seconds since the start, at least 1 ms so rates stay finite. */
  seconds(): number {
    return Math.max(1e-3, (this.#now() - this.#start) / 1000);
  }

  /**
   * On a terminal, redraw when the last frame is `redrawMs` old; in a log, print a line when
   * `logDue` says so, else when the last line is `logEveryMs` old.
   */
  update(text: () => string, logDue?: boolean): void {
    const now = this.#now();
    const gap = now - this.#lastDraw;
    if (this.terminal ? gap >= this.#redrawMs : logDue ?? gap >= this.#logEveryMs) {
      this.#lastDraw = now;
      this.#emit(text());
    }
  }

  /** A plain line in a log (nothing on a terminal); the log cadence counts from here. */
  print(text: string): void {
    if (this.terminal) return;
    this.#lastDraw = this.#now();
    this.#sink.write(`${text}\n`);
  }

  /** Once: the final frame and a newline on a terminal, `lastLine` (when given) in a log. */
  finish(frame: () => string, lastLine?: () => string): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.terminal) {
      this.#emit(frame());
      this.#sink.write("\n");
    } else if (lastLine !== undefined) {
      this.#sink.write(`${lastLine()}\n`);
    }
  }

  #emit(text: string): void {
    // \x1b[K clears what a longer previous frame left behind.
    this.#sink.write(this.terminal ? `\r${text}\x1b[K` : `${text}\n`);
  }
}

/** What a byte progress line shows, already formatted. */
export interface TransferState {
  /** What is being transferred. */
  readonly label: string;
  /** Bytes so far, e.g. `3.0 KiB`. */
  readonly bytes: string;
  /** Expected bytes, when known. */
  readonly size: string | undefined;
  /** Share of the expected bytes, padded (` 75%`), when the total is known and positive. */
  readonly percent: string | undefined;
  /** Bytes per second, e.g. `1.5 KiB/s`. */
  readonly rate: string;
  /** Seconds since the start (at least 1 ms). */
  readonly seconds: number;
}

/** How the lines of a {@link ProgressBar} read. */
export interface TransferWording {
  /** Amount, percentage and rate: the body of every frame and line. */
  amount(state: TransferState): string;
  /** The first line in a log. */
  start(state: TransferState): string;
  /** A line printed now and then in a log. */
  line(state: TransferState): string;
  /** The last line in a log. */
  done(state: TransferState): string;
}

/** The default wording: `imdb train:  75% 3.0 KiB of 4.0 KiB, 1.5 KiB/s`. */
export const transferWording: TransferWording = {
  amount: (s) =>
    s.percent === undefined
      ? `${s.bytes}, ${s.rate}`
      : `${s.percent} ${s.bytes} of ${s.size}, ${s.rate}`,
  start: (s) => `${s.label}: starting${s.size === undefined ? "" : ` (${s.size})`}`,
  line: (s) => `${s.label}: ${transferWording.amount(s)}`,
  done: (s) => `${s.label}: done, ${transferWording.amount(s)}`,
};

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
  /** How the lines read (default {@link transferWording}). */
  wording?: TransferWording;
}

/**
 * Byte progress for a transfer. On a terminal a bar is drawn at once and redrawn in place; in a
 * log a "starting" line is printed at once, then a line every `logEveryMs`, then a "done" line.
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
  readonly #total: number | undefined;
  readonly #wording: TransferWording;
  readonly #line: ProgressLine;
  #done = 0;

  /**
   * Start tracking.
   *
   * @param options Label, total and output.
   */
  constructor(options: ProgressOptions) {
    this.#label = options.label;
    this.#total = options.total;
    this.#wording = options.wording ?? transferWording;
    this.#line = new ProgressLine({
      sink: options.sink,
      redrawMs: options.redrawMs,
      logEveryMs: options.logEveryMs ?? 5000,
      now: options.now,
    });
    if (this.#line.terminal) this.#line.update(() => this.#frame());
    else this.#line.print(this.#wording.start(this.#state()));
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
    this.#line.update(() =>
      this.#line.terminal ? this.#frame() : this.#wording.line(this.#state())
    );
  }

  /** Draw the final state and end the line (only the first call does anything). */
  finish(): void {
    this.#line.finish(() => this.#frame(), () => this.#wording.done(this.#state()));
  }

  #state(): TransferState {
    const total = this.#total;
    const seconds = this.#line.seconds();
    return {
      label: this.#label,
      bytes: formatBytes(this.#done),
      size: total === undefined ? undefined : formatBytes(total),
      percent: total !== undefined && total > 0
        ? `${Math.min(100, (100 * this.#done) / total).toFixed(0).padStart(3)}%`
        : undefined,
      rate: `${formatBytes(Math.round(this.#done / seconds))}/s`,
      seconds,
    };
  }

  #frame(): string {
    let bar = "";
    if (this.#total !== undefined && this.#total > 0) {
      const width = 24;
      const filled = Math.min(width, Math.round((width * this.#done) / this.#total));
      bar = `[${"#".repeat(filled)}${" ".repeat(width - filled)}] `;
    }
    return `${this.#label} ${bar}${this.#wording.amount(this.#state())}`;
  }
}

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

/**
 * Training progress: steps done, steps per second and the latest metrics, e.g.
 * `sft step 20/100 | 3.10 steps/s | loss 1.2345`. In a log a line is printed every `every` steps
 * and at the last step.
 */
export class Progress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #every: number;
  readonly #line: ProgressLine;
  #step = 0;
  #stats: Readonly<Record<string, number>> = {};

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
    this.#line = new ProgressLine(options);
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
    this.#line.update(() => this.#describe(), this.#isLogStep());
  }

  /** Draw the final state and end the line (only the first call does anything). */
  finish(): void {
    const describe = () => this.#describe();
    // In a log, the last step gets a line unless the cadence already printed it.
    this.#line.finish(describe, this.#isLogStep() ? undefined : describe);
  }

  #isLogStep(): boolean {
    return this.#step % this.#every === 0 || this.#step === this.#total;
  }

  #describe(): string {
    const of = this.#total === undefined ? "" : `/${this.#total}`;
    const rate = (this.#step / this.#line.seconds()).toFixed(2);
    const stats = Object.entries(this.#stats).map(([k, v]) => `${k} ${formatMetric(v)}`);
    return [`${this.#label} step ${this.#step}${of}`, `${rate} steps/s`, ...stats].join(" | ");
  }
}

/**
 * A metric in a short, fixed-width-ish form: 4 decimals, or 4 significant digits in exponent
 * form when tiny or huge.
 *
 * @param v The value.
 */
export function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
