// PPOTrainer.step on WebGPU: TRL's recorded run lands on the same parameters, and the whole step
// reads back from the device exactly once (the packed statistics).

import assert from "node:assert/strict";
import { PPOTrainer } from "../../algorithms/ppo/trainer.ts";
import { configOf, e2e, TinyLMWithValueHead } from "../algorithms/ppo_tiny_lm.ts";
import { gpuTest } from "./setup.ts";

gpuTest("PPOTrainer.step on WebGPU replays TRL 0.7.4 with one readback", async (gpu) => {
  const run = e2e.runs.A_defaults_mb3;
  const model = new TinyLMWithValueHead(e2e.init_params, "webgpu");
  const ref = new TinyLMWithValueHead(e2e.ref_params, "webgpu");
  const perms = run.minibatch_permutations_used as number[][];
  const trainer = new PPOTrainer(configOf(run.config_overrides), {
    model,
    refModel: ref,
    padTokenId: e2e.pad_token_id,
    permutation: (_n, epoch) => perms[epoch],
    warn: () => {},
  });
  const before = gpu.counters.readbacks;
  const stats = await trainer.step(e2e.queries, e2e.responses, e2e.scores);
  assert.equal(gpu.counters.readbacks - before, 1, "device readbacks in one PPO step");
  assert.ok(Math.abs((stats["objective/kl"] as number) - run.stats["objective/kl"]) < 1e-4);
  for (const [k, expected] of Object.entries(run.params_after as Record<string, unknown>)) {
    const got = await model.params[k].toArray();
    const exp = [expected].flat(2) as number[];
    exp.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-4, `${k}[${i}]: ${got[i]} vs ${e}`));
  }
  for (const p of [...model.parameters(), ...ref.parameters()]) p.dispose();
});
