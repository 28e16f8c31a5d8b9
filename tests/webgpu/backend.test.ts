/**
 * The WebGPU backend's own contract: allocations read as zeros even from recycled buffers,
 * buffer reuse never overtakes pending work, freed storage returns to the pool (which `memory()`
 * does not count), readbacks happen only when asked, and many dispatches share a submit.
 */

import assert from "node:assert/strict";
import {
  add,
  exp,
  Generator,
  memory,
  mul,
  selectBackend,
  setBackend,
  sum,
  tensor,
  tidy,
  WANTED_FEATURES,
  zeros,
} from "../../core/mod.ts";
import { gpuTest } from "./setup.ts";

const webgpu = { backend: "webgpu" };

gpuTest("recycled buffers read as zeros", async (gpu) => {
  const n = 1000;
  const a = tensor(new Float32Array(n).fill(7), [n], webgpu);
  a.dispose();
  gpu.flush();
  const reusedBefore = gpu.stats().buffersReused;
  const z = zeros([n], webgpu);
  assert.equal(gpu.stats().buffersReused, reusedBefore + 1, "the freed buffer was recycled");
  assert.deepEqual([...await z.toArray()], new Array(n).fill(0));
  // Used as a kernel input before anything wrote it.
  const y = add(z, 1);
  assert.deepEqual([...await y.toArray()], new Array(n).fill(1));
  z.dispose();
  y.dispose();
});

gpuTest("a buffer freed under pending work is not rewritten before that work runs", async () => {
  const g = new Generator(1);
  const n = 4096;
  const av = g.normal(n), bv = g.normal(n);
  const x = tensor(av, [n], webgpu);
  const y = exp(x);
  x.dispose(); // y's kernel is still only encoded
  const z = tensor(bv, [n], webgpu); // same bucket as x
  const [ya, za] = [await y.toArray(), await z.toArray()];
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(ya[i] - Math.exp(av[i])) <= 1e-5 * Math.exp(av[i]), `exp at ${i}`);
    assert.equal(za[i], bv[i]);
  }
  y.dispose();
  z.dispose();
});

gpuTest("freed storage returns to the pool; memory() counts live storage only", async (gpu) => {
  gpu.drainPool();
  const before = memory();
  const ts = [1, 10, 100, 1000, 10000].map((n) => zeros([n], webgpu));
  const live = memory();
  assert.equal(live.storages - before.storages, 5);
  assert.equal(live.bytes - before.bytes, 4 * 11111);
  for (const t of ts) t.dispose();
  await gpu.sync();
  assert.deepEqual(memory(), before);
  assert.ok(gpu.poolBytes >= 4 * 11111, `pool holds the freed buffers (${gpu.poolBytes} bytes)`);
  gpu.drainPool();
  assert.equal(gpu.poolBytes, 0);
});

gpuTest("readbacks happen only when asked", async (gpu) => {
  const g = new Generator(2);
  const w = tensor(g.normal(64 * 64), [64, 64], { backend: "webgpu", requiresGrad: true });
  const before = gpu.counters.readbacks;
  const loss = tidy(() => {
    const l = sum(mul(exp(w), w));
    l.backward();
    return l;
  });
  gpu.flush();
  assert.equal(gpu.counters.readbacks, before, "forward + backward read nothing back");
  await loss.item();
  assert.equal(gpu.counters.readbacks, before + 1);
  loss.dispose();
  w.dispose();
});

gpuTest("many dispatches share one submit", async (gpu) => {
  let x = tensor(new Float32Array(256).fill(1), [256], webgpu);
  gpu.flush();
  const before = { ...gpu.counters };
  for (let i = 0; i < 300; i++) {
    const next = add(x, 1);
    x.dispose();
    x = next;
  }
  const v = await x.toArray();
  assert.equal(v[0], 301);
  const dispatches = gpu.counters.dispatches - before.dispatches;
  const submits = gpu.counters.submits - before.submits;
  assert.ok(dispatches >= 300);
  assert.ok(
    submits <= Math.ceil(dispatches / gpu.maxDispatchesPerSubmit) + 1,
    `${submits} submits for ${dispatches} dispatches`,
  );
  x.dispose();
});

gpuTest("no synchronous reads on WebGPU", () => {
  const t = zeros([3], webgpu);
  assert.throws(() => t.toArraySync(), /cannot read synchronously; use await tensor.toArray\(\)/);
  t.dispose();
});

gpuTest("limits and features are detected from the adapter", (gpu) => {
  const l = gpu.limits;
  assert.ok(l.maxBufferBytes > 0);
  assert.equal(
    l.maxBufferBytes,
    Math.min(l.device.maxBufferSize, l.device.maxStorageBufferBindingSize),
  );
  for (const f of gpu.features) assert.ok((WANTED_FEATURES as readonly string[]).includes(f));
  for (const f of gpu.features) {
    assert.ok(gpu.device.features.has(f as GPUFeatureName), `${f} is enabled`);
  }
  assert.throws(
    () => zeros([Math.floor(l.maxBufferBytes / 4) + 1], webgpu),
    /exceed backend 'webgpu' max buffer/,
  );
});

gpuTest("selectBackend: cpu, webgpu by name, auto skips a software adapter", async (gpu) => {
  try {
    assert.equal((await selectBackend("cpu")).name, "cpu");
    const named = await selectBackend("webgpu");
    assert.equal(named.name, "webgpu");
    const auto = await selectBackend("auto", { quiet: true });
    if (gpu.info.isFallback) {
      assert.equal(auto.name, "cpu");
      assert.match(auto.reason, /software|fallback/);
    } else assert.equal(auto.name, "webgpu");
    await assert.rejects(() => selectBackend("tpu"), /unknown backend 'tpu'; use one of auto/);
  } finally {
    setBackend("cpu");
  }
});
