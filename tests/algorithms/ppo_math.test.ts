// PPO's numerical pieces against TRL 0.7.4's own functions run on fixed inputs (float64 goldens).
// Each check runs on cpu64 (tolerance near f64 rounding) and on cpu (f32; the reference's stated
// port tolerance of about 1e-5 relative).

import assert from "node:assert/strict";
import {
  maskedMean,
  maskedVar,
  maskedWhiten,
  ones,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import { computeRewards, type KlPenalty } from "../../algorithms/ppo/rewards.ts";
import { computeAdvantages } from "../../algorithms/ppo/advantages.ts";
import { entropyFromLogits, ppoLoss } from "../../algorithms/ppo/loss.ts";
import { AdaptiveKlController, FixedKlController } from "../../algorithms/ppo/kl_controller.ts";
import { RunningMoments } from "../../algorithms/ppo/running_moments.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/ppo_unit.json", import.meta.url)),
);
const inp = golden.ppo_unit_inputs;
const core = golden.core;

/** |a − b| <= atol + rtol·|b| elementwise. */
const TOL: Record<string, { rtol: number; atol: number }> = {
  cpu64: { rtol: 1e-9, atol: 1e-11 },
  cpu: { rtol: 1e-5, atol: 2e-6 },
};

/** TRL computes clip fractions from float32 indicators; the reference quotes ~1e-7 for them. */
const CLIPFRAC_RTOL = 1e-7;

function close(actual: ArrayLike<number>, expected: unknown, backend: string, what: string) {
  const exp = [expected].flat(Infinity as 1) as number[];
  assert.equal(actual.length, exp.length, `${what}: length ${actual.length} vs ${exp.length}`);
  const { atol } = TOL[backend];
  const rtol = what.endsWith("clipfrac")
    ? Math.max(TOL[backend].rtol, CLIPFRAC_RTOL)
    : TOL[backend].rtol;
  for (let i = 0; i < exp.length; i++) {
    const err = Math.abs(actual[i] - exp[i]);
    assert.ok(
      err <= atol + rtol * Math.abs(exp[i]),
      `${what}[${i}] on ${backend}: got ${actual[i]}, expected ${exp[i]} (err ${err})`,
    );
  }
}

const read = (t: Tensor) => t.toFloat64ArraySync();
const lastIndexOf = (mask: number[][]) => mask.map((row) => row.lastIndexOf(1));

for (const backend of ["cpu64", "cpu"]) {
  const T = (v: unknown) => tensor(v as number[], undefined, { backend });

  Deno.test(`trl core helpers match TRL 0.7.4 (${backend})`, () =>
    tidy(() => {
      const values = T(inp.values), mask = T(inp.mask);
      close(
        read(tokenLogProbs(T(inp.logits), T(inp.labels))),
        core["logprobs_from_logits(logits,labels)"],
        backend,
        "logprobs",
      );
      close(
        read(entropyFromLogits(T(inp.logits))),
        core["entropy_from_logits(logits)"],
        backend,
        "entropy",
      );
      close(read(maskedMean(values, mask)), core["masked_mean(values,mask)"], backend, "mean");
      close(
        read(maskedMean(values, mask, 1)),
        core["masked_mean(values,mask,axis=1)"],
        backend,
        "mean axis 1",
      );
      close(
        read(maskedVar(values, mask, true)),
        core["masked_var(values,mask,unbiased=True)"],
        backend,
        "var unbiased",
      );
      close(
        read(maskedVar(values, mask, false)),
        core["masked_var(values,mask,unbiased=False)"],
        backend,
        "var biased",
      );
      close(
        read(maskedWhiten(values, mask, true)),
        core["masked_whiten(values,mask,shift_mean=True)"],
        backend,
        "whiten",
      );
      close(
        read(maskedWhiten(values, mask, false)),
        core["masked_whiten(values,mask,shift_mean=False)"],
        backend,
        "whiten keep mean",
      );
      close(
        read(maskedWhiten(values, ones(values.shape, { backend }), true)),
        core["whiten(values) [unmasked]"],
        backend,
        "unmasked whiten",
      );
    }));

  for (const mode of ["kl", "abs", "mse", "full"] as KlPenalty[]) {
    Deno.test(`computeRewards '${mode}' matches TRL 0.7.4 (${backend})`, () =>
      tidy(() => {
        const labels = T(inp.labels);
        const lp = tokenLogProbs(T(inp.logits), labels);
        const rp = tokenLogProbs(T(inp.ref_logits), labels);
        const full = { logits: T(inp.logits), refLogits: T(inp.ref_logits) };
        const { rewards, nonScoreReward } = computeRewards(
          T(inp.scores),
          lp,
          rp,
          lastIndexOf(inp.mask),
          golden.compute_rewards.kl_coef,
          mode,
          full,
        );
        const exp = golden.compute_rewards[mode];
        close(read(rewards), exp.rewards, backend, `${mode} rewards`);
        close(read(nonScoreReward), exp.non_score_reward, backend, `${mode} non_score_reward`);
      }));
  }

  for (const [name, run] of Object.entries(golden.compute_advantages)) {
    if (typeof run !== "object" || !run || !("config" in run)) continue;
    const r = run as {
      config: { gamma: number; lam: number; whiten_rewards?: boolean };
      values_masked: number[][];
      advantages_whitened: number[][];
      returns: number[][];
    };
    Deno.test(`computeAdvantages ${name} matches TRL 0.7.4 (${backend})`, () =>
      tidy(() => {
        const out = computeAdvantages(
          T(inp.values),
          T(golden.compute_rewards.kl.rewards),
          T(inp.mask),
          { gamma: r.config.gamma, lam: r.config.lam, whitenRewards: r.config.whiten_rewards },
        );
        close(read(out.values), r.values_masked, backend, "values");
        close(read(out.advantages), r.advantages_whitened, backend, "advantages");
        close(read(out.returns), r.returns, backend, "returns");
      }));
  }

  for (const name of ["default", "cliprange0.1_vf_coef0.5", "ratio_threshold_triggered"]) {
    const run = golden.loss[name];
    Deno.test(`ppoLoss ${name} matches TRL 0.7.4 (${backend})`, () =>
      tidy(() => {
        const cfg = {
          cliprange: run.config.cliprange ?? 0.2,
          cliprangeValue: run.config.cliprange_value ?? 0.2,
          vfCoef: run.config.vf_coef ?? 0.1,
          ratioThreshold: run.config.ratio_threshold ?? 10,
        };
        const adv = golden.compute_advantages["gamma1_lam0.95"];
        const labels = T(inp.labels);
        const { loss, stats } = ppoLoss({
          oldLogprobs: tokenLogProbs(T(inp.logits), labels),
          values: T(adv.values_masked),
          logits: T(inp.new_logits),
          vpreds: T(inp.vpreds),
          logprobs: tokenLogProbs(T(inp.new_logits), labels),
          mask: T(inp.mask),
          advantages: T(adv.advantages_whitened),
          returns: T(adv.returns),
        }, cfg);
        close(read(loss), run.stats["loss/total"], backend, "loss");
        let compared = 0;
        for (const [key, value] of Object.entries(run.stats)) {
          if (key === "policy/advantages" || key === "policy/ratio") continue;
          assert.ok(stats[key], `ppoLoss is missing stat '${key}'`);
          close(read(stats[key]), value, backend, key);
          compared++;
        }
        assert.ok(compared >= 14, `compared only ${compared} stats`);
      }));
  }
}

