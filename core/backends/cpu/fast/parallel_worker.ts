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

parentPort!.on("message", (m: { name: string; args: RangeArg[]; start: number; end: number }) => {
  try {
    findRangeKernel(m.name)(m.args, m.start, m.end);
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
