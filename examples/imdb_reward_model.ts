/**
 * The IMDB tutorial's reward model: a pairwise (Bradley–Terry) reward model that scores a
 * positive review above a negative one, trained with `RewardTrainer`.
 *
 *   deno run -A examples/imdb_reward_model.ts [--preset full|tiny] [--steps N] [--out DIR]
 *     [--backend cpu|webgpu|auto] [--resume]
 *
 * `full` (the default) fine-tunes `distilbert-base-cased` on IMDB pairs, both from the Hub (or
 * the shared Hugging Face cache); `tiny` trains a small DistilBERT on SYNTHETIC review pairs,
 * offline, in well under a minute. Either way it prints train and held-out pair accuracy,
 * writes `metrics.jsonl` and a resumable `checkpoint/` into `--out`, and saves the final model
 * with its tokenizer in Hugging Face's layout under `<out>/model`.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { selectBackend } from "../core/mod.ts";
import {
  createRewardModel,
  evaluateRewardModel,
  imdbRewardPairs,
  parsePreset,
  type Preset,
  type RewardTextSplits,
  saveRewardModel,
  tinyRewardPairs,
  trainRewardModel,
} from "./imdb/reward_model.ts";
import type { ProgressSink } from "../common/progress.ts";
import { writeRunReport } from "./common/report.ts";

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
  /** Backend name (already selected). */
  backend?: string;
  /** Continue from `<out>/checkpoint` when it exists. */
  resume?: boolean;
  /** Training pairs of the tiny preset (default 4096; fewer make a quicker run). */
  tinyTrainPairs?: number;
  /** Pairs scored for the printed accuracies (default: the preset's). */
  evalPairs?: number;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Where the progress bar goes (default standard error; null: none). */
  progressSink?: ProgressSink | null;
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
  // The model first: offline, the full preset then fails at once with the Hub's error.
  const bundle = await createRewardModel(options.preset, { backend: options.backend, seed: 0 });
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

const OPTIONS = {
  preset: { type: "string", default: "full" },
  steps: { type: "string" },
  out: { type: "string" },
  backend: { type: "string" },
  resume: { type: "boolean", default: false },
} as const;

/**
 * Parse the command line and run.
 *
 * @param args Command-line arguments.
 */
export async function main(args: string[] = Deno.args): Promise<RunResult> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS }));
  } catch (error) {
    const known = Object.keys(OPTIONS).map((name) => `--${name}`).join(", ");
    throw new Error(`${(error as Error).message.split(".")[0]}; the options are ${known}`);
  }
  const preset = parsePreset(values.preset);
  let steps: number | undefined;
  if (values.steps !== undefined) {
    steps = Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) {
      throw new Error(`--steps must be an integer >= 1, got '${values.steps}'`);
    }
  }
  const selected = await selectBackend(values.backend);
  console.log(`backend: ${selected.name} (${selected.reason})`);
  return await run({
    preset,
    steps,
    out: values.out,
    backend: selected.name,
    resume: values.resume,
  });
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    // A wrong flag or an unreachable Hub is the user's to fix: the message says how.
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
