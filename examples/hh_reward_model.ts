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
 * tiny policy in seconds. Flags: --preset full|tiny, --backend, --out (default
 * runs/hh_reward_model-<preset>), --resume, --seed, --base (the model to start from),
 * --max-steps, --learning-rate, --batch-size, --train-examples, --test-examples.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import { intFlag, numberFlag, runAsScript } from "./common/cli.ts";
import { parseHhArgs } from "./hh/args.ts";
import type { HhPreset, HhRewardModelSettings } from "./hh/presets.ts";
import { type HhRewardResult, trainHhRewardModel } from "./hh/reward_model.ts";
import { stderrSink } from "../common/progress.ts";

const NAME = "hh_reward_model";

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
  /** Seed of the data order and the fresh head. */
  seed: number;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the progress bar (default true). */
  progress?: boolean;
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhRewardModelArgs(argv: readonly string[]): HhRewardModelOptions {
  const a = parseHhArgs(NAME, argv, {
    "base": { type: "string" },
    "max-steps": { type: "string" },
    "learning-rate": { type: "string" },
    "batch-size": { type: "string" },
  });
  const x = a.extra, s = a.preset.rm;
  const given = (flag: string) => argv.some((v) => v === `--${flag}` || v.startsWith(`--${flag}=`));
  const rm: HhRewardModelSettings = {
    ...s,
    base: typeof x.base === "string" && x.base.trim() !== "" ? x.base : s.base,
    maxSteps: x["max-steps"] === undefined
      ? s.maxSteps
      : intFlag(NAME, "max-steps", x["max-steps"], 1),
    learningRate: numberFlag(NAME, "learning-rate", x["learning-rate"], 0, s.learningRate),
    batchSize: intFlag(NAME, "batch-size", x["batch-size"], 1, s.batchSize),
    // The shared --train-examples / --test-examples flags size the reward model's data too.
    trainExamples: given("train-examples") ? a.preset.trainExamples : s.trainExamples,
    testExamples: given("test-examples") ? a.preset.testExamples : s.testExamples,
  };
  return {
    preset: { ...a.preset, rm },
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    seed: a.seed,
  };
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
  const backend = await selectBackend(o.backend, { quiet: o.log !== undefined });
  const s = o.preset.rm;
  log(
    `${NAME} (${o.preset.name}): ${s.base}, backend ${backend.name}; batch ${s.batchSize} × ` +
      `${s.gradientAccumulationSteps}, lr ${s.learningRate}, ${
        s.maxSteps === null ? `${s.epochs} epoch(s)` : `${s.maxSteps} steps`
      }`,
  );
  const r = await trainHhRewardModel({
    preset: o.preset,
    out: o.out,
    seed: o.seed,
    backend: backend.name,
    resume: o.resume,
    log,
    progressSink: o.progress === false ? null : stderrSink,
  });
  log(`trained ${r.steps} steps; training pair accuracy ${r.trainAccuracy.toFixed(3)}`);
  log(`saved the reward model and its tokenizer in ${r.modelDir}`);
  log(
    `held-out pair accuracy ${r.accuracyBefore.toFixed(3)} -> ${r.accuracyAfter.toFixed(3)} ` +
      `(${r.pairs.test} pairs)`,
  );
  return { ...r, seconds: (performance.now() - started) / 1000 };
}

/**
 * Parse and run.
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<HhRewardResult & { seconds: number }> {
  return runHhRewardModel(parseHhRewardModelArgs(argv));
}

if (import.meta.main) await runAsScript(NAME, () => main(Deno.args));
