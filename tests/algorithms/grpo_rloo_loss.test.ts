// GRPO's per-token loss and every lossType's aggregation, and RLOO's sequence loss, against an
// independent float64 computation (plain arrays, no tensors) on a hand-built ragged batch:
// completions of 6, 3, 1 and 0 counted tokens (the last a truncated row masked out), ratios on
// both sides of the clip range, advantages of both signs, a KL term.

import assert from "node:assert/strict";
import { type Tensor, tensor, tidy } from "../../core/mod.ts";
import { GRPO_LOSS_TYPES, grpoLoss, type GrpoLossType } from "../../algorithms/grpo/mod.ts";
import { rlooLoss } from "../../algorithms/rloo/mod.ts";

const B = 4, T = 6;
const MASK = [
  [1, 1, 1, 1, 1, 1],
  [0, 1, 1, 1, 0, 0],
  [0, 0, 0, 0, 0, 1],
  [0, 0, 0, 0, 0, 0],
];
// Deterministic values, ratios exp(lp − old) from about 0.55 to 1.6.
const LP = MASK.map((row, b) => row.map((_, t) => -0.4 - 0.3 * ((b * 7 + t * 3) % 5)));
const OLD = LP.map((row, b) => row.map((v, t) => v - 0.45 + 0.18 * ((b + 2 * t) % 6)));
const REF = LP.map((row, b) => row.map((v, t) => v + 0.25 - 0.1 * ((3 * b + t) % 5)));
const ADV = [1.3, -0.7, 0.4, -2];
const S = {
  epsilonLow: 0.2,
  epsilonHigh: 0.28,
  beta: 0.04,
  gradientAccumulationSteps: 2,
  maxCompletionLength: 8,
  numItemsInBatch: 23,
};

/** The per-token loss, computed on plain numbers. */
function perToken(b: number, t: number, beta: number): number {
  const ratio = Math.exp(LP[b][t] - OLD[b][t]);
  const clipped = Math.min(Math.max(ratio, 1 - S.epsilonLow), 1 + S.epsilonHigh);
  const r = REF[b][t] - LP[b][t];
  return -Math.min(ratio * ADV[b], clipped * ADV[b]) + beta * (Math.exp(r) - r - 1);
}

function expectedLoss(type: GrpoLossType, beta: number): number {
  const masked = MASK.map((row, b) => row.map((m, t) => m * perToken(b, t, beta)));
  const rowSum = masked.map((row) => row.reduce((a, c) => a + c, 0));
  const rowCount = MASK.map((row) => row.reduce((a, c) => a + c, 0));
  const total = rowSum.reduce((a, c) => a + c, 0), count = rowCount.reduce((a, c) => a + c, 0);
  const ga = S.gradientAccumulationSteps;
  switch (type) {
    case "grpo":
      return rowSum.reduce((a, s, b) => a + s / Math.max(rowCount[b], 1), 0) / B / ga;
    case "bnpo":
      return total / Math.max(count, 1) / ga;
    case "dr_grpo":
      return total / (B * S.maxCompletionLength) / ga;
    case "dapo":
      return total / S.numItemsInBatch;
  }
}

const T64 = (v: number[] | number[][]) => tensor(v, undefined, { backend: "cpu64" });
const read = (t: Tensor) => Array.from(t.toFloat64ArraySync());

for (const beta of [0, S.beta]) {
  Deno.test(`GRPO's loss aggregations match float64 for every lossType (beta ${beta})`, () => {
    for (const lossType of GRPO_LOSS_TYPES) {
      tidy(() => {
        const out = grpoLoss({
          logprobs: T64(LP),
          oldLogprobs: T64(OLD),
          refLogprobs: beta ? T64(REF) : null,
          advantages: T64(ADV),
          mask: T64(MASK),
        }, { ...S, beta, lossType });
        const got = out.loss.toFloat64ArraySync()[0], want = expectedLoss(lossType, beta);
        assert.ok(
          Math.abs(got - want) <= 1e-13 * Math.max(1, Math.abs(want)),
          `${lossType}: ${got} vs ${want}`,
        );
        // Per-token values everywhere, masked or not, and the ratios.
        const ptl = read(out.perTokenLoss), ratio = read(out.ratio);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) {
            const i = b * T + t;
            assert.ok(Math.abs(ptl[i] - perToken(b, t, beta)) < 1e-13, `loss[${b},${t}]`);
            assert.ok(
              Math.abs(ratio[i] - Math.exp(LP[b][t] - OLD[b][t])) < 1e-13,
              `ratio[${b},${t}]`,
            );
          }
        }
      });
    }
  });
}

