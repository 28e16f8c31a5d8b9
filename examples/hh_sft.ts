/**
 * Supervised fine-tuning on hh-rlhf: GPT-2 learns the chosen final Assistant reply of each
 * dialogue (the prompt, every turn before it, is masked out of the loss). Prints the held-out
 * loss and perplexity before and after, writes `metrics.jsonl`, checkpoints, the tuned model and
 * a side-by-side table of samples before and after with their rewards.
 *
 *   deno run -A examples/hh_sft.ts                  # full: gpt2 + Anthropic/hh-rlhf from the Hub
 *   deno run -A examples/hh_sft.ts --preset tiny    # offline: tiny GPT-2, SYNTHETIC prompts
 *   deno run -A examples/hh_sft.ts --help           # every flag with its defaults
 *
 * @module
 */

import { join } from "node:path";
import { defineCli, openRun, type ParsedArgs, reportTargets } from "./common/cli.ts";
import { prefixed } from "../algorithms/common/trainer.ts";
import { type SftEvalMetrics, SFTTrainer } from "../algorithms/sft/mod.ts";
import type { SideBySideSummary } from "./common/side_by_side.ts";
import { hhFlags, hhPresetFromFlags, trainerFlags } from "./hh/args.ts";
import { sftExamples } from "./hh/data.ts";
import { saveHhPolicy } from "./hh/policy.ts";
import { type HhPreset, hhPreset, type HhSftSettings } from "./hh/presets.ts";
import { loadTokenizedHhPairs, startHhRun } from "./hh/run.ts";
import { HeldOutSamples, logRunFiles } from "./hh/samples.ts";
import { type ReportTarget, RunWriter, writeRunConfig } from "../report/run_files.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "hh_sft";

/** The command line: the hh flags and the trainer's. */
export const CLI = defineCli({
  name: NAME,
  summary: "supervised fine-tuning on hh-rlhf's chosen replies (prompt tokens masked out).",
  description: "Prints the held-out loss and perplexity before and after, writes metrics.jsonl, " +
    "checkpoints, the tuned model and a side-by-side table of samples before and after with " +
    "their rewards into --out.",
  flags: { ...hhFlags(NAME), ...trainerFlags((p) => p.sft) },
  examples: [
    "deno run -A examples/hh_sft.ts --preset tiny",
    "deno run -A examples/hh_sft.ts --preset tiny --max-steps 50 --out runs/sft-short",
    "deno run -A examples/hh_sft.ts --preset tiny --out runs/sft-short --resume --max-steps 80",
  ],
});

/** A parsed run of the SFT example. */
export interface HhSftOptions {
  /** The preset, with flag overrides applied. */
  preset: HhPreset;
  /** SFT settings, with flag overrides applied. */
  sft: HhSftSettings;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from `<out>/checkpoint`. */
  resume: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of data, sampling and order. */
  seed: number;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /** Reward model folder or Hub id. */
  rewardModel: string | null;
  /** Where lines go (default console.log); the table is printed by `writeSideBySide`. */
  log?: (line: string) => void;
  /** Draw the trainer's progress bar (default true). */
  progress?: boolean;
}

/** What a run measured. */
export interface HhSftResult {
  /** Held-out metrics of the original model. */
  before: SftEvalMetrics;
  /** Held-out metrics of the tuned model. */
  after: SftEvalMetrics;
  /** Relative fall of the held-out loss: 1 − after / before. */
  lossDrop: number;
  /** Side-by-side means and wins. */
  sideBySide: SideBySideSummary;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function hhSftOptions(a: ParsedArgs<typeof CLI.flags>): HhSftOptions {
  return {
    preset: hhPresetFromFlags(a),
    sft: {
      ...hhPreset(a.preset).sft,
      maxSteps: a.maxSteps,
      learningRate: a.learningRate,
      batchSize: a.batchSize,
    },
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
    rewardModel: a.rewardModel ?? hhPreset(a.preset).rewardModel,
  };
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhSftArgs(argv: readonly string[]): HhSftOptions {
  return hhSftOptions(CLI.parse(argv));
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhSft(o: HhSftOptions): Promise<HhSftResult> {
  const t0 = performance.now();
  const { preset, sft } = o;
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const run = await startHhRun(NAME, preset, o);
  const { log, policy, reward } = run;
  try {
    log(`reward: ${reward.description}`);
    const { train, test } = await loadTokenizedHhPairs(
      NAME,
      preset,
      o.seed,
      policy.tokenizer,
      log,
      "example",
    );
    const shown = test.texts.slice(0, preset.sideBySidePrompts).map((p) => p.prompt);
    const heldOut = await HeldOutSamples.take(
      policy,
      shown,
      preset.sampling,
      reward,
      o.seed + 7919,
    );

    await writeRunConfig(o.out, { preset });

    const trainer = new SFTTrainer({
      learningRate: sft.learningRate,
      batchSize: sft.batchSize,
      maxSteps: sft.maxSteps,
      warmupSteps: sft.warmupSteps,
      evalSteps: Math.min(sft.evalSteps, sft.maxSteps),
      saveSteps: Math.min(sft.saveSteps, sft.maxSteps),
      loggingSteps: Math.max(1, Math.min(10, Math.floor(sft.maxSteps / 10))),
      maxLength: preset.maxLength,
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
      reportTo: o.reportTo,
    }, {
      model: policy.model,
      trainDataset: sftExamples(train),
      evalDataset: sftExamples(test),
      tokenizer: policy.tokenizer,
    });
    const before = await trainer.evaluate();
    log(
      `before: eval/loss ${before.loss.toFixed(4)}, eval/perplexity ${
        before.perplexity.toFixed(2)
      }`,
    );
    if (!o.resume) {
      const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
      await writer.write(0, prefixed("eval/", before));
      writer.close();
    }
    const out = await trainer.train({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    const after = await trainer.evaluate();
    const lossDrop = 1 - after.loss / before.loss;
    log(
      `after ${out.globalStep} steps: eval/loss ${after.loss.toFixed(4)}, eval/perplexity ` +
        `${after.perplexity.toFixed(2)} (loss ${(100 * lossDrop).toFixed(1)}% lower)`,
    );
    const sideBySide = await heldOut.compare(o.out, "SFT", log);
    const cfg = trainer.args;
    // The trainer already logged the final evaluation when the last step fell on evalSteps.
    const finalEvalLogged = cfg.evalSteps !== null && out.globalStep % cfg.evalSteps === 0;
    const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
    await writer.write(out.globalStep, {
      ...(finalEvalLogged ? {} : prefixed("eval/", after)),
      "samples/reward_mean_original": sideBySide.meanBefore,
      "samples/reward_mean_tuned": sideBySide.meanAfter,
    });
    writer.close();
    const saved = await saveHhPolicy(policy, preset.policy, join(o.out, "model"));
    logRunFiles(o.out, saved, sideBySide.path, log);
    await writeRunReport(o.out, log);
    return { before, after, lossDrop, sideBySide, seconds: (performance.now() - t0) / 1000 };
  } finally {
    run.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runHhSft(hhSftOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
