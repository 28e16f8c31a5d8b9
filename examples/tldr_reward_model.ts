/**
 * Step 2 of the TL;DR summarization tutorial: a GPT-2 reward model trained on human comparisons
 * of summaries, as trlX's `summarize_rlhf/reward_model` does it. It starts from the SFT model,
 * puts a bias-free linear head on every hidden state (a reward per token), freezes the first 70%
 * of the blocks, and learns from the per-token pairwise loss: over the tokens from the first one
 * where the two summaries differ to the later of their ends, the mean of
 * −log σ(r_chosen − r_rejected). A pair's score is the reward at the end of that span; accuracy
 * is how often the chosen summary scores higher.
 *
 *   deno run -A examples/tldr_reward_model.ts                # full: from runs/tldr_sft-full/model
 *   deno run -A examples/tldr_reward_model.ts --preset tiny  # offline: tiny SFT GPT-2, SYNTHETIC
 *   deno run -A examples/tldr_reward_model.ts --help         # every flag with its defaults
 *
 * Prints held-out pair accuracy before and after, writes metrics.jsonl, checkpoints, the reward
 * model (`<out>/model`, trlX's parameter names), a table of held-out posts (the chosen
 * (reference) and rejected summaries and the SFT model's own, with their rewards and ROUGE-L)
 * and `report.html`.
 *
 * @module
 */

import { join } from "node:path";
import { selectBackend } from "../core/mod.ts";
import { gistScore } from "../data/mod.ts";
import { computeRouge } from "../eval/mod.ts";
import { loadTokenizer } from "../models/mod.ts";
import {
  loadGpt2TokenRewardModel,
  type TokenRewardEvalMetrics,
  tokenRewardFunction,
  TokenRewardTrainer,
} from "../reward/mod.ts";
import { scoreTexts } from "../reward/mod.ts";
import { type ReportTarget, RunWriter, writeRunConfig } from "../report/run_files.ts";
import { defineCli, openRun, type ParsedArgs, reportTargets } from "./common/cli.ts";
import { writeRunReport } from "./common/report.ts";
import { tldrRewardFlags, tldrRewardPreset } from "./tldr/args.ts";
import { comparisonTexts, summaryText, TLDR_CUE, tokenizeComparisons } from "./tldr/data.ts";
import { loadComparisonSplits } from "./tldr/load.ts";
import { loadTldrPolicy, saveWithTokenizer } from "./tldr/models.ts";
import type { TldrPreset } from "./tldr/presets.ts";
import { generateSummaries } from "./tldr/summaries.ts";
import { columnSamples, type TableRow, writeTable } from "./tldr/table.ts";

const NAME = "tldr_reward_model";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "step 2 of the TL;DR summarization tutorial: trlX's per-token GPT-2 reward model, " +
    "trained on human comparisons of summaries.",
  description: "Starts from the SFT model with a bias-free head on every hidden state and the " +
    "first 70% of the blocks frozen, and learns from trlX's span loss. Prints held-out pair " +
    "accuracy before and after; writes metrics.jsonl, checkpoints, the reward model " +
    "(<out>/model, trlX's parameter names), a table of held-out posts (chosen, rejected and " +
    "the SFT model's own summaries with their rewards) and report.html into --out.",
  flags: tldrRewardFlags(NAME),
  examples: [
    "deno run -A examples/tldr_reward_model.ts --preset tiny",
    "deno run -A examples/tldr_reward_model.ts --preset tiny --max-steps 40 --out runs/tldr-rm",
    "deno run -A examples/tldr_reward_model.ts --preset tiny --max-steps 80 --out runs/tldr-rm " +
    "--resume",
  ],
});

/** A parsed run of the reward-model example. */
export interface TldrRewardOptions {
  /** The preset with flag overrides applied. */
  preset: TldrPreset;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from `<out>/checkpoint`. */
  resume: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of the data order and of the fresh head. */
  seed: number;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /** The command line, recorded in the run folder's `run.json`. */
  argv?: readonly string[];
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the trainer's progress bar (default true). */
  progress?: boolean;
}

