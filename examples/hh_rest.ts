/**
 * ReST (Reinforced Self-Training, Gulcehre et al. 2023) on hh-rlhf prompts: a Grow step samples
 * K replies per prompt from GPT-2 and scores them with the reward; each Improve step keeps the
 * samples above a rising threshold and fine-tunes on them. Prints the held-out mean reward before
 * and after each Improve step, writes `metrics.jsonl` (ReST's `rest/*` names), the Grow set,
 * checkpoints, the tuned model and a side-by-side table of samples before and after.
 *
 *   deno run -A examples/hh_rest.ts                 # full: gpt2 + Anthropic/hh-rlhf from the Hub
 *   deno run -A examples/hh_rest.ts --preset tiny   # offline: tiny GPT-2 + tiny reward model
 *   deno run -A examples/hh_rest.ts --help          # every flag with its defaults
 *
 * Grow sets hold the policy's own samples only (ReST's `includeDataset` is off): the reward
 * decides what is learned, not the dataset's replies.
 *
 * @module
 */

import { join } from "node:path";
import { type ImproveResult, ReST, type ReSTTokenizer } from "../algorithms/rest/mod.ts";
import {
  defineCli,
  flag,
  openRun,
  type ParsedArgs,
  perPreset,
  type Preset,
  reportTargets,
} from "./common/cli.ts";
import type { SideBySideSummary } from "./common/side_by_side.ts";
import { hhFlags, hhPresetFromFlags } from "./hh/args.ts";
import { loadHhPairs } from "./hh/data.ts";
import { promptIds, saveHhPolicy } from "./hh/policy.ts";
import { type HhPreset, hhPreset, type HhRestSettings } from "./hh/presets.ts";
import { startHhRun } from "./hh/run.ts";
import { HeldOutSamples, logRunFiles } from "./hh/samples.ts";
import type { Tokenizer } from "../models/mod.ts";
import { type ReportTarget, writeRunConfig } from "../report/run_files.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "hh_rest";

const restOf = (p: string) => hhPreset(p as Preset).rest;

/** The command line: the hh flags and ReST's. */
export const CLI = defineCli({
  name: NAME,
  summary: "ReST (Grow, then Improve steps at rising reward thresholds) on hh-rlhf prompts.",
  description: "A Grow step samples K replies per prompt and scores them with the reward; each " +
    "Improve step keeps the samples above a rising threshold and fine-tunes on them. Prints " +
    "the held-out mean reward before and after each Improve step; writes metrics.jsonl (rest/* " +
    "names), the Grow set, checkpoints, the tuned model and a side-by-side table into --out.",
  flags: {
    ...hhFlags(NAME),
    "samples-per-prompt": flag.int({
      help: "samples per prompt in the Grow step (K)",
      min: 1,
      default: perPreset((p) => restOf(p).samplesPerPrompt),
    }),
    "improve-steps": flag.int({
      help: "Improve steps (I); with --thresholds, one per threshold",
      min: 1,
      default: perPreset((p) => restOf(p).improveSteps),
    }),
    thresholds: flag.numbers({
      help: "fixed reward thresholds, one per Improve step",
      rising: true,
      defaultText: "ReST's rising per-prompt percentiles",
      example: "0,1,2",
    }),
    "grow-prompts": flag.int({
      help: "prompts sampled from in the Grow step",
      min: 1,
      default: perPreset((p) => restOf(p).growPrompts),
    }),
    "learning-rate": flag.number({
      help: "SFT learning rate of each Improve step",
      above: 0,
      default: perPreset((p) => restOf(p).learningRate),
    }),
    "batch-size": flag.int({
      help: "SFT batch size of each Improve step",
      min: 1,
      default: perPreset((p) => restOf(p).batchSize),
    }),
    epochs: flag.number({
      help: "SFT passes over the filtered Grow set per Improve step",
      above: 0,
      default: perPreset((p) => restOf(p).epochs),
    }),
  },
  examples: [
    "deno run -A examples/hh_rest.ts --preset tiny",
    "deno run -A examples/hh_rest.ts --preset tiny --thresholds 0,2,4 --out runs/rest-fixed",
  ],
});

/** A parsed run of the ReST example. */
export interface HhRestOptions {
  /** The preset, with flag overrides applied. */
  preset: HhPreset;
  /** ReST settings, with flag overrides applied. */
  rest: HhRestSettings;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from `<out>/checkpoint` (after its Improve step). */
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
  /** Draw progress bars (default true). */
  progress?: boolean;
}

