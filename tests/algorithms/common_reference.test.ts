// The one Reference type: a frozen copy swaps the starting weights in and back out (also when
// the work throws or its promise rejects), PPO's own frozen copy trains exactly as a separately
// loaded reference does, and PPO takes a LoRA policy as it is, with adapters off as reference.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { add, noGrad, tensor } from "../../core/mod.ts";
import { PPOTrainer, Reference, tokenLogprobs } from "../../algorithms/ppo/mod.ts";
import { applyLora, loadCausalLM } from "../../models/mod.ts";
import { configOf, e2e, TinyLMWithValueHead } from "./ppo_tiny_lm.ts";

const weights = (m: { parameters(): { toArraySync(): Float32Array }[] }) =>
  m.parameters().map((p) => Array.from(p.toArraySync()));

const dispose = (...ms: { parameters(): { dispose(): void }[] }[]) => {
  for (const m of ms) for (const p of m.parameters()) p.dispose();
};

Deno.test("a frozen copy computes the starting weights and always swaps the policy's back", async () => {
  const policy = new TinyLMWithValueHead(e2e.init_params, "cpu");
  const start = weights(policy);
  const ref = Reference.frozenCopy(policy);
  // Training moves the policy's weights.
  noGrad(() => {
    const moved = policy.parameters().map((p) => add(p, 0.25));
    policy.parameters().forEach((p, i) =>
      p.backend.write(p.storage.handle, moved[i].toArraySync(), 0)
    );
    for (const t of moved) t.dispose();
  });
  const now = weights(policy);
  assert.notDeepEqual(now, start);
  assert.deepEqual(ref.run((m) => weights(m as TinyLMWithValueHead)), start, "inside: the copy");
  assert.deepEqual(weights(policy), now, "after: the policy's own");
  assert.throws(() =>
    ref.run(() => {
      throw new Error("boom");
    }), /boom/);
  assert.deepEqual(weights(policy), now, "swapped back after a throw");
  await assert.rejects(() =>
    ref.run(async () => {
      await Promise.resolve();
      throw new Error("late");
    }), /late/);
  assert.deepEqual(weights(policy), now, "swapped back after a rejection");
  const seenDuring = await ref.run(async (m) => {
    await new Promise((r) => setTimeout(r, 1));
    return weights(m as TinyLMWithValueHead);
  });
  assert.deepEqual(seenDuring, start, "held while the promise is pending");
  // Its log-probs are those of a model with the starting weights.
  const original = new TinyLMWithValueHead(e2e.init_params, "cpu");
  const ids = tensor([[1, 2, 3, 4]]), att = tensor([[1, 1, 1, 1]]);
  assert.deepEqual(
    Array.from(ref.logprobs(ids, att).toArraySync()),
    Array.from(tokenLogprobs(original, ids, att).logprobs.toArraySync()),
  );
  ref.dispose();
  dispose(policy, original);
});

Deno.test("PPOTrainer without refModel keeps its own frozen copy: the same step as a separate reference", async () => {
  const run = e2e.runs.A_defaults_mb3;
  const perms = run.minibatch_permutations_used as number[][];
  const step = async (withRef: boolean) => {
    const model = new TinyLMWithValueHead(e2e.init_params, "cpu");
    const ref = new TinyLMWithValueHead(e2e.init_params, "cpu");
    const trainer = new PPOTrainer(configOf(run.config_overrides), {
      model,
      refModel: withRef ? ref : undefined,
      padTokenId: e2e.pad_token_id,
      permutation: (_n, epoch) => perms[epoch],
      warn: () => {},
    });
    assert.equal(trainer.reference.kind, withRef ? "model" : "copy");
    const first = await trainer.step(e2e.queries, e2e.responses, e2e.scores);
    const second = await trainer.step(e2e.queries, e2e.responses, e2e.scores);
    const out = { first, second, weights: weights(model) };
    trainer.dispose();
    dispose(model, ref);
    return out;
  };
  const separate = await step(true), own = await step(false);
  assert.deepEqual(own.weights, separate.weights);
  // The second step's KL is to the starting weights, not to the policy after step one.
  assert.equal(own.second["objective/kl"], separate.second["objective/kl"]);
  assert.notEqual(own.second["objective/kl"], 0);
  assert.deepEqual(own.first, separate.first);
});

Deno.test("PPOTrainer takes a LoRA policy as it is: adapters off is the reference, only adapters and the value head train", async () => {
  const dir = fileURLToPath(new URL("../../examples/assets/tiny-imdb/policy", import.meta.url));
  const quiet = { backend: "cpu", valueHead: true, log: () => {} };
  const policy = await loadCausalLM(dir, quiet);
  const base = await loadCausalLM(dir, quiet);
  const lora = applyLora(policy, { r: 4, alpha: 8, targetModules: ["c_attn", "c_proj"] });
  const frozen = policy.parameters().filter((p) => !p.requiresGrad).map((p) =>
    Array.from(p.toArraySync())
  );
  const trainer = new PPOTrainer({ batchSize: 4, miniBatchSize: 2, learningRate: 1e-2, seed: 0 }, {
    model: policy,
    adapters: lora,
    padTokenId: 1,
    warn: () => {},
  });
  try {
    assert.equal(trainer.reference.kind, "adapters");
    const queries = [[1, 5, 9], [1, 7], [1, 12, 3], [1, 20]];
    const responses = [[30, 31, 1], [40, 2], [50, 51, 52], [60]];
    await trainer.step(queries, responses, [1, -1, 0.5, 2]);
    await trainer.step(queries, responses, [1, -1, 0.5, 2]);
    assert.deepEqual(
      policy.parameters().filter((p) => !p.requiresGrad).map((p) => Array.from(p.toArraySync())),
      frozen,
      "the base weights never move",
    );
    const trained = policy.parameters().filter((p) => p.requiresGrad).map((p) => p.name);
    assert.ok(trained.every((n) => /lora_|v_head/.test(n!)), trained.join(", "));
    // The reference is the base model exactly, while the adapted policy has moved away.
    const ids = tensor([[1, 5, 9, 30, 31]]), att = tensor([[1, 1, 1, 1, 1]]);
    base.eval();
    policy.eval();
    const want = Array.from(tokenLogprobs(base, ids, att).logprobs.toArraySync());
    assert.deepEqual(Array.from(trainer.reference.logprobs(ids, att).toArraySync()), want);
    assert.notDeepEqual(Array.from(tokenLogprobs(policy, ids, att).logprobs.toArraySync()), want);
  } finally {
    trainer.dispose();
    policy.dispose();
    base.dispose();
  }
});
