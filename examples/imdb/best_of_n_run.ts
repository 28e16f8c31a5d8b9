/**
 * Reward-guided generation without training: each neutral prompt gets `n` samples from the
 * original policy, the reward model ranks them, and the best one is kept (TRL's best-of-n). The
 * baseline, "plain sampling", is the mean reward of all `n` samples of a prompt: the expected
 * reward of one plain sample, estimated from the same draws.
 *
 * @module
 */

import { join } from "node:path";
import { Generator } from "../../core/mod.ts";
import { bestOfN, type BestOfNResult } from "../../algorithms/best_of_n/mod.ts";
import type { RewardFunction } from "../../reward/mod.ts";
import { type CausalLM, loadCausalLM, loadTokenizer, type Tokenizer } from "../../models/mod.ts";
import { type ReportTarget, RUN_FILES, RunWriter } from "../../report/run_files.ts";
import type { SampleRow } from "../../report/samples.ts";
import { type ImdbReward, loadImdbReward } from "./models.ts";
import type { ImdbPreset, SamplingSettings } from "./presets.ts";
import { encodePrompt } from "./queries.ts";
import { rewardAccuracyLine, rewardModelAccuracy } from "./reward_check.ts";
import { drawLength, sampleResponses } from "./sampling.ts";

/** One prompt's outcome. */
export interface BestOfNPromptResult {
  /** Prompt text. */
  prompt: string;
  /** All samples, best first: the whole text (prompt included) and its reward. */
  ranked: { text: string; score: number }[];
  /** Reward of the best sample. */
  best: number;
  /** Mean reward of all samples (plain sampling's expected reward). */
  plain: number;
}

/** What a best-of-n run found. */
export interface BestOfNSummary {
  /** Per prompt, in prompt order. */
  prompts: BestOfNPromptResult[];
  /** Samples per prompt. */
  n: number;
  /** Mean over prompts of the best sample's reward. */
  meanBest: number;
  /** Mean over prompts of the mean sample reward. */
  meanPlain: number;
}

/** Options of {@link runBestOfN}. */
export interface RunBestOfNOptions {
  /** The original policy. */
  model: CausalLM;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
  /** Scores texts (query and continuation together). */
  reward: RewardFunction;
  /** Neutral prompts. */
  prompts: readonly string[];
  /** Samples per prompt. */
  n: number;
  /** Sampling settings (one length drawn per prompt). */
  sampling: SamplingSettings;
  /** Seed of lengths and sampling. */
  seed: number;
  /** Put BOS before each prompt (the tiny policy's training texts start with it). */
  promptStartsWithBos?: boolean;
  /** Receives each prompt's ranked candidates as a sample table (step = prompt number). */
  logSamples?: (step: number, rows: SampleRow[]) => void | Promise<void>;
}

/**
 * Best-of-n over the prompts.
 *
 * @param o Model, reward, prompts and settings.
 */
export async function runBestOfN(o: RunBestOfNOptions): Promise<BestOfNSummary> {
  const generator = new Generator(o.seed);
  const bos = { promptStartsWithBos: o.promptStartsWithBos ?? false };
  const queries = o.prompts.map((p) => encodePrompt(bos, o.tokenizer, p));
  const results: BestOfNResult[] = await bestOfN(queries, {
    generate: async (rows, maxNew) => {
      const responses = await sampleResponses(o.model, rows, o.sampling, maxNew, generator);
      return rows.map((q, i) => [...q, ...responses[i]]);
    },
    decode: (ids) => o.tokenizer.decode(ids, { skipSpecialTokens: true }),
    reward: o.reward,
    sampleSize: o.n,
    lengthSampler: () => drawLength(o.sampling.responseLength, generator),
    logSamples: o.logSamples,
  });
  const prompts = results.map((r, i) => {
    const ranked = r.ranked.map((c) => ({ text: c.text, score: c.score }));
    const plain = ranked.reduce((s, c) => s + c.score, 0) / ranked.length;
    return { prompt: o.prompts[i], ranked, best: ranked[0].score, plain };
  });
  const mean = (f: (p: BestOfNPromptResult) => number) =>
    prompts.reduce((s, p) => s + f(p), 0) / prompts.length;
  return { prompts, n: o.n, meanBest: mean((p) => p.best), meanPlain: mean((p) => p.plain) };
}

/**
 * The run as Markdown: each prompt's samples ranked by reward, then the summary line.
 *
 * @param s A run's summary.
 */
