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
  imdbRewardPairs,
  type Preset,
  type RewardTextSplits,
  saveRewardModel,
  tinyRewardPairs,
  trainRewardModel,
} from "./imdb/reward_model.ts";
import type { ProgressSink } from "../common/progress.ts";
import { writeRunReport } from "./common/report.ts";
import type { ReportTarget } from "../report/run_files.ts";

/** Settings of one preset's run. */
interface PresetSettings {
  steps: number;
  batchSize: number;
  learningRate: number;
  saveSteps: number;
  /** Pairs scored for the printed accuracies (the full preset's reviews are long). */
  evalPairs: number;
}

const SETTINGS: Record<Preset, PresetSettings> = {
  full: { steps: 500, batchSize: 8, learningRate: 2e-5, saveSteps: 100, evalPairs: 256 },
  tiny: { steps: 100, batchSize: 16, learningRate: 2e-3, saveSteps: 25, evalPairs: 512 },
};

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

async function loadPairs(preset: Preset, tinyTrainPairs?: number): Promise<RewardTextSplits> {
  return preset === "tiny"
    ? tinyRewardPairs({ trainPairs: tinyTrainPairs })
    : await imdbRewardPairs();
}

/**
 * Train and evaluate a reward model for one preset.
 *
 * @param options Preset, steps, output folder, backend, resume.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? console.log;
  const settings = SETTINGS[options.preset];
  const steps = options.steps ?? settings.steps;
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
    const splits = await loadPairs(options.preset, options.tinyTrainPairs);
    const evalPairs = options.evalPairs ?? settings.evalPairs;
    const shown = {
      train: splits.train.slice(0, evalPairs),
      test: splits.test.slice(0, evalPairs),
    };
    const accuracy = (pairs: typeof splits.train) =>
      evaluateRewardModel(bundle.model, bundle.tokenizer, pairs, {
        maxLength: bundle.maxLength,
      });
    log(
      `${options.preset} preset: ${splits.train.length} training pairs, ${splits.test.length} ` +
        `held-out pairs, ${steps} steps of ${settings.batchSize} pairs`,
    );
    const initialTestAccuracy = await accuracy(shown.test);
    log(`held-out accuracy before training: ${initialTestAccuracy.toFixed(3)}`);
    const trained = await trainRewardModel(bundle, { train: splits.train, test: shown.test }, {
      steps,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
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
      default: perPreset((p) => SETTINGS[p as Preset].steps),
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
      reportTo: reportTargets(a.reportTo),
    });
  });
}

if (import.meta.main) Deno.exit(await main());
