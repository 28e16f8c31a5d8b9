/** KL coefficient controllers of TRL 0.7.4 (SPEC A.8). */

/** Something that holds β and may adapt it after each step. */
export interface KlController {
  /** The current coefficient β. */
  readonly value: number;
  /** Updates β from the step's mean per-sequence KL and the number of samples it covered. */
  update(currentKl: number, nSteps: number): void;
}

/**
 * Adaptive controller (Ziegler et al. 2019): β ← β·(1 + e·n/H) with the proportional error
 * e = clip(KL/target − 1, −0.2, 0.2).
 */
export class AdaptiveKlController implements KlController {
  value: number;
  /** β starts at `initKlCoef` and moves toward `target` KL over `horizon` samples. */
  constructor(initKlCoef: number, readonly target: number, readonly horizon: number) {
    if (!(target > 0)) throw new Error(`AdaptiveKlController: target must be > 0, got ${target}`);
    if (!(horizon > 0)) {
      throw new Error(`AdaptiveKlController: horizon must be > 0, got ${horizon}`);
    }
    this.value = initKlCoef;
  }

  /** β ← β·(1 + e·nSteps/horizon). */
  update(currentKl: number, nSteps: number): void {
    const error = Math.min(Math.max(currentKl / this.target - 1, -0.2), 0.2);
    this.value *= 1 + (error * nSteps) / this.horizon;
  }
}

/** A controller whose β never changes. */
export class FixedKlController implements KlController {
  /** β stays at `value`. */
  constructor(readonly value: number) {}
  /** Does nothing: β is fixed. */
  update(_currentKl: number, _nSteps: number): void {}
}
