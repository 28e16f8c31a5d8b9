// The f32 cpu backend's storage arena: zero-filled, never overlapping blocks; freed neighbours
// merge so larger requests reuse them; a growing buffer (a KV cache) and a repeated step keep the
// reserved memory flat; a double free is an error.

import assert from "node:assert/strict";
import {
  allocShared,
  arenaBytes,
  CHUNK_BYTES,
  releaseShared,
} from "../../core/backends/cpu/storage_pool.ts";
import { Generator } from "../../core/random.ts";

Deno.test("arena: blocks are zero-filled and never overlap (random alloc/free)", () => {
  const g = new Generator(3);
  const live: { a: Float32Array; tag: number }[] = [];
  for (let step = 0; step < 400; step++) {
    if (live.length && g.next() < 0.45) {
      const { a, tag } = live.splice(g.int(live.length), 1)[0];
      assert.ok(a.every((x) => x === tag), "a live block was overwritten");
      releaseShared(a);
    } else {
      const a = allocShared(1024 + g.int(200_000));
      assert.ok(a.every((x) => x === 0), "not zero-filled");
      const tag = step + 1;
      a.fill(tag);
      live.push({ a, tag });
    }
  }
  for (const { a, tag } of live) {
    assert.ok(a.every((x) => x === tag));
    releaseShared(a);
  }
});

Deno.test("arena: freed neighbours merge and serve a larger request", () => {
  const n = (CHUNK_BYTES / 4) / 4;
  // Fill a fresh chunk with four quarters, free them, then ask for the whole chunk.
  const big = allocShared(CHUNK_BYTES / 4); // takes a whole chunk (or a merged free one)
  releaseShared(big);
  const before = arenaBytes().reserved;
  const parts = [0, 1, 2, 3].map(() => allocShared(n));
  for (const p of [parts[1], parts[3], parts[0], parts[2]]) releaseShared(p);
  const whole = allocShared(CHUNK_BYTES / 4);
  assert.equal(arenaBytes().reserved, before, "the merged quarters should have served it");
  releaseShared(whole);
});

Deno.test("arena: a growing cache and a repeated step keep the reservation flat", () => {
  let cache = allocShared(4096);
  for (let t = 0; t < 50; t++) {
    const grown = allocShared(4096 * (t + 2));
    grown.set(cache);
    releaseShared(cache);
    cache = grown;
  }
  releaseShared(cache);
  const step = () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6].map((k) => allocShared(k * 100_000));
    for (const x of xs.reverse()) releaseShared(x);
  };
  step();
  const reserved = arenaBytes().reserved;
  for (let i = 0; i < 20; i++) step();
  assert.equal(arenaBytes().reserved, reserved);
});

Deno.test("arena: a block freed twice is an error", () => {
  const a = allocShared(5000);
  releaseShared(a);
  assert.throws(() => releaseShared(a), /freed twice/);
});
