// DPO losses (TRL 0.28.0's dpo_loss), DPO sequence log-probs (TRL 0.7.4's _get_batch_logps) and
// the Bradley–Terry reward loss (TRL 0.7.4's RewardTrainer) against the libraries' own outputs.

import assert from "node:assert/strict";
import { type Tensor, tensor, tidy } from "../../core/mod.ts";
import {
  DPO_LOSS_TYPES,
  dpoLoss,
  type DpoLossType,
  dpoMetrics,
} from "../../algorithms/dpo/loss.ts";
import { sequenceLogps } from "../../algorithms/dpo/logps.ts";
import { bradleyTerryLoss, pairwiseAccuracy } from "../../reward/loss.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/preference.json", import.meta.url)),
);

const TOL: Record<string, number> = { cpu64: 1e-12, cpu: 2e-6 };

function close(actual: Tensor, expected: unknown, backend: string, what: string) {
  const got = actual.toFloat64ArraySync();
  const exp = [expected].flat(Infinity as 1) as number[];
  assert.equal(got.length, exp.length, `${what}: length`);
  exp.forEach((e, i) =>
    assert.ok(
      Math.abs(got[i] - e) <= TOL[backend] * Math.max(1, Math.abs(e)),
      `${what}[${i}] on ${backend}: ${got[i]} vs ${e}`,
    )
  );
}

/** Golden case names like `sigmoid|ls=0.1`, `ipo|beta=0.5`, `sigmoid|ref_free=True`. */
function parseCase(name: string) {
  const [type, ...mods] = name.split("|");
  const o: { lossType: string; beta?: number; labelSmoothing?: number; referenceFree?: boolean } = {
    lossType: type,
  };
  for (const m of mods) {
    const [k, v] = m.split("=");
    if (k === "ls") o.labelSmoothing = Number(v);
    else if (k === "beta") o.beta = Number(v);
    else if (k === "ref_free") o.referenceFree = v === "True";
    else return null;
  }
  return o;
}

for (const backend of ["cpu64", "cpu"]) {
  const T = (v: unknown) => tensor(v as number[], undefined, { backend });
  const d = golden.dpo_v0_28_0;
  const covered = new Set<string>();
  for (const [name, expected] of Object.entries(d.cases) as [string, Record<string, unknown>][]) {
    const opts = parseCase(name);
    if (!opts || !DPO_LOSS_TYPES.includes(opts.lossType as DpoLossType)) continue;
    covered.add(opts.lossType);
    Deno.test(`dpoLoss ${name} matches TRL 0.28.0 (${backend})`, () =>
      tidy(() => {
        const x = {
          chosen: T(d.inputs.chosen_logps),
          rejected: T(d.inputs.rejected_logps),
          refChosen: T(d.inputs.ref_chosen_logps),
          refRejected: T(d.inputs.ref_rejected_logps),
        };
        const out = dpoLoss(x, { ...opts, lossType: opts.lossType as DpoLossType });
        close(out.losses, expected.losses, backend, `${name} losses`);
        close(out.chosenRewards, expected.chosen_rewards, backend, "chosen rewards");
        close(out.rejectedRewards, expected.rejected_rewards, backend, "rejected rewards");
      }));
  }
  Deno.test(`every implemented DPO loss type has a golden case (${backend})`, () => {
    assert.deepEqual([...covered].sort(), [...DPO_LOSS_TYPES].sort());
  });

  Deno.test(`DPO metrics use strict > for accuracy (${backend})`, () =>
    tidy(() => {
      const x = {
        chosen: T([-1, -2]),
        rejected: T([-1, -3]),
        refChosen: T([0, 0]),
        refRejected: T([0, 0]),
      };
      const m = dpoMetrics(x, dpoLoss(x));
      assert.equal(m["rewards/accuracies"].itemSync(), 0.5);
    }));

  Deno.test(`sequenceLogps matches TRL 0.7.4 _get_batch_logps (${backend})`, () =>
    tidy(() => {
      const g = golden.dpo_v0_7_4._get_batch_logps;
      close(sequenceLogps(T(g.logits), T(g.labels)), g.sum, backend, "sum");
      close(sequenceLogps(T(g.logits), T(g.labels), true), g.average, backend, "average");
    }));

  Deno.test(`Bradley–Terry loss matches TRL 0.7.4 RewardTrainer (${backend})`, () =>
    tidy(() => {
      const r = golden.reward_v0_7_4;
      const c = T(r.rewards_chosen), rj = T(r.rewards_rejected);
      close(bradleyTerryLoss(c, rj), r.loss_no_margin, backend, "loss");
      close(
        bradleyTerryLoss(c, rj, { margin: T(r.margin) }),
        r.loss_with_margin,
        backend,
        "margin",
      );
      // Strict accuracy: the tied last pair counts as wrong.
      close(pairwiseAccuracy(c, rj), 0.5, backend, "accuracy");
    }));
}
