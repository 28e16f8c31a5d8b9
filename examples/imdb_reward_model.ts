/**
 * The IMDB tutorial's reward model: a pairwise (Bradley–Terry) reward model that scores a
 * positive review above a negative one, trained with `RewardTrainer`.
 *
 *   deno run -A examples/imdb_reward_model.ts --preset tiny     # offline, under a minute
 *   deno run -A examples/imdb_reward_model.ts --help            # every flag with its defaults
 *
 * `full` (the default) fine-tunes `distilbert-base-cased` on IMDB pairs, both from the Hub (or
 * the shared Hugging Face cache); `tiny` trains a small DistilBERT on SYNTHETIC review pairs,
 * offline, in well under a minute. Either way it prints train and held-out pair accuracy,
 * writes `metrics.jsonl` and a resumable `checkpoint/` into `--out`, and saves the final model
 * with its tokenizer in Hugging Face's layout under `<out>/model`.
 */

import { join } from "node:path";
import { selectBackend } from "../core/mod.ts";
import {
  defineCli,
  flag,
  openRun,
  perPreset,
  presetFlag,
  reportTargets,
  runFlags,
} from "./common/cli.ts";
import {
  createRewardModel,
  evaluateRewardModel,
  imdbAllPairsSample,
  imdbRewardPairs,
  type Preset,
  type RewardTextSplits,
  saveRewardModel,
  TARGET_LABELS,
  type TargetLabel,
  tinyRewardPairs,
  trainRewardModel,
} from "./imdb/reward_model.ts";
import { type ImdbPreset, imdbPreset } from "./imdb/presets.ts";
import type { ProgressSink } from "../common/progress.ts";
import { writeRunReport } from "./common/report.ts";
import type { ReportTarget } from "../report/run_files.ts";

/** Options of {@link run}. */
export interface RunOptions {
  /** Which preset. */
  preset: Preset;
  /** Optimizer steps (default: the preset's). */
  steps?: number;
  /** Output folder (default `runs/imdb_reward_model-<preset>`). */
  out?: string;
  /** Backend choice (`auto`, `cpu`, `webgpu`; default `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Continue from `<out>/checkpoint` (an error when there is none). */
  resume?: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of the model's initial weights. */
  seed?: number;
  /** Training pairs of the tiny preset (default 4096; fewer make a quicker run). */
  tinyTrainPairs?: number;
  /** Pairs scored for the printed accuracies (default: the preset's). */
  evalPairs?: number;
  /** Which reviews the model learns to prefer (default `positive`). */
  targetLabel?: TargetLabel;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Where the progress bar goes (default standard error; null: none). */
  progressSink?: ProgressSink | null;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
}

/** What a run reached. */
export interface RunResult {
  /** Pair accuracy on (up to `evalPairs` of) the held-out pairs before training. */
  initialTestAccuracy: number;
  /** Pair accuracy on (up to `evalPairs` of) the training pairs after training. */
  trainAccuracy: number;
  /** Pair accuracy on (up to `evalPairs` of) the held-out pairs after training. */
  testAccuracy: number;
  /** Optimizer steps completed (including those before a resume). */
  globalStep: number;
  /** Where metrics, the checkpoint and the model went. */
  out: string;
  /** Seconds of training. */
  seconds: number;
}

/** Default output folder of a preset. */
export function defaultOut(preset: Preset): string {
  return join("runs", `imdb_reward_model-${preset}`);
}

/**
 * The training pairs and the held-out pairs whose accuracy is printed: for `full`, pairs drawn
 * from all train-split pairs (one per sample the run trains on) and test-split pairs; for
 * `tiny`, the SYNTHETIC splits.
 */
async function loadPairs(
  preset: ImdbPreset,
  steps: number,
  evalPairs: number,
  target: TargetLabel,
  seed: number,
  tinyTrainPairs?: number,
): Promise<RewardTextSplits> {
  const t = preset.rewardTraining;
  if (preset.data === "synthetic") {
    return tinyRewardPairs({
      trainPairs: tinyTrainPairs ?? (t.trainPairs === "all" ? undefined : t.trainPairs),
      targetLabel: target,
    });
  }
  const test = (await imdbRewardPairs({ trainPairs: 1, testPairs: evalPairs, targetLabel: target }))
    .test;
  const train = t.trainPairs === "all"
    ? await imdbAllPairsSample(steps * t.batchSize, seed, target)
    : (await imdbRewardPairs({ trainPairs: t.trainPairs, testPairs: 1, targetLabel: target }))
      .train;
  return { train, test };
}

