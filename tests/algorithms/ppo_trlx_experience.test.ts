// trlX's make_experience pieces, hand-checked: where the reward slice starts and ends (a row
// shorter than the longest, pad == eos, seq2seq's pad start token), where scores land, the k3 KL
// the controller sees, reward clipping and the three score scalings. Expected values are written
// out by hand from trlX's code as SPEC A.11 restates it, not computed by the code under test.

import assert from "node:assert/strict";
import {
  trlxKlStats,
  trlxRolloutStats,
  TrlxScoreScaler,
  trlxSliceEnds,
  trlxSliceRows,
  trlxTokenRewards,
} from "../../algorithms/ppo_trlx/mod.ts";

const near = (a: number, e: number, what: string, tol = 1e-12) =>
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}: got ${a}, expected ${e}`);
const nearRows = (a: number[][], e: number[][], what: string) => {
  assert.equal(a.length, e.length, `${what}: rows`);
  a.forEach((row, b) => {
    assert.equal(row.length, e[b].length, `${what}[${b}]: length ${row.length} vs ${e[b].length}`);
    row.forEach((v, t) => near(v, e[b][t], `${what}[${b}][${t}]`));
  });
};
const k3 = (r: number) => Math.exp(r) - 1 - r;

// Causal, GPT-2 style: pad == eos == 0. Prompts are left padded to width 3, so start = 2;
// responses right padded to 4. Row 0 hit the length limit, rows 1–3 stopped on EOS.
const causalTokens = [
  [5, 6, 7, 8, 9, 10, 11], // response 8 9 10 11 (no EOS)
  [0, 6, 7, 8, 0, 0, 0], //    response 8 EOS pad pad (shorter than the longest)
  [5, 6, 7, 8, 9, 0, 0], //    response 8 9 EOS pad
  [5, 6, 7, 8, 9, 10, 0], //   response 8 9 10 EOS
];
const causalMask = causalTokens.map((row) => row.map((t) => (t === 0 ? 0 : 1)));
// log-ratio lp − rp = 0.1·(b + 1) + 0.01·t at every position t (before masking).
const ratio = (b: number, t: number) => 0.1 * (b + 1) + 0.01 * t;
const lps = causalTokens.map((row, b) => row.slice(1).map((_, t) => -1 + ratio(b, t)));
const rps = causalTokens.map((row) => row.slice(1).map(() => -1));

Deno.test("trlX reward slice, causal with pad == eos: ends = start + Σmask[start:] + 1, cut at L − 1", () => {
  // Row 0: 5 real tokens from position 2 → 2 + 5 + 1 = 8, cut to L − 1 = 6: the 4 response predictions.
  // Row 1: positions 2 (prompt) and 3 (token 8) are real → 5: predictions of 8, EOS and one pad.
  // Row 2: 3 real → 6: predictions of 8, 9, EOS and one pad.
  // Row 3: 4 real → 7, cut to 6: predictions of 8, 9, 10, EOS.
  assert.deepEqual(trlxSliceEnds(causalMask, 2), [6, 5, 6, 6]);
  assert.deepEqual(
    trlxSliceRows(lps, 2, [6, 5, 6, 6]).map((r) => r.length),
    [4, 3, 4, 4],
  );
});

Deno.test("trlX reward slice, causal with a distinct pad token: EOS is real, two pad predictions follow", () => {
  // pad 0, eos 1; prompt width 3 (start 2); the longest response has 5 tokens.
  const mask = [
    [5, 6, 7, 8, 9, 10, 11, 12],
    [5, 6, 7, 8, 1, 0, 0, 0], // 8 EOS: 2 real tokens → ends 2 + (1 + 2) + 1 = 6: 8, EOS, pad, pad
    [5, 6, 7, 8, 9, 10, 1, 0], // 4 real → 2 + 5 + 1 = 8, cut to L − 1 = 7: 8 9 10 EOS pad
  ].map((row) => row.map((t) => (t === 0 ? 0 : 1)));
  assert.deepEqual(trlxSliceEnds(mask, 2), [7, 6, 7]);
});

Deno.test("trlX per-token rewards, causal with pad == eos: −β·log-ratio masked by the input token, score on the slice's last element", () => {
  const beta = 0.5;
  const out = trlxTokenRewards({
    logprobs: lps,
    refLogprobs: rps,
    attentionMask: causalMask,
    start: 2,
    klCoef: beta,
    scores: { scores: [[1], [2], [3], [4]], placement: "last" },
  });
  assert.deepEqual(out.ends, [6, 5, 6, 6]);
  const kl = (b: number, t: number) => -beta * ratio(b, t);
  nearRows(out.rewards, [
    [kl(0, 2), kl(0, 3), kl(0, 4), kl(0, 5) + 1],
    // Position 4 predicts from an EOS input, which counts as padding: its log-ratio is masked to
    // 0, and the score lands there, on the prediction of a pad token.
    [kl(1, 2), kl(1, 3), 0 + 2],
    [kl(2, 2), kl(2, 3), kl(2, 4), 0 + 3],
    [kl(3, 2), kl(3, 3), kl(3, 4), kl(3, 5) + 4],
  ], "rewards");

  // k3 over every position whose INPUT token is real (mask[:, :-1]), prompt included.
  const realInputs = [[0, 1, 2, 3, 4, 5], [1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5]];
  const perRow = realInputs.map((ts, b) => ts.reduce((a, t) => a + k3(ratio(b, t)), 0));
  near(out.meanKl, perRow.reduce((a, b) => a + b) / 4, "meanKl");
  near(out.meanKlPerToken, perRow.reduce((a, b) => a + b) / (4 * 6), "meanKlPerToken");
  const stats = trlxKlStats(out);
  near(stats["policy/sqrt_kl"], Math.sqrt(out.meanKl), "sqrt_kl");
  near(stats["policy/kl_per_token"], Math.sqrt(out.meanKlPerToken), "kl_per_token");
});

Deno.test("trlX per-token rewards, seq2seq (T5: pad 0 is the decoder start, eos 1)", () => {
  const dec = [
    [0, 5, 6, 1], // the longest: 5 6 EOS
    [0, 5, 1, 0], // 5 EOS pad
    [0, 1, 0, 0], // EOS at once
  ];
  const mask = dec.map((row) => row.map((t) => (t === 0 ? 0 : 1)));
  // start = 0 and the start token is pad, so Σmask = non-pad outputs (EOS included):
  // row 0: 3 → 4, cut to 3; row 1: 2 → 3; row 2: 1 → 2.
  assert.deepEqual(trlxSliceEnds(mask, 0), [3, 3, 2]);
  const lp = dec.map((row, b) => row.slice(1).map((_, t) => -2 + ratio(b, t)));
  const rp = dec.map((row) => row.slice(1).map(() => -2));
  const beta = 0.1;
  const out = trlxTokenRewards({
    logprobs: lp,
    refLogprobs: rp,
    attentionMask: mask,
    start: 0,
    klCoef: beta,
    scores: { scores: [[1], [-1], [0.5]], placement: "last" },
  });
  const kl = (b: number, t: number) => -beta * ratio(b, t);
  nearRows(out.rewards, [
    // The first output token's prediction reads the pad start token: its log-ratio is 0.
    [0, kl(0, 1), kl(0, 2) + 1],
    // Shorter than the longest: the score sits on the prediction of the pad after EOS.
    [0, kl(1, 1), kl(1, 2) - 1],
    // EOS at once: the pad after it is predicted from the (real) EOS input, so it keeps its KL.
    [0, kl(2, 1) + 0.5],
  ], "rewards");
  const perRow = [
    k3(ratio(0, 1)) + k3(ratio(0, 2)),
    k3(ratio(1, 1)) + k3(ratio(1, 2)),
    k3(ratio(2, 1)),
  ];
  near(out.meanKl, (perRow[0] + perRow[1] + perRow[2]) / 3, "meanKl");
});

Deno.test("trlX per-token score lists are added from the slice's first element; a lone number in a mixed chunk too", () => {
  const scaler = new TrlxScoreScaler({
    cliprange_reward: 10,
    scale_reward: "ignored",
    ref_mean: null,
    ref_std: null,
  });
  const processed = scaler.process([[1, 2], 3, [0.5, 0.25, 12]]);
  assert.equal(processed.placement, "per_token");
  // 12 is clipped to 10.
  assert.deepEqual(processed.scores, [[1, 2], [3], [0.5, 0.25, 10]]);
  const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]];
  const zeros = mask.map((row) => row.slice(1).map(() => -1));
  const out = trlxTokenRewards({
    logprobs: zeros,
    refLogprobs: zeros,
    attentionMask: mask,
    start: 1,
    klCoef: 0.3,
    scores: processed,
  });
  nearRows(out.rewards, [[1, 2, 0], [3, 0, 0], [0.5, 0.25, 10]], "rewards");
  assert.throws(
    () =>
      trlxTokenRewards({
        logprobs: zeros.slice(0, 1),
        refLogprobs: zeros.slice(0, 1),
        attentionMask: [[1, 1, 0, 0, 0]],
        start: 1,
        klCoef: 0.3,
        scores: { scores: [[1, 2, 3]], placement: "per_token" },
      }),
    /sample 0 has 3 per-token scores but only 2 response positions/,
  );
});

Deno.test("trlX score scaling: clipping, reference stats from the first chunk, running std without mean subtraction", () => {
  const settings = { cliprange_reward: 10, ref_mean: null, ref_std: null };
  // Chunk 1 scores [1, 3], chunk 2 [5].
  // Running moments after chunk 1: mean 2, var 1 (population), std √(1·2/1) = √2.
  // After chunk 2 (n = 1): mean 2 + 3/3 = 3, var (1·2 + 9·2·1/3)/3 = 8/3, std √(8/3·3/2) = 2.
  const running = new TrlxScoreScaler({ ...settings, scale_reward: "running" });
  const a = running.process([1, 3]);
  assert.equal(a.placement, "last");
  nearRows(a.scores, [[1 / Math.SQRT2], [3 / Math.SQRT2]], "running chunk 1");
  near(a.stats["rollout_scores/mean"], 2, "batch mean");
  near(a.stats["rollout_scores/std"], Math.SQRT2, "batch std (unbiased)");
  near(a.stats["rollout_scores/running_mean"], 2, "running mean");
  near(a.stats["rollout_scores/running_std"], Math.SQRT2, "running std");
  const b = running.process([5]);
  nearRows(b.scores, [[2.5]], "running chunk 2");
  assert.ok(Number.isNaN(b.stats["rollout_scores/std"]), "one-sample batch std is NaN, as torch's");
  near(b.stats["rollout_scores/running_mean"], 3, "running mean 2");
  near(b.stats["rollout_scores/running_std"], 2, "running std 2");
  // ref_mean / ref_std: the first chunk's, never updated.
  near(running.refMean!, 2, "ref mean");
  near(running.refStd!, Math.SQRT2, "ref std");

  const ref = new TrlxScoreScaler({ ...settings, scale_reward: "ref" });
  ref.process([1, 3]);
  nearRows(ref.process([5, 30]).scores, [[5 / Math.SQRT2], [10 / Math.SQRT2]], "ref chunk 2");
  near(ref.refStd!, Math.SQRT2, "ref std kept");

  const ignored = new TrlxScoreScaler({ ...settings, scale_reward: "ignored" });
  assert.deepEqual(ignored.process([1, -30]).scores, [[1], [-10]]);
  // cliprange_reward 0 (or null) disables clipping, as trlX's truthiness test does.
  const unclipped = new TrlxScoreScaler({ ...settings, cliprange_reward: 0, scale_reward: null });
  assert.deepEqual(unclipped.process([1, -30]).scores, [[1], [-30]]);

  // A configured ref_std is used when ref_mean is configured too.
  const configured = new TrlxScoreScaler({
    cliprange_reward: 10,
    scale_reward: "ref",
    ref_mean: 0,
    ref_std: 4,
  });
  assert.deepEqual(configured.process([2, 8]).scores, [[0.5], [2]]);
  const restored = new TrlxScoreScaler({ ...settings, scale_reward: "running" });
  restored.loadStateDict(running.stateDict());
  assert.deepEqual(restored.process([7, 1]), running.process([7, 1]));
});

Deno.test("trlX scores: bad input names the sample", () => {
  const s = new TrlxScoreScaler({
    cliprange_reward: 10,
    scale_reward: "ignored",
    ref_mean: null,
    ref_std: null,
  });
  assert.throws(() => s.process([1, NaN]), /sample 1 has score NaN/);
  assert.throws(() => s.process([[1, Infinity]]), /sample 0 token 1 has score Infinity/);
  assert.throws(() => s.process([[]]), /sample 0 has an empty score list/);
  assert.throws(() => s.process([]), /no samples/);
  const ref = new TrlxScoreScaler({
    cliprange_reward: 10,
    scale_reward: "ref",
    ref_mean: 1,
    ref_std: null,
  });
  assert.throws(() => ref.process([1]), /ref_std is null while ref_mean is set/);
});

Deno.test("trlX rollout statistics average over chunks; the controller sees (mean √KL)²", () => {
  const { stats, meanKl } = trlxRolloutStats([
    { "policy/sqrt_kl": 1, "policy/kl_per_token": 0.5, "rollout_scores/mean": 2 },
    { "policy/sqrt_kl": 3, "policy/kl_per_token": 0.25, "rollout_scores/mean": 4 },
  ]);
  assert.deepEqual(stats, {
    "policy/sqrt_kl": 2,
    "policy/kl_per_token": 0.375,
    "rollout_scores/mean": 3,
  });
  assert.equal(meanKl, 4);
});
