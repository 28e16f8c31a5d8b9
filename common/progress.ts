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
  /**
   * Optional: receive training progress as data instead of text. When present, a
   * {@link Progress} calls it on every update and once at the end, and writes no text.
   */
  progress?(event: ProgressEvent): void;
}

/** Training progress as data, for a {@link ProgressSink} that draws its own. */
export interface ProgressEvent {
  /** What is running, e.g. `ppo`. */
  label: string;
  /** Steps done. */
  step: number;
  /** Total steps, when known. */
  total: number | undefined;
  /** Steps per second since the run (or the resume) began. */
  stepsPerSecond: number;
  /** Seconds left at that rate, when the total is known. */
  etaSeconds: number | undefined;
  /** The latest metrics, under the names the run logs them. */
  stats: Readonly<Record<string, number>>;
  /** True for the last event of the run. */
  done: boolean;
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

let currentSink: ProgressSink = stderrSink;

/**
 * The sink every trainer, loop and download writes progress to unless it is given one: standard
 * error until {@link setProgressSink} replaces it.
 */
export function progressSink(): ProgressSink {
  return currentSink;
}

/**
 * Replace the default progress sink (for every trainer, loop and download that is not given one
 * of its own); returns the previous one so a caller can put it back.
 *
 * @example
 * ```ts
 * import { setProgressSink } from "@tether/rlhf/report";
 * const lines: string[] = [];
 * const previous = setProgressSink({
 *   isTerminal: () => false,
 *   write: (text) => lines.push(text),
 * });
 * // ... train ...
 * setProgressSink(previous);
 * ```
 *
 * @param sink The new default.
 */
export function setProgressSink(sink: ProgressSink): ProgressSink {
  const previous = currentSink;
  currentSink = sink;
  return previous;
}

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
    this.#sink = options.sink ?? currentSink;
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
  /** Total optimizer steps, when known (then the line shows a bar and an ETA). */
  total?: number;
  /** Steps already done when this run starts (a resume), so the rate counts only new ones. */
  start?: number;
  /** In a log (not a terminal), print a line every this many steps (default 10). */
  every?: number;
  /** Output (default: {@link progressSink}, standard error unless replaced). */
  sink?: ProgressSink;
  /** Minimum time between redraws on a terminal (default 100 ms). */
  redrawMs?: number;
  /** Clock in milliseconds (injectable for tests; default `performance.now`). */
  now?: () => number;
}

/**
 * Training progress: steps done, the rate, the time left and the latest metrics under the names
 * the run logs them, e.g. `ppo step 12/30 | 1.25 s/step | ETA 0:23 | env/reward_mean 1.2345`.
 * On a terminal the line is redrawn in place with a bar after the step count; in a log a line is
 * printed every `every` steps and at the last step. A sink with a `progress` method receives
 * each update as a {@link ProgressEvent} instead.
 *
 * @example
 * ```ts
 * import { Progress } from "@tether/rlhf/report";
 * const progress = new Progress({ label: "ppo", total: 30 });
 * for (let step = 1; step <= 30; step++) {
 *   progress.update(step, { "env/reward_mean": 0.1 * step });
 * }
 * progress.finish();
 * ```
 */
export class Progress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #start: number;
  readonly #every: number;
  readonly #line: ProgressLine;
  readonly #sink: ProgressSink;
  #step: number;
  #stats: Readonly<Record<string, number>> = {};
  #done = false;

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
    const start = options.start ?? 0;
    if (!(Number.isInteger(start) && start >= 0)) {
      throw new Error(`Progress: start must be an integer >= 0, got ${start}`);
    }
    this.#label = options.label;
    this.#total = options.total;
    this.#start = start;
    this.#step = start;
    this.#every = every;
    this.#sink = options.sink ?? currentSink;
    this.#line = new ProgressLine({ ...options, sink: this.#sink });
  }

  /**
   * Record that `step` optimizer steps are done, with the latest metrics.
   *
   * @param step Steps completed.
   * @param stats Metrics to show (a few, under the names the run logs them).
   */
  update(step: number, stats: Readonly<Record<string, number>> = {}): void {
    this.#step = step;
    this.#stats = stats;
    if (this.#sink.progress) return this.#sink.progress(this.#event(false));
    this.#line.update(
      () => this.#describe(this.#line.terminal),
      this.#isLogStep(),
    );
  }

  /** Draw the final state and end the line (only the first call does anything). */
  finish(): void {
    if (this.#sink.progress) {
      if (!this.#done) this.#sink.progress(this.#event(true));
      this.#done = true;
      return;
    }
    // In a log, the last step gets a line unless the cadence already printed it.
    this.#line.finish(
      () => this.#describe(true),
      this.#isLogStep() ? undefined : () => this.#describe(false),
    );
  }

  #isLogStep(): boolean {
    return this.#step % this.#every === 0 || this.#step === this.#total;
  }

  #event(done: boolean): ProgressEvent {
    const stepsPerSecond = (this.#step - this.#start) / this.#line.seconds();
    const total = this.#total;
    const etaSeconds = total === undefined || stepsPerSecond <= 0
      ? undefined
      : Math.max(0, total - this.#step) / stepsPerSecond;
    return {
      label: this.#label,
      step: this.#step,
      total,
      stepsPerSecond,
      etaSeconds,
      stats: this.#stats,
      done,
    };
  }

  #describe(withBar: boolean): string {
    const e = this.#event(false);
    const of = e.total === undefined ? "" : `/${e.total}`;
    let head = `${this.#label} step ${e.step}${of}`;
    if (withBar && e.total !== undefined && e.total > 0) {
      const width = 20;
      const filled = Math.min(width, Math.round((width * e.step) / e.total));
      head += ` [${"#".repeat(filled)}${" ".repeat(width - filled)}]`;
    }
    const parts = [head, formatRate(e.stepsPerSecond)];
    if (e.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(e.etaSeconds)}`);
    for (const [k, v] of Object.entries(e.stats)) parts.push(`${k} ${formatMetric(v)}`);
    return parts.join(" | ");
  }
}

/**
 * A step rate as people read it: `3.10 steps/s` from one step a second up, `1.25 s/step` below.
 *
 * @param stepsPerSecond Steps per second.
 */
export function formatRate(stepsPerSecond: number): string {
  if (!(stepsPerSecond > 0)) return "- steps/s";
  return stepsPerSecond >= 1
    ? `${stepsPerSecond.toFixed(2)} steps/s`
    : `${(1 / stepsPerSecond).toFixed(2)} s/step`;
}

/**
 * Seconds as `m:ss`, or `h:mm:ss` from an hour up.
 *
 * @param seconds A duration.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
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
