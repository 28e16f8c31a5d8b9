// Preloaded by device.test.ts into a child `deno test`: hides WebGPU as on a machine without it.
Object.defineProperty(globalThis.navigator, "gpu", { value: undefined, configurable: true });
