// GRPO's and RLOO's advantages against TRL 1.9's advantage blocks on the shared golden inputs
// (three groups of four completions), and the unscorable-completion rules checked by hand.

import assert from "node:assert/strict";
import { grpoAdvantages, nanStd } from "../../algorithms/grpo/mod.ts";
import { rlooAdvantages } from "../../algorithms/rloo/mod.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/online_advantages.json", import.meta.url)),
);

function close(actual: readonly number[], expected: readonly number[], what: string, tol = 1e-12) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: ${a} vs ${expected[i]}`,
    )
  );
}

Deno.test("GRPO advantages match TRL 1.9 for scaleRewards group, batch and none", () => {
  const g = golden.grpo_advantages;
  for (const scale of ["group", "batch", "none"] as const) {
    const out = grpoAdvantages([g.rewards], {
      numGenerations: g.num_generations,
      scaleRewards: scale,
    });
    close(out.advantages, g[`scale_rewards=${scale}`], `scale_rewards=${scale}`);
    assert.deepEqual(out.rewards, g.rewards);
  }
  // The middle group's rewards are all 2: std 0, so its advantages are 0 and it counts in
  // frac_reward_zero_std.
  const groupStds = [0, 1, 2].map((k) => nanStd(g.rewards.slice(4 * k, 4 * k + 4)));
  close(groupStds, g.nanstd_group, "nanstd per group");
  close([nanStd(g.rewards)], [g.nanstd_batch], "nanstd of the batch");
  const { stdZero } = grpoAdvantages([g.rewards], { numGenerations: 4 });
  assert.deepEqual(stdZero, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0].map(Boolean));
});

Deno.test("RLOO advantages match TRL 1.9 with beta 0 and 0.05, raw and normalized", () => {
  const r = golden.rloo_advantages;
  const kl = r["sequence_kl_sum(sum_t (logp-ref_logp)*mask)"];
  for (const [name, c] of Object.entries(r.cases) as [string, Record<string, number[]>][]) {
    const beta = Number(name.split("=")[1]);
    for (const normalize of [false, true]) {
      const out = rlooAdvantages([r.rewards], {
        numGenerations: r.num_generations,
        beta,
        sequenceKl: kl,
        normalizeAdvantages: normalize,
      });
      close(out.rewards, c.rewards_after_kl, `${name} rewards after KL`);
      close(
        out.advantages,
        normalize ? c.advantages_normalized : c.advantages,
        `${name} advantages${normalize ? " (normalized)" : ""}`,
      );
    }
  }
});

Deno.test("an unscorable completion leaves its group's baseline and gets advantage 0", () => {
  // Two functions; completion 1 is scored by neither (null, null), completion 2 by one only.
  const nul = NaN;
  const perFunction = [[1, nul, nul, 3, 0, 1, 2, 3], [0.5, nul, 1, 0, 0, 0, 0, 1]];
  const weights = [1, 2];
  // Weighted sums, a null counting as nothing: [2, NaN, 2, 3 | 0, 1, 2, 5].
  const r = [2, NaN, 2, 3, 0, 1, 2, 5];
  const g = grpoAdvantages(perFunction, { numGenerations: 4, weights });
  const m1 = (2 + 2 + 3) / 3, s1 = Math.sqrt(((0 - m1 + 2) ** 2 * 2 + (3 - m1) ** 2) / 2);
  close(g.rewards.filter((x) => !Number.isNaN(x)), r.filter((x) => !Number.isNaN(x)), "rewards");
  assert.ok(Number.isNaN(g.rewards[1]));
  close(g.advantages.slice(0, 4), [
    (2 - m1) / (s1 + 1e-4),
    0,
    (2 - m1) / (s1 + 1e-4),
    (3 - m1) / (s1 + 1e-4),
  ], "GRPO group with an unscorable completion");
  const l = rlooAdvantages(perFunction, { numGenerations: 4, weights });
  // Leave-one-out over the three scorable ones: baseline_i = (sum − r_i) / 2.
  close(l.advantages.slice(0, 4), [2 - (5 / 2), 0, 2 - (5 / 2), 3 - 2], "RLOO group");
  close(l.advantages.slice(4), [0 - 8 / 3, 1 - 7 / 3, 2 - 2, 5 - 1], "RLOO full group");
});

Deno.test("GRPO normalize_then_sum normalizes each function within its group, then the sum over the batch", () => {
  const a = [1, 2, 3, 4, 0, 0, 1, 1], b = [10, 0, 0, 10, 5, 6, 7, 8];
  const weights = [1, 0.5];
  const norm = (xs: number[]) =>
    [0, 4].flatMap((s) => {
      const g = xs.slice(s, s + 4), m = g.reduce((x, y) => x + y) / 4;
      const sd = Math.sqrt(g.reduce((x, y) => x + (y - m) ** 2, 0) / 3);
      return g.map((x) => (x - m) / (sd + 1e-4));
    });
  const summed = norm(a).map((x, i) => x + 0.5 * norm(b)[i]);
  const m = summed.reduce((x, y) => x + y) / 8;
  const sd = Math.sqrt(summed.reduce((x, y) => x + (y - m) ** 2, 0) / 7);
  const out = grpoAdvantages([a, b], {
    numGenerations: 4,
    weights,
    aggregation: "normalize_then_sum",
  });
  close(out.advantages, summed.map((x) => (x - m) / (sd + 1e-4)), "normalize_then_sum", 1e-11);
});
