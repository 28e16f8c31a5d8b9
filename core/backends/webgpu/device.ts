/**
 * Acquiring a WebGPU device: find an adapter, detect (never assume) its limits and optional
 * features, and request the ones our kernels can use.
 */

import { quietWaylandProbe } from "./quiet_probe.ts";

/** Options for opening a WebGPU device. */
export interface DeviceOptions {
  /** Accept a software (fallback) adapter such as Mesa's lavapipe. Default false. */
  allowFallback?: boolean;
  /** Adapter preference passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
}

/** What we found out about the adapter and opened on it. */
export interface DeviceInfo {
  /** The opened device. */
  device: GPUDevice;
  /** The adapter's self-description (vendor, architecture, description). */
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** True for software adapters (lavapipe, SwiftShader, WARP). */
  isFallback: boolean;
  /** Optional features enabled on the device (a subset of {@link WANTED_FEATURES}). */
  features: Set<string>;
  /** The limits the device was opened with. */
  limits: GpuLimits;
}

/** The device limits our backend depends on. */
export interface GpuLimits {
  /** Largest buffer in bytes. */
  maxBufferSize: number;
  /** Largest storage binding in bytes (every tensor buffer is bound whole). */
  maxStorageBufferBindingSize: number;
  /** Storage buffers one compute shader may bind. */
  maxStorageBuffersPerShaderStage: number;
  /** Workgroup (shared) memory per workgroup in bytes. */
  maxComputeWorkgroupStorageSize: number;
  /** Threads per workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /** Workgroups per grid dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Alignment of dynamic uniform offsets in bytes. */
  minUniformBufferOffsetAlignment: number;
}

/** Optional features requested when the adapter offers them. */
export const WANTED_FEATURES = ["shader-f16", "timestamp-query", "subgroups"] as const;

const RAISED_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** Why no device could be opened; `reason` is a sentence for the user. */
export class NoWebGPUError extends Error {
  /** Creates the error with a user-facing reason. */
  constructor(readonly reason: string) {
    super(reason);
    this.name = "NoWebGPUError";
  }
}

/** True for a software adapter (Deno 2.9 reports it on `adapter.info`, older on the adapter). */
export function adapterIsFallback(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return !!(info?.isFallbackAdapter ?? legacy);
}

/** Requests an adapter, or null when this runtime has no WebGPU or no driver. */
export async function findAdapter(
  powerPreference: GPUPowerPreference = "high-performance",
): Promise<GPUAdapter | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  quietWaylandProbe();
  try {
    return await gpu.requestAdapter({ powerPreference });
  } catch {
    return null;
  }
}

/**
 * Opens a device with the adapter's own limits (the defaults cap a storage binding at 128 MiB,
 * too small for real embedding tables) and every wanted feature the adapter offers.
 */
export async function openDevice(opts: DeviceOptions = {}): Promise<DeviceInfo> {
  const adapter = await findAdapter(opts.powerPreference);
  if (!adapter) {
    throw new NoWebGPUError(
      "WebGPU: no adapter found (no GPU driver; on Linux install mesa-vulkan-drivers for the " +
        "lavapipe software adapter)",
    );
  }
  const isFallback = adapterIsFallback(adapter);
  const info = adapter.info;
  const adapterInfo = {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
  };
  if (isFallback && !opts.allowFallback) {
    throw new NoWebGPUError(
      `WebGPU: the only adapter is a software fallback (${
        adapterInfo.description || "unknown"
      }); ` +
        `pass allowFallback: true (or --backend webgpu) to use it anyway`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  for (const name of RAISED_LIMITS) {
    const v = adapterLimits[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) =>
    adapter.features.has(f)
  ) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const l = device.limits;
  return {
    device,
    adapterInfo,
    isFallback,
    features: new Set(requiredFeatures.filter((f) => device.features.has(f))),
    limits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    },
  };
}
