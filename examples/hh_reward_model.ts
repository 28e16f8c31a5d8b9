/**
 * The reward model of the hh-rlhf lesson, as TRL's `reward_modeling.py` trains it: a
 * sequence classifier with one output, trained with the Bradley–Terry loss to score each
 * dialogue with its chosen final reply above the same dialogue with the rejected one, and its
 * pair accuracy on the test split (strict >, a tie counts as wrong). The model and its
 * tokenizer are saved where `hh_ppo.ts` and `hh_grpo.ts` (and the other hh examples' tables)
 * read them.
 *
 *   deno run -A examples/hh_reward_model.ts                 # full: facebook/opt-350m, hh-rlhf
 *   deno run -A examples/hh_reward_model.ts --preset tiny   # offline: tiny GPT-2, SYNTHETIC pairs
 *
 * Full preset: the script's settings (batch 64 × 16 accumulation steps, lr 1.41e-5, one epoch,
 * texts up to 512 tokens, the whole train split); the tiny preset grows a reward model from the
 * tiny policy in seconds. `--help` lists every flag with its defaults.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import {
  defineCli,
  flag,
  openRun,
  type ParsedArgs,
  perPreset,
  type Preset,
  presetFlag,
  reportTargets,
  runFlags,
} from "./common/cli.ts";
import { writeRunReport } from "./common/report.ts";
import { type HhPreset, hhPreset } from "./hh/presets.ts";
import { forwardParts, type HhRewardResult, trainHhRewardModel } from "./hh/reward_model.ts";
import { type ReportTarget, writeRunConfig } from "../report/run_files.ts";
import { progressSink } from "../common/progress.ts";

const NAME = "hh_reward_model";
const preset = (p: string) => hhPreset(p as Preset);

/** The command line: the preset, the run folder, the base model and the trainer's settings. */
export const CLI = defineCli({
  name: NAME,
  summary: "The hh-rlhf lesson's reward model: Bradley–Terry on chosen vs rejected dialogues.",
  description: "Trains a 1-output sequence classifier to score each dialogue with its chosen " +
    "final reply above the rejected one, as TRL's reward_modeling.py does, and prints the " +
    "pair accuracy on the held-out split before and after; saves the model and its tokenizer " +
    "in <out>/model, where hh_ppo.ts and hh_grpo.ts read it.",
  flags: {
    preset: presetFlag({
      full: "facebook/opt-350m on Anthropic/hh-rlhf, TRL's reward_modeling.py settings",
      tiny: "offline: a reward model grown from the tiny GPT-2 on SYNTHETIC preference pairs",
    }),
    ...runFlags(NAME),
    base: flag.string({
      help: "the model to start from (GPT-2 or BERT family; a fresh 1-output head)",
      valueName: "ID",
      default: perPreset((p) => preset(p).rm.base),
    }),
    "max-steps": flag.int({
      help: "optimizer steps",
      min: 1,
      defaultText: "one epoch (full); 40 (tiny)",
    }),
    "learning-rate": flag.number({
      help: "peak learning rate",
      above: 0,
      default: perPreset((p) => preset(p).rm.learningRate),
    }),
    "batch-size": flag.int({
      help: "pairs per micro-batch",
      min: 1,
      default: perPreset((p) => preset(p).rm.batchSize),
    }),
    "gradient-accumulation-steps": flag.int({
      help: "micro-batches per optimizer step",
      min: 1,
      default: perPreset((p) => preset(p).rm.gradientAccumulationSteps),
    }),
    "forward-batch-size": flag.int({
      help: "pairs per forward and backward pass: a micro-batch runs in equal parts of this " +
        "size, the same update with less memory (a divisor of --batch-size)",
      min: 1,
      defaultText: "16 (full); the whole micro-batch (tiny)",
    }),
    "train-examples": flag.int({
      help: "training pairs read",
      min: 1,
      defaultText: "all (full); 2048 (tiny)",
    }),
    "test-examples": flag.int({
      help: "held-out pairs read",
      min: 1,
      defaultText: "all (full); 256 (tiny)",
    }),
  },
  examples: [
    "deno run -A examples/hh_reward_model.ts --preset tiny",
    "deno run -A examples/hh_reward_model.ts --base gpt2 --max-steps 200",
  ],
});

/** A parsed run of the reward-model example. */
export interface HhRewardModelOptions {
  /** The preset, with flag overrides applied (its `rm` settings). */
  preset: HhPreset;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder (the model goes to `<out>/model`). */
  out: string;
  /** Resume from `<out>/checkpoint`. */
  resume: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of the data order and the fresh head. */
  seed: number;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the progress bar (default true). */
  progress?: boolean;
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function hhRewardModelOptions(a: ParsedArgs<typeof CLI.flags>): HhRewardModelOptions {
  const p = hhPreset(a.preset);
  p.rm = {
    ...p.rm,
    base: a.base,
    maxSteps: a.maxSteps ?? p.rm.maxSteps,
    learningRate: a.learningRate,
    batchSize: a.batchSize,
    gradientAccumulationSteps: a.gradientAccumulationSteps,
    forwardBatchSize: a.forwardBatchSize ??
      (p.rm.forwardBatchSize === null ? null : Math.min(p.rm.forwardBatchSize, a.batchSize)),
    trainExamples: a.trainExamples ?? p.rm.trainExamples,
    testExamples: a.testExamples ?? p.rm.testExamples,
  };
  forwardParts(p.rm);
  return {
    preset: p,
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
  };
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhRewardModelArgs(argv: readonly string[]): HhRewardModelOptions {
  return hhRewardModelOptions(CLI.parse(argv));
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhRewardModel(
  o: HhRewardModelOptions,
): Promise<HhRewardResult & { seconds: number }> {
  const started = performance.now();
  const log = o.log ?? ((line: string) => console.log(line));
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const backend = await selectBackend(o.backend, { quiet: true });
  const s = o.preset.rm;
  const parts = forwardParts(s);
  await writeRunConfig(o.out, { preset: o.preset });
  log(
    `${NAME} (${o.preset.name}): ${s.base}, backend ${backend.name} (${backend.reason}); ` +
      `batch ${s.batchSize} × ${s.gradientAccumulationSteps}` +
      (parts > 1 ? ` (each micro-batch in ${parts} parts of ${s.forwardBatchSize})` : "") +
      `, lr ${s.learningRate}, ${
        s.maxSteps === null ? `${s.epochs} epoch(s)` : `${s.maxSteps} steps`
      }`,
  );
  const r = await trainHhRewardModel({
    preset: o.preset,
    out: o.out,
    seed: o.seed,
    backend: backend.name,
    resume: o.resume,
    reportTo: o.reportTo,
    log,
    progressSink: o.progress === false ? null : progressSink(),
  });
  log(`trained ${r.steps} steps; training pair accuracy ${r.trainAccuracy.toFixed(3)}`);
  log(`saved the reward model and its tokenizer in ${r.modelDir}`);
  await writeRunReport(o.out, log);
  log(
    `held-out pair accuracy ${r.accuracyBefore.toFixed(3)} -> ${r.accuracyAfter.toFixed(3)} ` +
      `(${r.pairs.test} pairs)`,
  );
  return { ...r, seconds: (performance.now() - started) / 1000 };
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runHhRewardModel(hhRewardModelOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
