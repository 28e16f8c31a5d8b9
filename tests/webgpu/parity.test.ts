/**
 * Every kernel of the CPU backend against its WebGPU twin on random inputs: forward values and
 * gradients within 1e-4 (see compare.ts for the metric), token ids and argmax indices exactly.
 * A last test checks that the cases exercised every op the CPU backend registers.
 */

import { findKernel, Generator, kernelsFor, registerKernel, tidy } from "../../core/mod.ts";
import { parityError, worstElement } from "./compare.ts";
import { type ParityCase, parityCases } from "./parity_cases.ts";
import { gpu, gpuTest } from "./setup.ts";

const TOLERANCE = 1e-4;

// Record which WebGPU kernels the parity cases reach (only while a case runs on WebGPU).
const exercised = new Set<string>();
let recording = false;
if (gpu) {
  for (const op of kernelsFor("webgpu")) {
    const kernel = findKernel(op, "webgpu")!;
    registerKernel(op, "webgpu", (inputs, outputs, attrs, backend) => {
      if (recording) exercised.add(op);
      kernel(inputs, outputs, attrs, backend);
    });
  }
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

async function runOn(backend: string, c: ParityCase): Promise<Record<string, Float32Array>> {
  const results = tidy(() => c.run(backend, new Generator(seedOf(c.name))));
  const out: Record<string, Float32Array> = {};
  try {
    for (const [k, t] of Object.entries(results)) out[k] = await t.toArray();
  } finally {
    for (const t of Object.values(results)) t.dispose();
  }
  return out;
}

for (const c of parityCases) {
  gpuTest(`parity: ${c.name}`, async () => {
    recording = true;
    let actual: Record<string, Float32Array>;
    try {
      actual = await runOn("webgpu", c);
    } finally {
      recording = false;
    }
    const expected = await runOn("cpu", c);
    const failures: string[] = [];
    for (const [k, e] of Object.entries(expected)) {
      const a = actual[k];
      if (!a) {
        failures.push(`${k}: missing on webgpu`);
        continue;
      }
      const err = c.exact
        ? (a.length === e.length && a.every((v, i) => v === e[i]) ? 0 : Infinity)
        : parityError(a, e);
      if (!(err <= TOLERANCE)) {
        failures.push(`${k}: error ${err.toExponential(2)} (${worstElement(a, e)})`);
      }
    }
    if (failures.length) throw new Error(`${c.name}:\n  ${failures.join("\n  ")}`);
  });
}

/**
 * CPU kernels whose op runs as a composition of other ops on a backend without them (the
 * frontend checks for the kernel); their parity cases compare the fused CPU op with that
 * composition on WebGPU ("rmsNorm ...", "linear ...").
 */
const COMPOSED_ON_WEBGPU = new Set(["linear", "rmsNorm", "rmsNormGrad"]);

gpuTest("parity: the cases exercised every CPU op on WebGPU", () => {
  const cpuOps = kernelsFor("cpu").sort();
  const webgpuOps = new Set(kernelsFor("webgpu"));
  const noKernel = cpuOps.filter((op) => !webgpuOps.has(op) && !COMPOSED_ON_WEBGPU.has(op));
  const untested = cpuOps.filter((op) => webgpuOps.has(op) && !exercised.has(op));
  if (noKernel.length || untested.length) {
    throw new Error(
      `ops without a WebGPU kernel: ${noKernel.join(", ") || "none"}; ` +
        `ops no parity case reached: ${untested.join(", ") || "none"}`,
    );
  }
});
