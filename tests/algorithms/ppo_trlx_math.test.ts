// trlX's PPO numerics against trlX's own functions run on fixed inputs (float64 goldens, the
// `trlx` section of the shared TRL/trlX reference). Tensor pieces run on cpu64 (near f64
// rounding) and cpu (f32, ~1e-5 relative); host-side pieces are f64.

import assert from "node:assert/strict";
import { type Tensor, tensor, tidy } from "../../core/mod.ts";
import {
  AdaptiveKlController,
  FixedKlController,
  getAdvantagesAndReturns,
  trlxKlController,
  trlxPpoLoss,
  TrlxRunningMoments,
  whiten,
} from "../../algorithms/ppo_trlx/mod.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/trlx.json", import.meta.url)),
);
const inp = golden.inputs;
const mask = inp["mask(response-aligned, right padded)"];

const TOL: Record<string, { rtol: number; atol: number }> = {
  cpu64: { rtol: 1e-10, atol: 1e-12 },
  cpu: { rtol: 1e-5, atol: 3e-6 },
};

function close(actual: ArrayLike<number>, expected: unknown, backend: string, what: string) {
  const exp = [expected].flat(Infinity as 1) as number[];
  assert.equal(actual.length, exp.length, `${what}: length ${actual.length} vs ${exp.length}`);
  const { rtol, atol } = TOL[backend];
  for (let i = 0; i < exp.length; i++) {
    const err = Math.abs(actual[i] - exp[i]);
    assert.ok(
      err <= atol + rtol * Math.abs(exp[i]),
      `${what}[${i}] on ${backend}: got ${actual[i]}, expected ${exp[i]} (err ${err})`,
    );
  }
}

const read = (t: Tensor) => t.toFloat64ArraySync();

for (const backend of ["cpu64", "cpu"]) {
  const T = (v: unknown) => tensor(v as number[], undefined, { backend });

  Deno.test(`trlX whiten matches trlX (unmasked, unbiased var, padding included) (${backend})`, () =>
    tidy(() => {
      close(
        read(whiten(T(inp.old_values))),
        golden["whiten(old_values) [unmasked, unbiased var]"],
        backend,
        "whiten",
      );
      // shift_mean=False adds the mean back: whiten(x, false) − whiten(x) = mean(x) everywhere.
      const flat = (inp.old_values as number[][]).flat();
      const mu = flat.reduce((a, b) => a + b, 0) / flat.length;
      const a = read(whiten(T(inp.old_values), { shiftMean: false }));
      const b = read(whiten(T(inp.old_values)));
      close(a.map((x, i) => x - b[i]), flat.map(() => mu), backend, "shift_mean=False");
    }));

  for (const useWhitening of [true, false]) {
    Deno.test(
      `trlX get_advantages_and_returns(use_whitening=${useWhitening}) matches trlX (${backend})`,
      () =>
        tidy(() => {
          const ref =
            golden[`get_advantages_and_returns(use_whitening=${useWhitening ? "True" : "False"})`];
          const { advantages, returns } = getAdvantagesAndReturns(
            T(inp.old_values),
            T(inp.rewards),
            { gamma: 1, lam: 0.95, useWhitening },
          );
          close(read(advantages), ref.advantages, backend, "advantages");
          close(read(returns), ref.returns, backend, "returns");
        }),
    );
  }

  Deno.test(`trlX loss and every statistic match trlX (vf_coef 1) (${backend})`, () =>
    tidy(() => {
      const ref = golden["loss(vf_coef=1)"];
      const { advantages, returns } = getAdvantagesAndReturns(
        T(inp.old_values),
        T(inp.rewards),
        { gamma: 1, lam: 0.95 },
      );
      const { loss, stats } = trlxPpoLoss({
        logprobs: T(inp.logprobs),
        values: T(inp["values(pred)"]),
        oldLogprobs: T(inp.old_logprobs),
        oldValues: T(inp.old_values),
        advantages,
        returns,
        mask: T(mask),
      }, { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 1 });
      close(read(loss), [ref.loss], backend, "loss");
      assert.deepEqual(Object.keys(stats).sort(), Object.keys(ref.stats).sort());
      for (const [name, value] of Object.entries(ref.stats)) {
        close(read(stats[name]), [value], backend, name);
      }
    }));

  Deno.test(`trlX loss: gradients flow to logprobs and values only (${backend})`, () =>
    tidy(() => {
      const logprobs = tensor(inp.logprobs, undefined, { backend, requiresGrad: true });
      const values = tensor(inp["values(pred)"], undefined, { backend, requiresGrad: true });
      const { advantages, returns } = getAdvantagesAndReturns(
        T(inp.old_values),
        T(inp.rewards),
        { gamma: 1, lam: 0.95 },
      );
      const { loss, stats } = trlxPpoLoss({
        logprobs,
        values,
        oldLogprobs: T(inp.old_logprobs),
        oldValues: T(inp.old_values),
        advantages,
        returns,
        mask: T(mask),
      }, { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 1 });
      loss.backward();
      // Padding positions get no gradient: the loss only sees masked terms there.
      const gl = read(logprobs.grad!), gv = read(values.grad!);
      const m = (mask as number[][]).flat();
      m.forEach((mi, i) => {
        if (mi === 0) {
          assert.ok(gl[i] === 0, `logprob grad at padding ${i}: ${gl[i]}`);
          assert.ok(gv[i] === 0, `value grad at padding ${i}: ${gv[i]}`);
        }
      });
      assert.ok(gl.some((g) => g !== 0) && gv.some((g) => g !== 0));
      for (const [name, s] of Object.entries(stats)) assert.equal(s.requiresGrad, false, name);
    }));
}

Deno.test("trlX AdaptiveKLController matches trlX; target None gives a fixed β", () => {
  const ref = golden.adaptive_kl;
  const kl = trlxKlController({ init_kl_coef: ref.init, target: ref.target, horizon: ref.horizon });
  assert.ok(kl instanceof AdaptiveKlController);
  for (const u of ref.updates) {
    kl.update(u.current, u.n_steps);
    assert.ok(Math.abs(kl.value - u.value_after) <= 1e-15, `${kl.value} vs ${u.value_after}`);
  }
  const fixed = trlxKlController({ init_kl_coef: 0.001, target: null, horizon: 10000 });
  assert.ok(fixed instanceof FixedKlController);
  fixed.update(100, 32);
  assert.equal(fixed.value, 0.001);
});

Deno.test("trlX RunningMoments matches trlX (float64)", () => {
  const rm = new TrlxRunningMoments();
  for (const h of golden.running_moments) {
    const b = rm.update(h.batch);
    const near = (a: number, e: number, what: string) =>
      assert.ok(Math.abs(a - e) <= 1e-13 * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);
    near(b.mean, h.batch_mean, "batch mean");
    near(b.std, h.batch_std_unbiased, "batch std");
    near(rm.mean, h.running_mean, "running mean");
    near(rm.var, h.running_var, "running var");
    near(rm.std, h.running_std, "running std");
    near(rm.count, h.count, "count");
  }
  const restored = new TrlxRunningMoments();
  restored.loadStateDict(rm.stateDict());
  assert.deepEqual(restored.update([1, 2]), rm.update([1, 2]));
  assert.equal(restored.std, rm.std);
});
