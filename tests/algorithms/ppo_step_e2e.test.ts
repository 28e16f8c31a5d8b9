// A whole PPOTrainer.step replayed against TRL 0.7.4's own step on a tiny model: the model's
// definition, initial parameters, minibatch permutations and intermediates are recorded in the
// fixture. Parameters after the Adam steps must match within 1e-5 on both backends, and the logged
// statistics (read back as f32) within the reference's float32-port tolerance.

import assert from "node:assert/strict";
import { PPOTrainer } from "../../algorithms/ppo/trainer.ts";
import { configOf, e2e, TinyLMWithValueHead } from "./ppo_tiny_lm.ts";

function close(actual: number, expected: number, rtol: number, atol: number, what: string) {
  const err = Math.abs(actual - expected);
  assert.ok(err <= atol + rtol * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

for (const [name, run] of Object.entries(e2e.runs) as [string, Record<string, unknown>][]) {
  for (const backend of ["cpu64", "cpu"]) {
    Deno.test(`PPOTrainer.step replays TRL 0.7.4 run ${name} (${backend})`, async () => {
      const model = new TinyLMWithValueHead(e2e.init_params, backend);
      const ref = new TinyLMWithValueHead(e2e.ref_params, backend);
      const perms = run.minibatch_permutations_used as number[][];
      let used = 0;
      const trainer = new PPOTrainer(configOf(run.config_overrides as Record<string, unknown>), {
        model,
        refModel: ref,
        padTokenId: e2e.pad_token_id,
        paddingSide: run.padding_side as "left" | "right",
        permutation: (_n, epoch) => {
          used++;
          return perms[epoch];
        },
        warn: () => {},
      });
      const stats = await trainer.step(e2e.queries, e2e.responses, e2e.scores);
      assert.equal(used, perms.length, "number of epochs run (early stopping)");

      // Statistics are read back as f32 by design (one readback per step), on either backend.
      const [rtol, atol] = [2e-4, 2e-5];
      const after = run.params_after as Record<string, unknown>;
      for (const [k, expected] of Object.entries(after)) {
        const got = model.params[k].toFloat64ArraySync();
        const exp = [expected].flat(2) as number[];
        for (let i = 0; i < exp.length; i++) {
          // The bar: parameters after the Adam steps within 1e-5.
          const tol = 1e-5;
          assert.ok(
            Math.abs(got[i] - exp[i]) <= tol,
            `${k}[${i}] after the step: ${got[i]} vs ${exp[i]}`,
          );
        }
      }
      close(
        trainer.klCtl.value,
        run.kl_coef_after_step as number,
        1e-12,
        0,
        "kl coef after step",
      );
      const expectedStats = run.stats as Record<string, unknown>;
      let compared = 0;
      for (const [k, v] of Object.entries(expectedStats)) {
        if (typeof v !== "number") continue;
        const got = stats[k];
        assert.equal(typeof got, "number", `stat '${k}' missing`);
        close(got as number, v, rtol, atol, `stat ${k}`);
        compared++;
      }
      assert.ok(compared >= 25, `compared only ${compared} scalar stats`);
      for (const k of ["objective/kl_dist", "tokens/queries_dist", "tokens/responses_dist"]) {
        const exp = expectedStats[k] as number[];
        (stats[k] as number[]).forEach((g, i) => close(g, exp[i], rtol, atol, `${k}[${i}]`));
      }
      for (const p of [...model.parameters(), ...ref.parameters()]) p.dispose();
    });
  }
}