/**
 * Train and evaluate a reward model for one preset.
 *
 * @param options Preset, steps, output folder, backend, resume.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? console.log;
  const preset = imdbPreset(options.preset);
  const settings = preset.rewardTraining;
  const steps = options.steps ?? settings.maxSteps;
  const target = options.targetLabel ?? preset.targetLabel;
  const out = options.out ?? defaultOut(options.preset);
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, { ...options, out }, {
    checkpoints: ["checkpoint"],
    log,
  });
  const selected = await selectBackend(options.backend, { quiet: true });
  log(`backend: ${selected.name} (${selected.reason})`);
  // Then the model: offline, the full preset fails at once with the Hub's error.
  const bundle = await createRewardModel(options.preset, {
    backend: selected.name,
    seed: options.seed ?? 0,
  });
  try {
    const evalPairs = options.evalPairs ?? settings.evalPairs;
    const splits = await loadPairs(
      preset,
      steps,
      evalPairs,
      target,
      options.seed ?? 0,
      options.tinyTrainPairs,
    );
    const shown = {
      train: splits.train.slice(0, evalPairs),
      test: splits.test.slice(0, evalPairs),
    };
    const accuracy = (pairs: typeof splits.train) =>
      evaluateRewardModel(bundle.model, bundle.tokenizer, pairs, {
        maxLength: bundle.maxLength,
      });
    log(
      `${options.preset} preset: ${target} reviews preferred; ${splits.train.length} training ` +
        `pairs${
          settings.trainPairs === "all" ? " (drawn from all pairs of the train split)" : ""
        }, ${splits.test.length} held-out pairs, ${steps} steps of ${settings.batchSize} pairs ` +
        `at lr ${settings.learningRate}`,
    );
    const initialTestAccuracy = await accuracy(shown.test);
    log(`held-out accuracy before training: ${initialTestAccuracy.toFixed(3)}`);
    const trained = await trainRewardModel(bundle, { train: splits.train, test: shown.test }, {
      steps,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      warmupSteps: Math.floor(steps * settings.warmupRatio),
      weightDecay: settings.weightDecay,
      gradientCheckpointing: settings.gradientCheckpointing,
      loggingSteps: settings.loggingSteps === null
        ? undefined
        : Math.min(settings.loggingSteps, steps),
      seed: options.seed ?? 0,
      outputDir: out,
      saveSteps: Math.min(settings.saveSteps, steps),
      evalSteps: steps,
      resume: options.resume,
      progressSink: options.progressSink,
      reportTo: options.reportTo,
    });
    if (trained.resumed) log(`resumed from ${join(out, "checkpoint")}`);
    const trainAccuracy = await accuracy(shown.train);
    const testAccuracy = await accuracy(shown.test);
    log(
      `reward model accuracy: train ${trainAccuracy.toFixed(3)}, test ${testAccuracy.toFixed(3)} (${
        trained.seconds.toFixed(1)
      } s of training)`,
    );
    const modelDir = join(out, "model");
    await saveRewardModel(bundle, options.preset, modelDir);
    log(`saved the reward model to ${modelDir}; metrics in ${join(out, "metrics.jsonl")}`);
    await writeRunReport(out, log);
    return {
      initialTestAccuracy,
      trainAccuracy,
      testAccuracy,
      globalStep: trained.globalStep,
      out,
      seconds: trained.seconds,
    };
  } finally {
    bundle.model.dispose();
  }
}

const NAME = "imdb_reward_model";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "the IMDB tutorial's pairwise (Bradley–Terry) reward model, trained with " +
    "RewardTrainer.",
  description: "Prints pair accuracy on held-out pairs before training and on train and " +
    "held-out pairs after; writes metrics.jsonl, a resumable checkpoint/ and the final model " +
    "with its tokenizer in Hugging Face's layout (<out>/model) into --out.",
  flags: {
    preset: presetFlag({
      full: "fine-tunes distilbert-base-cased on IMDB pairs, both from the Hub (or the cache)",
      tiny: "trains a small DistilBERT on SYNTHETIC review pairs, offline, in under a minute",
    }),
    steps: flag.int({
      help: "optimizer steps",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).rewardTraining.maxSteps),
    }),
    "target-label": flag.choice(TARGET_LABELS, {
      help: "the reviews the model learns to prefer (the tutorial's TARGET_LABEL: 1 = positive)",
      default: perPreset((p) => imdbPreset(p as Preset).targetLabel),
    }),
    "eval-pairs": flag.int({
      help: "held-out pairs whose accuracy is printed before and after training",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).rewardTraining.evalPairs),
    }),
    ...runFlags(NAME),
  },
  examples: [
    "deno run -A examples/imdb_reward_model.ts --preset tiny",
    "deno run -A examples/imdb_reward_model.ts --preset tiny --steps 50 --out runs/rm",
    "deno run -A examples/imdb_reward_model.ts --preset tiny --steps 80 --out runs/rm --resume",
  ],
});

/**
 * Parse the command line and run; resolves to the exit status (errors are printed).
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[] = Deno.args): Promise<number> {
  return CLI.run(args, async (a) => {
    await run({
      preset: a.preset,
      steps: a.steps,
      out: a.out,
      backend: a.backend,
      resume: a.resume,
      overwrite: a.overwrite,
      seed: a.seed,
      targetLabel: a.targetLabel,
      evalPairs: a.evalPairs,
      reportTo: reportTargets(a.reportTo),
    });
  });
}

if (import.meta.main) Deno.exit(await main());