export function formatBestOfN(s: BestOfNSummary): string {
  const lines: string[] = [];
  for (const p of s.prompts) {
    lines.push(`### "${p.prompt}" (best ${p.best.toFixed(3)}, mean ${p.plain.toFixed(3)})`, "");
    p.ranked.forEach((c, i) =>
      lines.push(`${i + 1}. ${c.score.toFixed(3)}  ${c.text.replace(/\s+/g, " ")}`)
    );
    lines.push("");
  }
  lines.push(bestOfNSummaryLine(s));
  return lines.join("\n");
}

/**
 * One line: best-of-n against plain sampling over the prompts.
 *
 * @param s A run's summary.
 */
export function bestOfNSummaryLine(s: BestOfNSummary): string {
  const gain = s.meanBest - s.meanPlain;
  return `best-of-${s.n}: mean reward ${s.meanBest.toFixed(3)} vs plain sampling ` +
    `${s.meanPlain.toFixed(3)} (mean of all ${s.n} samples per prompt) over ` +
    `${s.prompts.length} prompts: ${gain >= 0 ? "+" : ""}${gain.toFixed(3)}`;
}

/**
 * Write `best_of_n.json` and `best_of_n.md` into `outDir`.
 *
 * @param outDir Run folder (created if missing).
 * @param s A run's summary.
 */
export async function writeBestOfN(outDir: string, s: BestOfNSummary): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(join(outDir, "best_of_n.json"), JSON.stringify(s, null, 2) + "\n");
  await Deno.writeTextFile(join(outDir, "best_of_n.md"), formatBestOfN(s) + "\n");
}

/** Options of {@link runImdbBestOfN}. */
export interface RunImdbBestOfNOptions {
  /** The preset (prompts, n, sampling, models). */
  preset: ImdbPreset;
  /** Run folder: best_of_n.json, best_of_n.md, metrics.jsonl. */
  out: string;
  /** Seed of lengths and sampling. */
  seed?: number;
  /** Backend of the weights (default: the current one). */
  backend?: string;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
}

/** What the stage found, with the reward model's accuracy it printed first. */
export interface ImdbBestOfNResult extends BestOfNSummary {
  /** Reward model pair accuracy. */
  rewardAccuracy: { train: number; test: number };
}

/**
 * The best-of-n stage of the tutorial: reward model check, then best-of-n on the preset's
 * neutral prompts with the original policy; prints each prompt's ranked samples and the summary,
 * and writes them with a metrics line into `out`.
 *
 * @param o Preset, run folder, seed, backend.
 */
export async function runImdbBestOfN(o: RunImdbBestOfNOptions): Promise<ImdbBestOfNResult> {
  const { preset } = o;
  const log = o.log ?? ((line: string) => console.log(line));
  const model = await loadCausalLM(preset.policy, { backend: o.backend });
  let reward: ImdbReward | null = null;
  let run: RunWriter | null = null;
  try {
    const tokenizer = await loadTokenizer(preset.policy);
    reward = await loadImdbReward(preset, { backend: o.backend });
    const rewardAccuracy = await rewardModelAccuracy(preset, reward);
    log(rewardAccuracyLine(preset, rewardAccuracy));
    // One run per folder: a rerun replaces the files rather than appending to them.
    for (const file of [RUN_FILES.metrics, RUN_FILES.samples, RUN_FILES.distributions]) {
      await Deno.remove(join(o.out, file)).catch(() => {});
    }
    run = await RunWriter.open(o.out, { reportTo: o.reportTo, config: { preset } });
    const writer = run;
    const summary = await runBestOfN({
      model,
      tokenizer,
      reward: reward.score,
      prompts: preset.bestOfNPrompts,
      n: preset.bestOfNSamples,
      sampling: preset.bestOfNSampling,
      seed: o.seed ?? 0,
      promptStartsWithBos: preset.promptStartsWithBos,
      logSamples: (step, rows) => writer.writeSamples(step, rows),
    });
    log(formatBestOfN(summary));
    await writeBestOfN(o.out, summary);
    await writer.writeDistribution(
      0,
      "best_of_n/rewards",
      summary.prompts.flatMap((p) => p.ranked.map((c) => c.score)),
    );
    await writer.write(0, {
      "best_of_n/reward_best_mean": summary.meanBest,
      "best_of_n/reward_plain_mean": summary.meanPlain,
      "best_of_n/n": summary.n,
      "best_of_n/prompts": summary.prompts.length,
      "reward_model/accuracy_train": rewardAccuracy.train,
      "reward_model/accuracy_test": rewardAccuracy.test,
    });
    return { ...summary, rewardAccuracy };
  } finally {
    run?.close();
    model.dispose();
    reward?.model.dispose();
  }
}
