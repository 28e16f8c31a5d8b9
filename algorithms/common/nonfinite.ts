/**
 * The guard that stops a run on a NaN or infinite loss before it can be saved over the last
 * good checkpoint.
 *
 * @module
 */

/** Thrown when a training loss is NaN or infinite; training stops and no checkpoint is written. */
export class NonFiniteLossError extends Error {
  /** The optimizer step (1-based) whose loss was not finite. */
  readonly step: number;
  /** The offending loss value. */
  readonly loss: number;
  /** The metrics of the last step that completed normally (empty before the first). */
  readonly lastStats: Readonly<Record<string, number>>;
  /**
   * Whether the optimizer had already applied this step's (non-finite) update: backends that
   * cannot read synchronously see the loss only in the step's single readback.
   */
  readonly afterUpdate: boolean;

  /**
   * Describe the failure.
   *
   * @param where Trainer name, for the message.
   * @param step The step whose loss was not finite.
   * @param loss The value.
   * @param lastStats Metrics of the last good step.
   * @param afterUpdate Whether this step's update was already applied.
   */
  constructor(
    where: string,
    step: number,
    loss: number,
    lastStats: Readonly<Record<string, number>>,
    afterUpdate = false,
  ) {
    const shown = Object.entries(lastStats).map(([k, v]) => `${k}=${v}`).join(", ");
    const weights = afterUpdate
      ? "the weights in memory already hold this step's update, so reload the last checkpoint"
      : "the weights in memory are those after the last good step";
    super(
      `${where}: the loss is ${loss} at step ${step}; training stopped and no checkpoint was ` +
        `written for this step (the last saved one is intact; ${weights}). Last good stats: ` +
        `${shown || "(none: it failed on the first step)"}. Lower the learning rate, ` +
        `set maxGradNorm, or check the inputs of this batch.`,
    );
    this.name = "NonFiniteLossError";
    this.step = step;
    this.loss = loss;
    this.lastStats = { ...lastStats };
    this.afterUpdate = afterUpdate;
  }
}

/**
 * Throw a {@link NonFiniteLossError} when `loss` is NaN or infinite.
 *
 * @param where Trainer name.
 * @param step The current step (1-based).
 * @param loss The loss read from the device.
 * @param lastStats Metrics of the last good step.
 * @param afterUpdate Whether this step's update was already applied.
 */
export function assertFiniteLoss(
  where: string,
  step: number,
  loss: number,
  lastStats: Readonly<Record<string, number>>,
  afterUpdate = false,
): void {
  if (!Number.isFinite(loss)) {
    throw new NonFiniteLossError(where, step, loss, lastStats, afterUpdate);
  }
}
