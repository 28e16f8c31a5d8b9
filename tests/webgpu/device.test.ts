/**
 * Device acquisition without relying on this machine's adapter: no WebGPU at all, no adapter,
 * and a software adapter refused unless allowed; and the WebGPU tests reporting themselves
 * skipped, with the reason, where WebGPU is missing.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { NoWebGPUError } from "../../core/mod.ts";
import { findAdapter, openDevice } from "../../core/backends/webgpu/device.ts";

/** Runs `fn` with `navigator.gpu` replaced by `gpu`. */
async function withGpu(gpu: unknown, fn: () => Promise<void>): Promise<void> {
  const nav = globalThis.navigator as unknown as Record<string, unknown>;
  const own = Object.getOwnPropertyDescriptor(nav, "gpu");
  Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  try {
    await fn();
  } finally {
    if (own) Object.defineProperty(nav, "gpu", own);
    else delete nav.gpu;
  }
}

Deno.test("device: no WebGPU in the runtime gives a clear NoWebGPUError", async () => {
  await withGpu(undefined, async () => {
    assert.equal(await findAdapter(), null);
    await assert.rejects(
      () => openDevice({ allowFallback: true }),
      (e: unknown) => e instanceof NoWebGPUError && /no adapter found/.test(e.reason),
    );
  });
});

Deno.test("device: a null adapter (no driver) names the fix", async () => {
  await withGpu({ requestAdapter: () => Promise.resolve(null) }, async () => {
    await assert.rejects(() => openDevice(), /install mesa-vulkan-drivers/);
  });
});

Deno.test("device: a software adapter is refused unless allowed", async () => {
  const adapter = {
    info: {
      vendor: "mesa",
      architecture: "",
      device: "",
      description: "llvmpipe",
      isFallbackAdapter: true,
    },
    features: new Set(),
    limits: {},
    requestDevice: () => Promise.reject(new Error("must not be reached")),
  };
  await withGpu({ requestAdapter: () => Promise.resolve(adapter) }, async () => {
    await assert.rejects(
      () => openDevice(),
      (e: unknown) =>
        e instanceof NoWebGPUError && /software fallback \(llvmpipe\)/.test(e.reason) &&
        /allowFallback/.test(e.reason),
    );
    await assert.rejects(() => openDevice({ allowFallback: true }), /must not be reached/);
  });
});

Deno.test("device: without WebGPU the WebGPU tests are ignored with the reason", async () => {
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--no-check",
      "--preload",
      here("./no_gpu_preload.ts"),
      here("./backend.test.ts"),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /WebGPU tests skipped: WebGPU: no adapter found/);
  assert.match(text, /0 passed \| 0 failed \| \d+ ignored/);
});
