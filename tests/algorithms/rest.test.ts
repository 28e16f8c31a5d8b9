// ReST: the threshold filters against the shared reference's golden values, the Grow sampler
// against TRL's recorded best-of-n, config and data errors, and the effect on a tiny LM.

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint, readMetrics } from "../../algorithms/common/mod.ts";
import {
  EmptyImproveSetError,
  type GrowSample,
  growSamples,
  keptIndices,
  percentileThresholds,
  quantileLinear,
  readGrowFile,
  ReST,
  type ReSTConfig,
  type ReSTParts,
  scheduledPercentile,
  selectForImprove,
  thresholdsForStep,
} from "../../algorithms/rest/mod.ts";
import { slice, type Tensor } from "../../core/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";
import { keywordReward } from "../../reward/mod.ts";
import { readSamples } from "../../report/run_files.ts";
import { BigramLM } from "./tiny_lms.ts";

const fixtures = new URL("../fixtures/trl/", import.meta.url);
const golden = JSON.parse(await Deno.readTextFile(new URL("rest.json", fixtures))).rest_from_spec;
const bestOfNGolden = JSON.parse(await Deno.readTextFile(new URL("preference.json", fixtures)))
  .best_of_n_v0_7_4;

const promptNames = Object.keys(golden.scores_per_prompt);
const goldenScores: number[][] = promptNames.map((p) => golden.scores_per_prompt[p]);
const keptScores = (indices: number[][]) =>
  indices.map((ix, p) => ix.map((i) => goldenScores[p][i]));
