/**
 * Beam search on WebGPU (ignored, and reported as such, where no adapter exists): each family's
 * tiny checkpoint reproduces the independent reference token for token, with the KV cache
 * reordered on the device, and repeated searches leave no tensor behind.
 */

import assert from "node:assert/strict";
import { memory } from "../../core/mod.ts";
import { gpuTest } from "../webgpu/setup.ts";
import { assertMatchesCase, beamSubject, optionsOf } from "./beam_fixture.ts";

for (const family of ["gpt2", "llama", "qwen2", "opt", "t5"]) {
  const subject = await beamSubject(family);
  const name = `beam search on ${subject.fixture.checkpoint} matches the reference on WebGPU`;
  if (subject.ignore) {
    console.warn(`${name}: ignored: ${subject.ignore}`);
    Deno.test({ name, ignore: true, fn: () => {} });
    continue;
  }
  gpuTest(name, async () => {
    const model = await subject.load("webgpu");
    let worst = 0;
    for (const c of subject.fixture.cases) {
      const got = await model.generate(c.prompts, optionsOf(c));
      worst = Math.max(
        worst,
        assertMatchesCase(got, c, 1e-4, `${subject.fixture.checkpoint} webgpu`),
      );
    }
    assert.ok(worst < 1e-4);
    const c = subject.fixture.cases[1];
    const before = memory();
    for (let i = 0; i < 2; i++) await model.generate(c.prompts, optionsOf(c));
    assert.deepEqual(memory(), before);
    model.dispose();
  });
}
