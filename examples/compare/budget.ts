/**
 * A wall-clock budget shared by the algorithms the comparison runs: a new unit of work (a PPO
 * step, a DPO optimizer step, a ReST round) starts only when the time spent so far plus the
 * last unit's duration still fits, so no algorithm overruns by more than the variation of one
 * unit; the first unit always runs.
 *
 * @module
 */

import type { Progress } from "../../common/progress.ts";

/** Options of {@link Budget}. */
export interface BudgetOptions {
  /** Clock in milliseconds (default `performance.now`; tests pass a fake one). */
  now?: () => number;
  /** Updated after each unit with the seconds spent (`finish()` closes it). */
  progress?: Progress | null;
}

/** Seconds allowed, seconds used, units done. */
export class Budget {
  /** The budget in seconds. */
  readonly seconds: number;
  readonly #now: () => number;
  readonly #progress: Progress | null;
  #started: number | null = null;
  #lastMark = 0;
  #lastUnit = 0;
  #units = 0;

  /**
   * @param seconds Budget (> 0).
   * @param options Clock and progress line.
   */
  constructor(seconds: number, options: BudgetOptions = {}) {
    if (!(seconds > 0 && Number.isFinite(seconds))) {
      throw new Error(`Budget: seconds must be a finite number > 0, got ${seconds}`);
    }
    this.seconds = seconds;
    this.#now = options.now ?? (() => performance.now());
    this.#progress = options.progress ?? null;
  }

  /** Start the clock (the first call; later calls do nothing). */
  start(): void {
    if (this.#started !== null) return;
    this.#started = this.#now();
    this.#lastMark = this.#started;
  }

  /** Seconds since `start()` (0 before it). */
  get elapsed(): number {
    return this.#started === null ? 0 : (this.#now() - this.#started) / 1000;
  }

  /** Units completed. */
  get units(): number {
    return this.#units;
  }

  /** Whether another unit fits: always for the first, else elapsed + last unit ≤ budget. */
  canStart(): boolean {
    this.start();
    return this.#units === 0 || this.elapsed + this.#lastUnit <= this.seconds;
  }

  /** Mark a unit complete; its duration runs from the previous unit's end (or `start()`). */
  unitDone(): void {
    this.start();
    const now = this.#now();
    this.#lastUnit = (now - this.#lastMark) / 1000;
    this.#lastMark = now;
    this.#units++;
    this.#progress?.update(this.#units, { seconds: this.elapsed });
  }

  /**
   * A trainer's `shouldStop` (asked before each unit): marks the units completed since the last
   * call done, then tells whether the next one no longer fits.
   *
   * @param completed Units the trainer has completed.
   */
  exhausted(completed: number): boolean {
    while (this.#units < completed) this.unitDone();
    return !this.canStart();
  }

  /** Close the progress line. */
  finish(): void {
    this.#progress?.finish();
  }
}