/** What a run measured. */
export interface TldrRewardResult {
  /** Held-out metrics with the fresh head. */
  before: TokenRewardEvalMetrics;
  /** Held-out metrics after training. */
  after: TokenRewardEvalMetrics;
  /** Blocks frozen, of all. */
  frozen: { frozen: number; total: number };
  /** Comparison rows skipped by trlX's filter (full preset). */
  skipped: number;
  /** Pair members cut to `maxLength`. */
  truncated: number;
  /** Training pairs left out because truncation made their two rows identical. */
  identicalTrainPairs: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Where the reward model went. */
  modelDir: string;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function tldrRewardOptions(a: ParsedArgs<typeof CLI.flags>): TldrRewardOptions {
  return {
    preset: tldrRewardPreset(a),
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
  };
}

/**
 * Parse the command line into run options; a bad flag or value throws, naming it.
 *
 * @param argv Arguments.
 */
export function parseTldrRewardArgs(argv: readonly string[]): TldrRewardOptions {
  return tldrRewardOptions(CLI.parse(argv));
}

const describe = (m: TokenRewardEvalMetrics) =>
  `accuracy ${m.accuracy.toFixed(4)}, loss ${m.loss.toFixed(4)}, margin ${m.margin.toFixed(3)} ` +
  `on ${m.pairs} pairs` +
  (m.pairs_without_difference ? ` (${m.pairs_without_difference} without a difference)` : "");

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runTldrReward(o: TldrRewardOptions): Promise<TldrRewardResult> {
  const t0 = performance.now();
  const log = o.log ?? ((line: string) => console.log(line));
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, {
    checkpoints: ["checkpoint"],
    log: o.log,
    argv: o.argv,
  });
  const { preset } = o;
  const r = preset.reward;
  // Why auto chose what it did goes into this line, not onto standard error.
  const backend = await selectBackend(o.backend, { quiet: true });
  log(
    `${NAME} (${preset.name}): from ${r.sftModel} on ${
      preset.data === "hub" ? "CarperAI/openai_summarize_comparisons" : "SYNTHETIC comparisons"
    }, max length ${r.maxLength}, first ${Math.round(100 * r.freezeFraction)}% of blocks ` +
      `frozen, lr ${r.learningRate}, batch ${r.batchSize}, backend ${backend.name} ` +
      `(${backend.reason})`,
  );
  // The data first: offline, an uncached dataset stops the run here, naming it.
  const splits = await loadComparisonSplits(preset);
  const trainTexts = comparisonTexts(NAME, splits.train, r.filter);
  const testTexts = comparisonTexts(NAME, splits.test, r.filter);
  const skipped = trainTexts.skipped + testTexts.skipped;
  if (r.filter === "trlx") {
    log(`trlX's filter skipped ${skipped} pairs (equal summaries, or one under five words)`);
  }
  const tokenizer = await loadTokenizer(r.sftModel);
  const train = tokenizeComparisons(trainTexts.pairs, tokenizer, r.maxLength, r.prefix);
  const test = tokenizeComparisons(testTexts.pairs, tokenizer, r.maxLength, r.prefix);
  log(
    `${train.pairs.length} training pairs, ${test.pairs.length} held out; ` +
      `${train.truncated + test.truncated} texts longer than ${r.maxLength} tokens were cut ` +
      `(${train.identical} training and ${test.identical} held-out pairs lost their difference)`,
  );
  const model = await loadGpt2TokenRewardModel(r.sftModel, {
    backend: backend.name,
    seed: o.seed,
    log: () => {},
  });
  try {
    const frozen = model.freezeFirstBlocks(r.freezeFraction);
    log(`v_head starts fresh; blocks 0-${frozen.frozen - 1} of ${frozen.total} frozen`);
    const trainer = new TokenRewardTrainer({
      learningRate: r.learningRate,
      batchSize: r.batchSize,
      evalBatchSize: Math.max(r.batchSize, 16),
      gradientAccumulationSteps: r.gradientAccumulationSteps,
      numTrainEpochs: r.numTrainEpochs,
      maxSteps: r.maxSteps,
      warmupSteps: r.warmupSteps,
      evalSteps: r.maxSteps === null ? r.evalSteps : Math.min(r.evalSteps, r.maxSteps),
      saveSteps: r.maxSteps === null ? r.saveSteps : Math.min(r.saveSteps, r.maxSteps),
      loggingSteps: Math.max(1, Math.min(10, Math.floor((r.maxSteps ?? 100) / 10))),
      maxLength: r.maxLength,
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
      reportTo: o.reportTo,
    }, { model, trainDataset: train.pairs, evalDataset: test.pairs, tokenizer });
    if (trainer.droppedIdenticalPairs > 0) {
      log(`left out ${trainer.droppedIdenticalPairs} training pairs with no difference to learn`);
    }
    await writeRunConfig(o.out, { preset });
    const before = await trainer.evaluate();
    log(`fresh head: ${describe(before)}`);
    if (!o.resume) {
      const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
      await writer.write(0, { "eval/accuracy": before.accuracy, "eval/loss": before.loss });
      writer.close();
    }
    const run = await trainer.train({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    const after = await trainer.evaluate();
    log(`after ${run.globalStep} steps: ${describe(after)}`);
    trainer.optimizer.dispose();
    const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
    await writer.write(run.globalStep, {
      "eval/accuracy": after.accuracy,
      "eval/loss": after.loss,
      "eval/margin": after.margin,
    });
    writer.close();

    // The table: held-out posts, the chosen (reference) and rejected summaries, and what the
    // SFT model writes itself, each scored by the trained reward model.
    const shown = splits.test.slice(0, preset.tablePosts);
    const gists = splits.testGists;
    const sft = await loadTldrPolicy(r.sftModel, backend.name, o.seed);
    let written: string[];
    try {
      written = await generateSummaries(
        sft.model,
        tokenizer,
        shown.map((row) => ({ prompt: `${row.prompt}\n${TLDR_CUE}`, label: row.chosen })),
        { maxLength: r.maxLength, maxNewTokens: preset.sft.maxNewTokens },
      );
    } finally {
      sft.model.dispose();
    }
    const score = tokenRewardFunction(model, tokenizer, {
      maxLength: r.maxLength,
      prefix: r.prefix,
    });
    const texts = (summaries: string[]) =>
      shown.map((row, i) => `${row.prompt}\n${TLDR_CUE} ${summaries[i]}`);
    const chosen = shown.map((row) => summaryText(row.chosen));
    const rejected = shown.map((row) => summaryText(row.rejected));
    const [rc, rr, rs] = [
      await scoreTexts(score, texts(chosen)),
      await scoreTexts(score, texts(rejected)),
      await scoreTexts(score, texts(written)),
    ];
    const rows: TableRow[] = shown.map((row, i) => {
      const column = (text: string, reward: number) => ({
        text,
        reward,
        rougeL: computeRouge([text], [chosen[i]], { useAggregator: false })[0].rougeL.fmeasure,
        gist: gists ? gistScore(text, gists[i]) : null,
      });
      return {
        post: row.prompt,
        reference: chosen[i],
        summaries: {
          chosen: column(chosen[i], rc[i]),
          rejected: column(rejected[i], rr[i]),
          SFT: column(written[i], rs[i]),
        },
      };
    });
    const table = await writeTable(o.out, rows, log);
    // Each column of the table as a sample table of the report, scored by the trained model.
    const samples = await RunWriter.open(o.out, { reportTo: o.reportTo });
    try {
      for (const c of ["chosen", "rejected", "SFT"]) {
        await samples.writeSamples(run.globalStep, columnSamples(rows, c), `eval/${c}`);
      }
    } finally {
      samples.close();
    }
    const modelDir = join(o.out, "model");
    await saveWithTokenizer(model, r.sftModel, modelDir);
    log(`saved the reward model (v_head.weight, transformer.*) and its tokenizer in ${modelDir}`);
    log(`metrics: ${join(o.out, "metrics.jsonl")}; table: ${table}`);
    log(`${NAME} (${preset.name}) finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await writeRunReport(o.out, log);
    return {
      before,
      after,
      frozen,
      skipped,
      truncated: train.truncated + test.truncated,
      identicalTrainPairs: trainer.droppedIdenticalPairs,
      steps: run.globalStep,
      modelDir,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runTldrReward({ ...tldrRewardOptions(a), argv });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