const byPrompt = (kept: Record<string, number[]>) => promptNames.map((p) => kept[p]);
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs ${expected}`);

Deno.test("fixed thresholds keep reward > τ exactly as the golden filter (paper, Algorithm 1)", () => {
  const cases = Object.entries(golden.fixed_thresholds_strict_gt) as [
    string,
    Record<string, number[]>,
  ][];
  assert.equal(cases.length, 4);
  for (const [name, kept] of cases) {
    const tau = Number(name.replace("tau=", ""));
    assert.deepEqual(keptScores(keptIndices(goldenScores, tau, ">")), byPrompt(kept), name);
  }
  // The same through the schedule: Improve step i of [0, 0.7, 0.8, 0.9] applies τ_i with ">".
  const taus = [0, 0.7, 0.8, 0.9];
  taus.forEach((tau, i) => {
    const step = thresholdsForStep(taus, 4, i + 1, goldenScores);
    assert.equal(step.comparison, ">");
    assert.equal(step.percentile, null);
    assert.deepEqual(step.thresholds, [tau, tau, tau]);
    assert.deepEqual(
      keptScores(keptIndices(goldenScores, step.thresholds, step.comparison)),
      byPrompt(golden.fixed_thresholds_strict_gt[`tau=${tau.toFixed(1)}`]),
    );
  });
});

Deno.test("trlX percentile schedule: percentiles, per-prompt quantiles, clipping and kept samples match the golden", () => {
  const schedule = { startPercentile: 0.7, endPercentile: 0.95 };
  const steps = Object.entries(golden["trlx_rft(start=0.7,end=0.95,n_improve_steps=4)"]) as [
    string,
    {
      percentile: number;
      raw_thresholds: number[];
      clipped_thresholds: number[];
      kept: Record<string, number[]>;
    },
  ][];
  assert.equal(steps.length, 4);
  for (const [name, g] of steps) {
    const step = Number(name.replace("improve_step=", "")) + 1; // the golden counts from 0
    close(scheduledPercentile(schedule, 4, step), g.percentile, `${name} percentile`);
    const { raw, clipped } = percentileThresholds(goldenScores, g.percentile);
    raw.forEach((t, p) => close(t, g.raw_thresholds[p], `${name} raw[${p}]`));
    clipped.forEach((t, p) => close(t, g.clipped_thresholds[p], `${name} clipped[${p}]`));
    const s = thresholdsForStep(schedule, 4, step, goldenScores);
    assert.equal(s.comparison, ">=");
    s.thresholds.forEach((t, p) => close(t, g.clipped_thresholds[p], `${name} step[${p}]`));
    assert.deepEqual(
      keptScores(keptIndices(goldenScores, s.thresholds, s.comparison)),
      byPrompt(g.kept),
      name,
    );
  }
  // numpy's linear quantile on hand values (order statistics 0.2, 0.2, 0.3, 0.8).
  close(quantileLinear([0.8, 0.2, 0.3, 0.2], 0.5), 0.25, "median");
  assert.equal(quantileLinear([0.8, 0.2, 0.3, 0.2], 1), 0.8);
  assert.equal(quantileLinear([0.8, 0.2, 0.3, 0.2], 0), 0.2);
});

/** Golden scores as a Grow set: completion i of prompt p is the token list [p, i]. */
function goldenGrowSet(): GrowSample[] {
  return goldenScores.flatMap((rewards, p) =>
    rewards.map((reward, i) => ({
      growStep: 1,
      promptIndex: p,
      source: "policy" as const,
      prompt: promptNames[p],
      completion: `${i}`,
      reward,
      promptIds: [p],
      completionIds: [p, i],
    }))
  );
}

Deno.test("selectForImprove: the golden filters on a Grow set, duplicates dropped, and a clear error when nothing passes", () => {
  const set = goldenGrowSet();
  const fixed = selectForImprove(set, 3, [0.7, 0.8], 2, 1, 1);
  assert.deepEqual(fixed.kept.map((s) => s.reward), [0.9, 0.95, 0.8, 1.0]);
  assert.equal(fixed.scored, 12);
  // p1 has two samples of reward 0.2; make them the same completion: one is dropped.
  const withDuplicate = set.map((s) =>
    s.promptIndex === 1 && s.reward === 0.2 ? { ...s, completionIds: [1, 0] } : s
  );
  const low = selectForImprove(withDuplicate, 3, [0.1, 0.8], 2, 1, 1);
  assert.equal(low.passed, 10);
  assert.equal(low.kept.length, 9);
  assert.equal(low.kept.filter((s) => s.promptIndex === 1 && s.reward === 0.2).length, 1);
  const percentile = selectForImprove(
    set,
    3,
    { startPercentile: 0.7, endPercentile: 0.95 },
    4,
    2,
    1,
  );
  assert.deepEqual(percentile.kept.map((s) => s.reward), [0.95, 0.8, 1.0]);

  assert.throws(
    () => selectForImprove(set, 3, [0.5, 1.0], 2, 2, 3),
    (e: Error) => {
      assert.ok(e instanceof EmptyImproveSetError);
      for (
        const part of [
          "Grow step 3, Improve step 2",
          "reward > thresholds[1] = 1",
          "12 samples were scored",
          "max reward is 1",
          "Lower the threshold or sample more",
        ]
      ) assert.ok(e.message.includes(part), `${part} missing from: ${e.message}`);
      return true;
    },
  );
});

/** Letters tokenizer of the best-of-n fixture: token t is "abcdefg"[t]. */
const letters = {
  encode: (text: string) => [...text].map((ch) => "abcdefg".indexOf(ch)),
  decode: (ids: number[]) => ids.map((t) => "abcdefg"[t]).join(""),
};

Deno.test("Grow sampling and scoring reproduce TRL 0.7.4's best-of-n on its fake model", async () => {
  // The fixture's fake: sample i of query q appends (sum(q) + 3i + 2j) % 7 for j < maxNew.
  const generate = (rows: number[][], maxNew: number) =>
    rows.map((q, i) => {
      const s = q.reduce((a, b) => a + b, 0);
      return [...q, ...Array.from({ length: maxNew }, (_, j) => (s + 3 * i + 2 * j) % 7)];
    });
  const count = (t: string, ch: string) => t.split(ch).length - 1;
  const reward = (texts: readonly string[]) =>
    texts.map((t) => count(t, "a") + 0.5 * count(t, "c") - 0.1 * t.length);
  const k = bestOfNGolden.sample_size, n = bestOfNGolden.n_candidates;
  const best = [];
  for (const [qi, query] of (bestOfNGolden.queries as number[][]).entries()) {
    const samples = await growSamples({
      growStep: 1,
      prompts: [{ text: letters.decode(query), ids: query }],
      samplesPerPrompt: k,
      datasetCompletions: [],
      generate,
      maxNewTokens: bestOfNGolden.max_new_tokens_drawn_per_query[qi],
      batchSize: k, // one batch per prompt, so row i is sample i as in the fixture
      reward,
      rewardInput: "prompt_completion",
      tokenizer: letters,
    });
    assert.equal(samples.length, k);
    const ranked = samples.map((s, i) => ({ s, i })).sort((a, b) =>
      b.s.reward - a.s.reward || a.i - b.i
    );
    best.push(ranked.slice(0, n).map(({ s }) => s.prompt + s.completion));
  }
  assert.deepEqual(best, bestOfNGolden.result);
});

const tokenizer = new SyntheticWordTokenizer();

/** The shared bigram LM with what models/generate needs: backend, EOS/pad ids, logitsToKeep. */
class GenerativeBigram extends BigramLM {
  readonly backend = "cpu";
  readonly eosTokenId = tokenizer.eosTokenId;
  readonly padTokenId = tokenizer.padTokenId;
  override forward(inputs: { inputIds: Tensor; attentionMask?: Tensor; logitsToKeep?: number }) {
    const { logits } = super.forward(inputs);
    const keep = inputs.logitsToKeep;
    if (!keep) return { logits };
    const [b, l, v] = logits.shape;
    return { logits: slice(logits, [0, l - keep, 0], [b, keep, v]) };
  }
}

const POSITIVE = [
  "great",
  "wonderful",
  "brilliant",
  "excellent",
  "superb",
  "beautiful",
  "charming",
  "delightful",
  "amazing",
  "fantastic",
];
const positiveReward = keywordReward(Object.fromEntries(POSITIVE.map((w) => [w, 1])));
const SUBJECTS = ["plot", "acting", "music", "ending", "story", "script", "dialogue", "cast"];
const HELD_OUT = ["pacing", "soundtrack", "direction", "humor"];

const tinyConfig = (outputDir: string | null): ReSTConfig => ({
  growSteps: 1,
  thresholds: [0, 1], // reward > 0: a positive word; > 1: two or more
  samplesPerPrompt: 32,
  generation: { maxNewTokens: 8 },
  evalSamplesPerPrompt: 32,
  sft: { learningRate: 0.05, batchSize: 16, numTrainEpochs: 3 },
  outputDir,
  seed: 0,
});
const tinyParts = (modelSeed: number): ReSTParts => ({
  model: new GenerativeBigram(modelSeed),
  tokenizer,
  reward: positiveReward,
  prompts: SUBJECTS.map((s) => `the ${s} was`),
  evalPrompts: HELD_OUT.map((s) => `the ${s} was`),
});

Deno.test("ReST raises a tiny LM's held-out keyword reward from one Improve step to the next", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rest = new ReST(tinyConfig(dir), tinyParts(0));
    const { initialEvalRewardMean, improveSteps } = await rest.run();
    const [first, second] = improveSteps.map((s) => s.evalRewardMean!);
    console.log(
      `ReST held-out mean reward: before ${initialEvalRewardMean}, after Improve 1 ${first}, ` +
        `after Improve 2 ${second} (kept ${improveSteps.map((s) => s.kept)})`,
    );
    // Measured (seed 0): 0.531 → 0.930 → 1.367; over model seeds 0–5 each gap was ≥ 0.27.
    assert.ok(first >= initialEvalRewardMean! + 0.2, `${initialEvalRewardMean} -> ${first}`);
    assert.ok(second >= first + 0.2, `${first} -> ${second}`);
    // Rising thresholds: a smaller, better subset at step 2.
    assert.ok(improveSteps[1].kept < improveSteps[0].kept);
    assert.ok(improveSteps[1].keptRewardMean > improveSteps[0].keptRewardMean);

    const grow = await readGrowFile(join(dir, "grow_1.jsonl"));
    assert.equal(grow.length, SUBJECTS.length * 32);
    assert.deepEqual(grow.map((s) => s.reward), rest.growSet!.map((s) => s.reward));
    const rescored = await positiveReward(grow.map((s) => `${s.prompt} ${s.completion}`));
    assert.deepEqual(grow.map((s) => s.reward), rescored);

    const lines = await readMetrics(dir);
    const evals = lines.filter((l) => "rest/eval_reward_mean" in l).map((l) =>
      l["rest/eval_reward_mean"]
    );
    assert.deepEqual(evals, [initialEvalRewardMean, first, second]);
    const improves = lines.filter((l) => "rest/improve_step" in l && "train/loss" in l);
    assert.deepEqual(
      improves.map((l) => [l["rest/improve_step"], l["rest/threshold"], l["rest/kept"]]),
      [
        [1, 0, improveSteps[0].kept],
        [2, 1, improveSteps[1].kept],
      ],
    );
    assert.deepEqual(improves.map((l) => l.step), improveSteps.map((s) => s.sftSteps));
    for (const l of improves) {
      for (const name of ["rest/grow_step", "rest/kept_fraction", "rest/kept_reward_mean"]) {
        assert.ok(name in l, name);
      }
    }
    assert.ok(lines.some((l) => "rest/grow_reward_mean" in l && l["rest/grow_step"] === 1));
    // Sample tables: the Grow set's first sample of each of 4 prompts, and the held-out samples
    // at every evaluation (before training and after each Improve step).
    const samples = await readSamples(dir);
    const grown = samples.filter((s) => s.table === "completions");
    assert.deepEqual(grown.map((s) => s.step), [0, 0, 0, 0]);
    assert.deepEqual(
      grown.map((s) => s.prompt),
      rest.growSet!.map((s) => s.prompt)
        .filter((p, i, all) => all.indexOf(p) === i).slice(0, 4),
    );
    const evalSteps = samples.filter((s) => s.table === "eval/completions").map((s) => s.step);
    assert.deepEqual([...new Set(evalSteps)], [0, ...improveSteps.map((s) => s.sftSteps)]);
    // SFT's own per-step lines of each Improve step.
    assert.ok(
      (await readMetrics(join(dir, "sft", "grow_1_improve_2"))).some((l) => "train/loss" in l),
    );

    // The checkpoint after the last Improve step holds the final weights and the run state.
    const fresh = new GenerativeBigram(99);
    const loaded = await loadCheckpoint(join(dir, "checkpoint"), { model: fresh });
    assert.deepEqual(loaded.extra.rest, {
      growStep: 1,
      improveStep: 2,
      sftSteps: improveSteps[1].sftSteps,
      growFile: "grow_1.jsonl",
      growSteps: 1,
      improveSteps: 2,
      seed: 0,
    });
    for (const [i, p] of rest.model.parameters().entries()) {
      assert.deepEqual(fresh.parameters()[i].toArraySync(), p.toArraySync());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ReST resumes at an Improve boundary: the same weights as an uninterrupted run", async () => {
  const whole = await Deno.makeTempDir(), parted = await Deno.makeTempDir();
  try {
    const reference = new ReST(tinyConfig(whole), tinyParts(0));
    await reference.run();

    const first = new ReST(tinyConfig(parted), tinyParts(0));
    await first.grow();
    await first.improve(); // writes the checkpoint after Improve step 1, then "dies"
    const resumed = new ReST(tinyConfig(parted), tinyParts(7));
    const { improveSteps } = await resumed.run({ resumeFrom: join(parted, "checkpoint") });
    assert.deepEqual(improveSteps.map((s) => [s.growStep, s.improveStep]), [[1, 2]]);
    for (const [i, p] of reference.model.parameters().entries()) {
      assert.deepEqual(resumed.model.parameters()[i].toArraySync(), p.toArraySync(), `param ${i}`);
    }
    await assert.rejects(
      () =>
        new ReST({ ...tinyConfig(parted), seed: 1 }, tinyParts(0)).run({
          resumeFrom: join(parted, "checkpoint"),
        }),
      /saved with seed 0, this run has 1/,
    );
  } finally {
    await Deno.remove(whole, { recursive: true });
    await Deno.remove(parted, { recursive: true });
  }
});

/** A user sampler: every sample appends the same `completion` tokens. */
const fixedSampler = (completion: number[]) => (rows: number[][]) =>
  rows.map((r) => [...r, ...completion]);

Deno.test("Grow set: the dataset's completions join it (∪ D), and it is saved as JSONL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dull = tokenizer.encode("dull");
    const parts: ReSTParts = {
      model: new BigramLM(0),
      tokenizer,
      reward: positiveReward,
      prompts: ["the plot was"],
      dataset: [
        { prompt: "the plot was", completion: "great" },
        { prompt: "the cast was", completion: "superb and charming" },
      ],
      generate: fixedSampler(dull),
    };
    const rest = new ReST({ samplesPerPrompt: 2, thresholds: [0], outputDir: dir }, parts);
    const { samples, file } = await rest.grow();
    assert.equal(file, join(dir, "grow_1.jsonl"));
    assert.deepEqual(
      samples.map((s) => [s.prompt, s.completion, s.reward, s.source]),
      [
        ["the plot was", "dull", 0, "policy"],
        ["the plot was", "dull", 0, "policy"],
        ["the plot was", "great", 1, "dataset"],
        ["the cast was", "dull", 0, "policy"],
        ["the cast was", "dull", 0, "policy"],
        ["the cast was", "superb and charming", 2, "dataset"],
      ],
    );
    // Dataset completions end with EOS, as SFT examples do.
    assert.deepEqual(samples[2].completionIds, [
      ...tokenizer.encode("great"),
      tokenizer.eosTokenId,
    ]);
    const lines = (await Deno.readTextFile(file!)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines[2].prompt, "the plot was");
    assert.deepEqual(lines[2].completion, "great");
    assert.deepEqual(lines[2].reward, 1);
    assert.deepEqual(await readGrowFile(file!), samples);

    const without = new ReST(
      { samplesPerPrompt: 2, thresholds: [0], includeDataset: false },
      parts,
    );
    assert.deepEqual((await without.grow()).samples.map((s) => s.source), Array(4).fill("policy"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ReST: an empty Grow set after filtering fails naming the step, threshold, count, max and fix", async () => {
  const rest = new ReST({ samplesPerPrompt: 3, thresholds: [0.5, 5] }, {
    model: new BigramLM(0),
    tokenizer,
    reward: positiveReward,
    prompts: ["the plot was", "the cast was"],
    generate: fixedSampler(tokenizer.encode("great")),
  });
  await assert.rejects(() => rest.improve(), /no Grow set yet; call grow\(\) first/);
  await rest.grow();
  await rest.improve(); // every sample scores 1 > 0.5
  await assert.rejects(
    () => rest.improve(),
    (e: Error) => {
      assert.ok(e instanceof EmptyImproveSetError);
      assert.match(
        e.message,
        /^ReST: Grow step 1, Improve step 2: no sample passed the filter \(reward > thresholds\[1\] = 5\); 6 samples were scored and their max reward is 1\. Lower the threshold or sample more/,
      );
      return true;
    },
  );
});

Deno.test("ReST: after I Improve steps, improve() asks for a new Grow step", async () => {
  const rest = new ReST({ samplesPerPrompt: 2, thresholds: [0.5] }, {
    model: new BigramLM(0),
    tokenizer,
    reward: positiveReward,
    prompts: ["the plot was"],
    generate: fixedSampler(tokenizer.encode("great")),
  });
  await rest.grow();
  await rest.improve();
  await assert.rejects(
    () => rest.improve(),
    /all 1 Improve steps of Grow step 1 are done; call grow\(\)/,
  );
  await rest.grow();
  assert.equal((await rest.improve()).growStep, 2);
});

Deno.test("ReST config errors name the field, the value and the fix", () => {
  const parts: ReSTParts = {
    model: new BigramLM(0),
    tokenizer,
    reward: positiveReward,
    prompts: ["the plot was"],
    generate: fixedSampler([3]),
  };
  const bad: [ReSTConfig, RegExp][] = [
    [{ samplesPerPrompt: 0 }, /samplesPerPrompt must be an integer >= 1, got 0/],
    [{ growSteps: 0 }, /growSteps must be an integer >= 1, got 0/],
    [{ improveSteps: 0 }, /improveSteps must be an integer >= 1, got 0/],
    [{ samplesPerPrompt: 1.5 }, /samplesPerPrompt must be an integer >= 1, got 1.5/],
    [
      { thresholds: [0.1, 0.7, 0.5] },
      /thresholds must be strictly increasing \(τ_1 < τ_2 < …\), but thresholds\[2\] = 0.5 is not above thresholds\[1\] = 0.7/,
    ],
    [{ thresholds: [0.2, 0.2] }, /thresholds\[1\] = 0.2 is not above thresholds\[0\] = 0.2/],
    [{ thresholds: [0, NaN] }, /thresholds\[1\] must be a finite number, got NaN/],
    [{ thresholds: [] }, /thresholds must be a non-empty list/],
    [
      { thresholds: [0, 1], improveSteps: 3 },
      /thresholds has 2 values but improveSteps is 3; give one threshold per Improve step/,
    ],
    [
      { thresholds: { startPercentile: 0.9, endPercentile: 0.5 } },
      /startPercentile \(0.9\) must not exceed endPercentile \(0.5\)/,
    ],
    [
      { thresholds: { startPercentile: 0.5, endPercentile: 1.5 } },
      /thresholds.endPercentile must be a number in \[0, 1\], got 1.5/,
    ],
    [{ saveCheckpoints: true }, /outputDir must be a folder when saveCheckpoints is true/],
    [{ sft: { seed: 3 } as ReSTConfig["sft"] }, /sft.seed is set by ReST.*set config.seed/],
    [{ generation: { maxNewTokens: 0 } }, /generation.maxNewTokens must be an integer >= 1, got 0/],
  ];
  for (const [config, message] of bad) assert.throws(() => new ReST(config, parts), message);
  // Defaults: trlX's schedule with 4 Improve steps; I follows the fixed list's length.
  assert.equal(new ReST({}, parts).config.improveSteps, 4);
  assert.equal(new ReST({ thresholds: [1, 2, 3] }, parts).config.improveSteps, 3);
  assert.throws(() => new ReST({}, { ...parts, prompts: [] }), /no prompts; pass parts.prompts/);
  assert.throws(
    () => new ReST({}, { ...parts, generate: undefined }),
    /cannot be sampled by models\/generate .* pass parts.generate/,
  );
});