Deno.test("GRPO's clip ratios and KL statistic count the masked tokens as TRL logs them", () => {
  tidy(() => {
    const out = grpoLoss({
      logprobs: T64(LP),
      oldLogprobs: T64(OLD),
      refLogprobs: T64(REF),
      advantages: T64(ADV),
      mask: T64(MASK),
    }, { ...S, lossType: "dapo" });
    let low = 0, high = 0, kl = 0, n = 0;
    const lowSeq: number[] = [], highSeq: number[] = [];
    MASK.forEach((row, b) => {
      let l = 0, h = 0, m = 0;
      row.forEach((mask, t) => {
        if (!mask) return;
        const ratio = Math.exp(LP[b][t] - OLD[b][t]);
        const isLow = ratio < 1 - S.epsilonLow && ADV[b] < 0 ? 1 : 0;
        const isHigh = ratio > 1 + S.epsilonHigh && ADV[b] > 0 ? 1 : 0;
        const r = REF[b][t] - LP[b][t];
        low += isLow, high += isHigh, kl += Math.exp(r) - r - 1, n++;
        l += isLow, h += isHigh, m++;
      });
      lowSeq.push(l / m), highSeq.push(h / m);
    });
    assert.ok(low > 0 && high > 0, "the batch clips on both sides");
    const s = out.stats;
    assert.ok(Math.abs(s["clip_ratio/low_mean"].toFloat64ArraySync()[0] - low / n) < 1e-14);
    assert.ok(Math.abs(s["clip_ratio/high_mean"].toFloat64ArraySync()[0] - high / n) < 1e-14);
    assert.ok(
      Math.abs(s["clip_ratio/region_mean"].toFloat64ArraySync()[0] - (low + high) / n) < 1e-14,
    );
    assert.ok(Math.abs(s.kl.toFloat64ArraySync()[0] - kl / n) < 1e-14);
    // Per completion; the fully masked row is 0/0, which the trainer's nanmin/nanmax skip.
    const gotLow = read(s["clip_ratio/low_seq"]), gotHigh = read(s["clip_ratio/high_seq"]);
    assert.deepEqual(gotLow.slice(0, 3), lowSeq.slice(0, 3));
    assert.deepEqual(gotHigh.slice(0, 3), highSeq.slice(0, 3));
    assert.ok(Number.isNaN(gotLow[3]) && Number.isNaN(gotHigh[3]));
  });
});

Deno.test("RLOO's sequence-ratio loss matches float64", () => {
  tidy(() => {
    const oldSeq = [-2.1, -1.4, -0.9, 0];
    const out = rlooLoss({
      logprobs: T64(LP),
      oldSequenceLogprobs: T64(oldSeq),
      advantages: T64(ADV),
      mask: T64(MASK),
    }, { epsilonLow: 0.2, epsilonHigh: 0.28, gradientAccumulationSteps: 2 });
    let want = 0;
    const ratios = MASK.map((row, b) => {
      const seq = row.reduce((a, m, t) => a + m * LP[b][t], 0);
      const ratio = Math.exp(seq - oldSeq[b]);
      const clipped = Math.min(Math.max(ratio, 0.8), 1.28);
      want += -Math.min(ratio * ADV[b], clipped * ADV[b]);
      return ratio;
    });
    want /= B * 2;
    assert.ok(
      Math.abs(out.loss.toFloat64ArraySync()[0] - want) < 1e-13,
      `${out.loss.toFloat64ArraySync()[0]} vs ${want}`,
    );
    read(out.ratio).forEach((r, b) => assert.ok(Math.abs(r - ratios[b]) < 1e-13 * ratios[b]));
    const low = ratios.map((r, b) => (r < 0.8 && ADV[b] < 0 ? 1 : 0));
    assert.deepEqual(read(out.stats["clip_ratio/low"]), low);
  });
});