Deno.test("KL controllers match TRL 0.7.4", () => {
  const g = golden.kl_controllers.adaptive;
  const ctl = new AdaptiveKlController(g.init, g.target, g.horizon);
  for (const u of g.updates) {
    ctl.update(u.current, u.n_steps);
    assert.ok(Math.abs(ctl.value - u.value_after) < 1e-15, `β ${ctl.value} vs ${u.value_after}`);
  }
  const fixed = new FixedKlController(golden.kl_controllers.fixed.init);
  fixed.update(100, 256);
  assert.equal(fixed.value, golden.kl_controllers.fixed["after_update(100,256)"]);
});

Deno.test("RunningMoments matches TRL 0.7.4 (float32 arithmetic)", () => {
  const rm = new RunningMoments();
  for (const h of golden.running_moments.history) {
    const b = rm.update(h.batch);
    const near = (a: number, e: number, what: string) =>
      assert.ok(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);
    near(b.mean, h.returned_batch_mean, "batch mean");
    near(b.std, h.returned_batch_std_unbiased, "batch std");
    near(rm.mean, h.running_mean, "running mean");
    near(rm.var, h.running_var, "running var");
    near(rm.std, h.running_std, "running std");
    near(rm.count, h.running_count, "count");
  }
});

Deno.test("PPOConfig takes TRL 0.7.4's defaults and names a bad field", async () => {
  const { PPOConfig } = await import("../../algorithms/ppo/mod.ts");
  const cfg = new PPOConfig({ learningRate: 1.41e-5, batchSize: 64, miniBatchSize: 16 });
  const defaults = golden.ppo_config_defaults.values;
  assert.equal(cfg.initKlCoef, defaults.init_kl_coef);
  assert.equal(cfg.lam, defaults.lam);
  assert.equal(cfg.vfCoef, defaults.vf_coef);
  assert.equal(cfg.ppoEpochs, defaults.ppo_epochs);
  assert.equal(cfg.ratioThreshold, defaults.ratio_threshold);
  assert.equal(new PPOConfig().learningRate, defaults.learning_rate);
  assert.throws(
    () => new PPOConfig({ cliprange: -1 }),
    /PPOConfig: cliprange must be a finite number > 0, got -1/,
  );
  assert.throws(
    () => new PPOConfig({ klPenalty: "kll" as "kl" }),
    /klPenalty must be one of kl, abs, mse, full, got "kll"/,
  );
  assert.throws(
    () => new PPOConfig({ batchSize: 10, miniBatchSize: 4 }),
    /batchSize = 10 must be a multiple/,
  );
  assert.throws(
    () => new PPOConfig({ lerningRate: 1 } as never),
    /unknown key "lerningRate"; the closest valid name is "learningRate"/,
  );
});
