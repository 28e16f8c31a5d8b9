/**
 * Opens the WebGPU backend once for the WebGPU tests (a software adapter is accepted: CI runs
 * them on lavapipe). Where no adapter exists, `gpu` is null, `skipReason` says why, and
 * `gpuTest` registers tests as ignored after printing the reason once.
 */

import { initWebGPU } from "../../core/backends/webgpu/init.ts";
import type { WebGPUBackend } from "../../core/backends/webgpu/backend.ts";

let backend: WebGPUBackend | null = null;
let reason: string | null = null;
try {
  backend = await initWebGPU({ allowFallback: true });
} catch (e) {
  reason = (e as Error).message;
}

/** The WebGPU backend, or null when this machine has none. */
export const gpu: WebGPUBackend | null = backend;

/** Why the WebGPU tests are skipped, or null when they run. */
export const skipReason: string | null = reason;

let told = false;

/** Deno.test that is ignored (with the reason printed once) when no WebGPU adapter exists. */
export function gpuTest(name: string, fn: (gpu: WebGPUBackend) => void | Promise<void>): void {
  if (!gpu && !told) {
    told = true;
    console.warn(`WebGPU tests skipped: ${skipReason}`);
  }
  Deno.test({
    name,
    ignore: !gpu,
    fn: async () => {
      const before = gpu!.errors.length;
      await fn(gpu!);
      await gpu!.sync();
      assertNoDeviceErrors(gpu!, before);
    },
  });
}

/** Throws when the device reported errors (invalid WGSL, validation failures) since `from`. */
export function assertNoDeviceErrors(g: WebGPUBackend, from = 0): void {
  if (g.errors.length > from) {
    throw new Error(`WebGPU device errors:\n${g.errors.slice(from, from + 5).join("\n")}`);
  }
}
