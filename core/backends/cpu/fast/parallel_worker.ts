/**
 * A helper thread of `parallel.ts`: runs the range kernels it is sent on memory it shares with
 * the main thread, then counts itself done. Errors are reported through the shared message
 * buffer, never thrown past the handler (the main thread is blocked waiting for the count).
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { findRangeKernel, type RangeArg } from "./range_kernels.ts";

const { control, message } = workerData as { control: Int32Array; message: Uint8Array };
const utf8 = new TextEncoder();

interface SharedView {
  sab: SharedArrayBuffer;
  kind: "f32" | "f64" | "i32";
  offset: number;
  length: number;
}

/** The main thread's argument back from its encoding (see `encode` in parallel.ts). */
function decode(a: unknown): RangeArg {
  if (!(a && typeof a === "object" && "sab" in a)) return a as RangeArg;
  const { sab, kind, offset, length } = a as SharedView;
  if (kind === "f32") return new Float32Array(sab, offset, length);
  if (kind === "f64") return new Float64Array(sab, offset, length);
  return new Int32Array(sab, offset, length);
}

parentPort!.on("message", (m: { name: string; args: unknown[]; start: number; end: number }) => {
  try {
    findRangeKernel(m.name)(m.args.map(decode), m.start, m.end);
  } catch (e) {
    const text = utf8.encode(e instanceof Error ? e.message : String(e));
    message.fill(0);
    message.set(text.subarray(0, message.length - 1));
    Atomics.store(control, 2, 1);
  } finally {
    if (Atomics.sub(control, 0, 1) === 1) Atomics.notify(control, 0);
  }
});
Atomics.add(control, 1, 1);