/** What a run measured. */
export interface HhRestResult {
  /** Held-out mean reward before the first Improve step (null when resumed). */
  initialRewardMean: number | null;
  /** Held-out mean reward after each Improve step this run took, in order. */
  improveRewardMeans: number[];
  /** ReST's report of each Improve step. */
  improveSteps: ImproveResult[];
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
export function hhRestOptions(a: ParsedArgs<typeof CLI.flags>): HhRestOptions {
  const settings: HhRestSettings = {
    samplesPerPrompt: a.samplesPerPrompt,
    improveSteps: a.improveSteps,
    thresholds: restOf(a.preset).thresholds,
    growPrompts: a.growPrompts,
    learningRate: a.learningRate,
    batchSize: a.batchSize,
    epochs: a.epochs,
  };
  if (a.thresholds !== undefined) {
    if (a.given.has("improve-steps") && a.thresholds.length !== a.improveSteps) {
      throw CLI.usageError(
        `--thresholds has ${a.thresholds.length} values but --improve-steps is ${a.improveSteps}`,
        a.thresholds.join(","),
        "give one threshold per Improve step, or leave out --improve-steps",
      );
    }
    settings.thresholds = a.thresholds;
    settings.improveSteps = a.thresholds.length;
  }
  return {
    preset: hhPresetFromFlags(a),
    rest: settings,
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
export function parseHhRestArgs(argv: readonly string[]): HhRestOptions {
  return hhRestOptions(CLI.parse(argv));
}

/** ReST encodes prompts only (no dataset replies): BOS + text, as the other hh examples. */
function restTokenizer(tokenizer: Tokenizer): ReSTTokenizer {
  return {
    encode: (text) => promptIds(tokenizer, text),
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    eosTokenId: tokenizer.eosTokenId,
    padTokenId: tokenizer.padTokenId,
  };
}

/** The first `count` distinct prompts. */
function distinctPrompts(prompts: readonly string[], count: number): string[] {
  return [...new Set(prompts)].slice(0, count);
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhRest(o: HhRestOptions): Promise<HhRestResult> {
  const t0 = performance.now();
  const { preset, rest } = o;
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const run = await startHhRun(NAME, preset, o);
  const { log, policy, reward } = run;
  try {
    log(`reward: ${reward.description}`);
    const pairs = await loadHhPairs(preset, o.seed);
    const fits = (p: { prompt: string }) =>
      promptIds(policy.tokenizer, p.prompt).length + preset.sampling.maxNewTokens <=
        preset.maxLength;
    const growPrompts = distinctPrompts(
      pairs.train.filter(fits).map((p) => p.prompt),
      rest.growPrompts,
    );
    const evalPrompts = distinctPrompts(
      pairs.test.filter(fits).map((p) => p.prompt),
      preset.sideBySidePrompts,
    );
    if (growPrompts.length === 0 || evalPrompts.length === 0) {
      throw new Error(
        `${NAME}: no prompt leaves room for ${preset.sampling.maxNewTokens} new tokens within ` +
          `maxLength ${preset.maxLength}; read more with --train-examples / --test-examples`,
      );
    }
    const thresholds = rest.thresholds ?? undefined;
    log(
      `Grow: ${rest.samplesPerPrompt} samples for each of ${growPrompts.length} prompts; ` +
        `${rest.improveSteps} Improve steps, thresholds ${
          thresholds ? thresholds.join(" < ") : "rising per-prompt percentiles (ReST's default)"
        }; held out: ${evalPrompts.length} prompts`,
    );
    const heldOut = await HeldOutSamples.take(
      policy,
      evalPrompts,
      preset.sampling,
      reward,
      o.seed + 7919,
    );
    await writeRunConfig(o.out, { preset });
    const trainer = new ReST({
      growSteps: 1,
      improveSteps: rest.improveSteps,
      samplesPerPrompt: rest.samplesPerPrompt,
      thresholds,
      includeDataset: false,
      rewardInput: reward.input,
      generation: {
        maxNewTokens: preset.sampling.maxNewTokens,
        topK: preset.sampling.topK,
        topP: preset.sampling.topP,
        temperature: preset.sampling.temperature,
      },
      generationBatchSize: 64,
      evalSamplesPerPrompt: 4,
      sft: {
        learningRate: rest.learningRate,
        batchSize: rest.batchSize,
        numTrainEpochs: rest.epochs,
        maxLength: preset.maxLength,
      },
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
      reportTo: o.reportTo,
    }, {
      model: policy.model,
      tokenizer: restTokenizer(policy.tokenizer),
      reward: reward.fn,
      prompts: growPrompts,
      evalPrompts,
    });
    const run = await trainer.run({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    if (run.initialEvalRewardMean !== null) {
      log(`held-out mean reward before Improve: ${run.initialEvalRewardMean.toFixed(4)}`);
    }
    for (const s of run.improveSteps) {
      log(
        `Improve step ${s.improveStep}: kept ${s.kept} (${(100 * s.keptFraction).toFixed(0)}%, ` +
          `mean reward ${s.keptRewardMean.toFixed(4)}), SFT loss ${s.trainLoss.toFixed(4)}; ` +
          `held-out mean reward ${s.evalRewardMean!.toFixed(4)}`,
      );
    }
    const sideBySide = await heldOut.compare(o.out, "ReST", log);
    const saved = await saveHhPolicy(policy, preset.policy, join(o.out, "model"));
    logRunFiles(o.out, saved, sideBySide.path, log);
    await writeRunReport(o.out, log);
    return {
      initialRewardMean: run.initialEvalRewardMean,
      improveRewardMeans: run.improveSteps.map((s) => s.evalRewardMean!),
      improveSteps: run.improveSteps,
      sideBySide,
      seconds: (performance.now() - t0) / 1000,
    };
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
    await runHhRest(hhRestOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
