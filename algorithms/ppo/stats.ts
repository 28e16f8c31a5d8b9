/** Scalar views of PPO statistics, for logs and error messages. */

/**
 * The scalar entries of a stats record (arrays and distributions left out).
 *
 * @param stats Statistics by name, as `PPOTrainer.step` returns them.
 */
export function scalarStats(
  stats: Readonly<Record<string, number | number[] | number[][]>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(stats)) {
    if (typeof value === "number") out[name] = value;
  }
  return out;
}
