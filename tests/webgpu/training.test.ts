/**
 * A whole tiny GPT training step on WebGPU against the CPU backend (loss, every gradient and
 * the AdamW update within 1e-4), and a training loop on WebGPU that reads back once per step,
 * keeps live memory flat and stops creating GPU buffers once the pool is warm.
 */

import assert from "node:assert/strict";
import { Generator, memory, optim, type Tensor, tensor, tidy } from "../../core/mod.ts";
import { parityError, worstElement } from "./compare.ts";
import { gpuTest } from "./setup.ts";
import { gptBatch, type GptConfig, gptLoss, initGpt } from "./tiny_gpt.ts";

const CFG: GptConfig = { vocab: 40, context: 8, width: 32, heads: 2, layers: 2 };
const BATCH = 3;

/**
 * One step on `backend`: forward, backward, AdamW. With `grads` given, the backward is skipped
 * and AdamW consumes those gradients instead (uploaded to `backend`).
 */
async function stepOn(
  backend: string,
  grads?: Record<string, Float32Array>,
): Promise<Record<string, Float32Array>> {
  const g = new Generator(11);
  const params = initGpt(CFG, g, backend);
  const batch = gptBatch(CFG, g, BATCH, backend);
  const out: Record<string, Float32Array> = {};
  const loss = tidy(() => {
    const l = gptLoss(CFG, params, batch.ids, batch.positions, batch.mask, batch.targets);
    if (!grads) l.backward();
    return l;
  });
  out.loss = await loss.toArray();
  for (const [name, p] of Object.entries(params)) {
    if (grads) p.grad = tensor(grads[`grad ${name}`], p.shape, { backend });
    out[`grad ${name}`] = await p.grad!.toArray();
  }
  const opt = new optim.AdamW(Object.values(params), { lr: 1e-2, weightDecay: 0.01 });
  opt.step();
  for (const [name, p] of Object.entries(params)) out[`updated ${name}`] = await p.toArray();
  loss.dispose();
  for (const p of Object.values(params)) {
    for (const b of Object.values(opt.stateOf(p)?.buffers ?? {})) b.dispose();
    p.dispose();
  }
  for (const t of Object.values(batch)) t.dispose();
  return out;
}

function mismatches(
  actual: Record<string, Float32Array>,
  expected: Record<string, Float32Array>,
  prefix: string,
): string[] {
  const failures: string[] = [];
  for (const [k, e] of Object.entries(expected)) {
    if (!k.startsWith(prefix)) continue;
    const err = parityError(actual[k], e);
    if (!(err <= 1e-4)) {
      failures.push(`${k}: ${err.toExponential(2)} (${worstElement(actual[k], e)})`);
    }
  }
  return failures;
}

gpuTest("training step: loss, every gradient and the AdamW update match the CPU", async () => {
  const gpuResult = await stepOn("webgpu");
  const cpuResult = await stepOn("cpu");
  assert.equal(Object.keys(cpuResult).length, 1 + 2 * (4 + 12 * CFG.layers));
  assert.deepEqual(mismatches(gpuResult, cpuResult, "loss"), []);
  assert.deepEqual(mismatches(gpuResult, cpuResult, "grad "), []);
  assert.ok(
    cpuResult.loss[0] > 3 && cpuResult.loss[0] < 4.5,
    `loss ${cpuResult.loss[0]} near ln 40`,
  );
  // Adam's first step moves each weight by about lr·g/(|g| + eps): gradients far below the
  // tensor's scale (rounding noise where the exact gradient is 0, like the key bias's) become
  // steps of order lr, so backends whose gradients agree to 1e-4 of scale can still step such
  // weights differently. The update is therefore checked from the same gradients: the CPU's
  // AdamW fed the WebGPU gradients must land where the WebGPU step did.
  const cpuFromGpuGrads = await stepOn("cpu", gpuResult);
  assert.deepEqual(mismatches(gpuResult, cpuFromGpuGrads, "updated "), []);
});

gpuTest("training loop: one readback per step, flat memory, a warm pool", async (gpu) => {
  const g = new Generator(5);
  const params = initGpt(CFG, g, "webgpu");
  const batch = gptBatch(CFG, g, BATCH, "webgpu");
  const opt = new optim.AdamW(Object.values(params), { lr: 3e-3 });
  const losses: number[] = [];
  const snapshots: { live: ReturnType<typeof memory>; created: number; pool: number }[] = [];
  for (let step = 0; step < 6; step++) {
    const before = { ...gpu.counters };
    const loss: Tensor = tidy(() => {
      const l = gptLoss(CFG, params, batch.ids, batch.positions, batch.mask, batch.targets);
      l.backward();
      return l;
    });
    opt.step();
    opt.zeroGrad();
    losses.push(await loss.item());
    loss.dispose();
    const readbacks = gpu.counters.readbacks - before.readbacks;
    const dispatches = gpu.counters.dispatches - before.dispatches;
    const submits = gpu.counters.submits - before.submits;
    assert.equal(readbacks, 1, `step ${step}: ${readbacks} readbacks`);
    // Batched submits: the auto-flush cadence plus the readback's own submit.
    assert.ok(
      submits <= Math.ceil(dispatches / gpu.maxDispatchesPerSubmit) + 2,
      `step ${step}: ${submits} submits for ${dispatches} dispatches`,
    );
    await gpu.sync();
    snapshots.push({ live: memory(), created: gpu.stats().buffersCreated, pool: gpu.poolBytes });
  }
  assert.ok(
    losses[5] < losses[0] - 0.05,
    `loss should fall on a fixed batch: ${losses.join(", ")}`,
  );
  assert.deepEqual(snapshots[5].live, snapshots[1].live, "live tensors/storages/bytes stay flat");
  assert.equal(
    snapshots[5].created,
    snapshots[2].created,
    "no new GPU buffers once the pool is warm",
  );
  assert.equal(snapshots[5].pool, snapshots[2].pool, "pool bytes stay flat");
  for (const p of Object.values(params)) {
    for (const b of Object.values(opt.stateOf(p)?.buffers ?? {})) b.dispose();
    p.dispose();
  }
  for (const t of Object.values(batch)) t.dispose();
});
