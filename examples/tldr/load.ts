/**
 * Reading the TL;DR examples' rows: the tutorial's Hub datasets (through the Hugging Face
 * cache; offline and uncached, the first read fails at once naming the dataset), or the
 * SYNTHETIC summarization corpus with each post's gist.
 *
 * @module
 */

import {
  generateSyntheticSummaries,
  generateSyntheticSummaryComparisons,
  loadTldrComparisons,
  loadTldrSft,
  type SummaryGist,
} from "../../data/mod.ts";
import type { ComparisonRow, SftRow } from "./data.ts";
import type { TldrPreset } from "./presets.ts";

/** SFT rows, with each SYNTHETIC post's gist (null for Hub data). */
export interface SftSplits {
  /** Training rows. */
  train: SftRow[];
  /** Held-out rows. */
  test: SftRow[];
  /** Gists of the held-out rows (SYNTHETIC only). */
  testGists: SummaryGist[] | null;
}

/**
 * The SFT stage's rows: `train` and the first `evalExamples` of `valid`.
 *
 * @param preset Source and counts.
 */
export async function loadSftSplits(preset: TldrPreset): Promise<SftSplits> {
  const s = preset.sft;
  if (preset.data === "synthetic") {
    const seeds = preset.syntheticSeeds;
    const train = generateSyntheticSummaries(s.trainExamples ?? 2048, {
      seed: seeds.sftTrain,
      carelessFraction: preset.syntheticCarelessFraction,
    });
    const test = generateSyntheticSummaries(s.evalExamples, { seed: seeds.sftTest }).toArray();
    return {
      train: train.toArray().map(({ prompt, label }) => ({ prompt, label })),
      test: test.map(({ prompt, label }) => ({ prompt, label })),
      testGists: test.map((p) => p.gist),
    };
  }
  const test = (await loadTldrSft({ split: "valid", limit: s.evalExamples })).toArray();
  const train = (await loadTldrSft({ split: "train", limit: s.trainExamples ?? undefined }))
    .toArray();
  return { train, test, testGists: null };
}

/** Comparison rows, with each SYNTHETIC post's gist. */
export interface ComparisonSplits {
  /** Training rows. */
  train: ComparisonRow[];
  /** Held-out rows. */
  test: ComparisonRow[];
  /** Gists of the held-out rows (SYNTHETIC only). */
  testGists: SummaryGist[] | null;
}

/**
 * The reward stage's rows: `train` and `test` comparisons.
 *
 * @param preset Source and counts.
 */
export async function loadComparisonSplits(preset: TldrPreset): Promise<ComparisonSplits> {
  const r = preset.reward;
  if (preset.data === "synthetic") {
    const seeds = preset.syntheticSeeds;
    const strip = (c: ComparisonRow) => ({
      prompt: c.prompt,
      chosen: c.chosen,
      rejected: c.rejected,
    });
    const train = generateSyntheticSummaryComparisons(r.trainPairs ?? 2048, {
      seed: seeds.pairsTrain,
    });
    const test = generateSyntheticSummaryComparisons(r.testPairs ?? 256, {
      seed: seeds.pairsTest,
    }).toArray();
    return {
      train: train.toArray().map(strip),
      test: test.map(strip),
      testGists: test.map((c) => c.gist),
    };
  }
  const test = (await loadTldrComparisons({ split: "test", limit: r.testPairs ?? undefined }))
    .toArray();
  const train = (await loadTldrComparisons({ split: "train", limit: r.trainPairs ?? undefined }))
    .toArray();
  return { train, test, testGists: null };
}

/** The PPO stage's posts: training prompts and held-out prompts with their references. */
export interface PpoSplits {
  /** Posts PPO trains on (`train`, as the tutorial). */
  train: SftRow[];
  /** Held-out posts (the first `evalPrompts` of `valid`). */
  eval: SftRow[];
  /** Gists of the held-out posts (SYNTHETIC only). */
  evalGists: SummaryGist[] | null;
}

/**
 * The PPO stage's rows: the tutorial's prompts come from the SFT dataset's `train` split and its
 * evaluation prompts are the first 1000 of `valid`; the tiny preset draws the same two SYNTHETIC
 * streams the SFT stage reads.
 *
 * @param preset Source and counts.
 */
export async function loadPpoSplits(preset: TldrPreset): Promise<PpoSplits> {
  const p = preset.ppo;
  if (preset.data === "synthetic") {
    const seeds = preset.syntheticSeeds;
    const train = generateSyntheticSummaries(p.trainPrompts ?? 2048, {
      seed: seeds.sftTrain,
      carelessFraction: preset.syntheticCarelessFraction,
    });
    const test = generateSyntheticSummaries(p.evalPrompts, { seed: seeds.sftTest }).toArray();
    return {
      train: train.toArray().map(({ prompt, label }) => ({ prompt, label })),
      eval: test.map(({ prompt, label }) => ({ prompt, label })),
      evalGists: test.map((x) => x.gist),
    };
  }
  const evalRows = (await loadTldrSft({ split: "valid", limit: p.evalPrompts })).toArray();
  const train = (await loadTldrSft({ split: "train", limit: p.trainPrompts ?? undefined }))
    .toArray();
  return { train, eval: evalRows, evalGists: null };
}
