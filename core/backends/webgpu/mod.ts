/**
 * The WebGPU backend's public surface: `initWebGPU()` to open it, the backend class (counters,
 * pool statistics, and `dispatch` for custom WGSL kernels), and the device types it reports.
 * Importing this module touches no GPU; only `initWebGPU()` requests an adapter.
 * @module
 */

export { initWebGPU, type InitWebGPUOptions } from "./init.ts";
export {
  type Grid,
  Params,
  WebGPUBackend,
  type WebGPUBackendOptions,
  type WebGPULimits,
} from "./backend.ts";
export {
  adapterIsFallback,
  type DeviceInfo,
  type DeviceOptions,
  findAdapter,
  type GpuLimits,
  NoWebGPUError,
  WANTED_FEATURES,
} from "./device.ts";
export { bucketBytes, GpuBuffer } from "./pool.ts";
