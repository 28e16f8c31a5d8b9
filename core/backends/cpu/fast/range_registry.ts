/**
 * The table of range kernels: functions over an index range [start, end) of their work (rows,
 * heads, elements), each registered once under a name so the main thread and the helper
 * threads of `parallel.ts` run the same code on the shared memory they are handed.
 *
 * @module
 */

/** What a range kernel takes: typed arrays (shared ones when written), numbers, flags, null. */
export type RangeArg =
  | Float32Array
  | Float64Array
  | Int32Array
  | readonly number[]
  | number
  | boolean
  | null;

/** Does its part [start, end) of the work described by `args`. */
export type RangeKernel = (args: readonly RangeArg[], start: number, end: number) => void;

const table = new Map<string, RangeKernel>();

/** Registers `kernel` under `name` (modules register theirs when they load). */
export function registerRangeKernel(name: string, kernel: RangeKernel): void {
  if (table.has(name)) throw new Error(`range kernel '${name}' is registered twice`);
  table.set(name, kernel);
}

/** The kernel registered under `name`; throws naming it when none is. */
export function findRangeKernel(name: string): RangeKernel {
  const k = table.get(name);
  if (!k) throw new Error(`cpu (parallel): no range kernel '${name}' in this thread`);
  return k;
}
