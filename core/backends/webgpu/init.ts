/** `initWebGPU()`: opens a device and registers the `webgpu` backend and its kernels. */

import { getBackend, listBackends, registerBackend } from "../../backend.ts";
import { WebGPUBackend, type WebGPUBackendOptions } from "./backend.ts";
import { type DeviceOptions, openDevice } from "./device.ts";
import { registerWebGPUKernels, WEBGPU } from "./register.ts";

/** Options of {@link initWebGPU}. */
export interface InitWebGPUOptions extends DeviceOptions, WebGPUBackendOptions {}

let pending: Promise<WebGPUBackend> | null = null;

/**
 * Opens a WebGPU device and registers the `webgpu` backend (once; later calls return the same
 * backend). Rejects with a `NoWebGPUError` naming the reason when there is no adapter, or when
 * the only adapter is a software fallback and `allowFallback` is not set.
 *
 * @example
 * ```ts
 * import { initWebGPU, NoWebGPUError, setBackend } from "@tether/rlhf/core";
 * try {
 *   const gpu = await initWebGPU({ allowFallback: true });
 *   setBackend("webgpu");
 *   console.log(gpu.info.adapterInfo.description);
 * } catch (error) {
 *   // No adapter here (a machine without a GPU driver or Mesa's lavapipe): stay on the CPU.
 *   if (!(error instanceof NoWebGPUError)) throw error;
 *   console.log(error.message);
 * }
 * ```
 */
export function initWebGPU(opts: InitWebGPUOptions = {}): Promise<WebGPUBackend> {
  if (listBackends().includes(WEBGPU)) {
    const b = getBackend(WEBGPU) as WebGPUBackend;
    if (b.info.isFallback && !opts.allowFallback) {
      return Promise.reject(
        new Error(
          "initWebGPU: the webgpu backend already runs on a software (fallback) adapter; pass " +
            "allowFallback: true to accept it",
        ),
      );
    }
    return Promise.resolve(b);
  }
  if (!pending) {
    pending = openDevice(opts).then((info) => {
      const backend = new WebGPUBackend(info, opts);
      registerWebGPUKernels();
      registerBackend(backend);
      return backend;
    }).finally(() => pending = null);
  }
  return pending;
}
