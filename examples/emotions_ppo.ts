/**
 * The go_emotions tutorial: push `google/flan-t5-small` towards one emotion with trlX's PPO. The
 * prompts are the first 4 words of every GoEmotions text; the reward is the probability the
 * frozen classifier `SamLowe/roberta-base-go_emotions` gives the chosen emotion (softmax over
 * its 28 logits); training is one call, `train({ rewardFn, prompts, evalPrompts, config })`,
 * with the tutorial's trlX config. Then it samples from the tuned model.
 *
 *   deno run -A examples/emotions_ppo.ts --preset tiny              # offline, under a minute
 *   deno run -A examples/emotions_ppo.ts --emotion gratitude        # the tutorial (Hub or cache)
 *   deno run -A examples/emotions_ppo.ts --help                     # every flag with its defaults
 *
 * Prints a stats line per rollout collection and each evaluation's table, then samples before
 * and after for a few prompts; writes `metrics.jsonl`, `samples.jsonl`, `checkpoint/` and the
 * tuned model (`model/`, Hugging Face layout) into the run folder. The last line is
 * `eval reward/mean <before> -> <after>`. `--preset tiny` runs offline on the tiny T5 and tiny
 * classifier in `examples/assets/tiny-emotions/` (trained on a SYNTHETIC corpus).
 *
 * @module
 */

import { join } from "node:path";
import { selectBackend } from "../core/mod.ts";
import { train, type TrlxConfigInput } from "../algorithms/ppo_trlx/mod.ts";
import {
  firstWords,
  generateSyntheticEmotions,
  GO_EMOTIONS_LABELS,
  loadGoEmotions,
} from "../data/mod.ts";
import { loadTextClassifier } from "../models/mod.ts";
import { labelScoreReward } from "../reward/mod.ts";
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
import { emotionsPreset } from "./emotions/presets.ts";

const NAME = "emotions_ppo";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "The go_emotions tutorial: trlX's PPO pushes flan-T5 towards one emotion, rewarded " +
    "by an emotion classifier.",
  description: "Prints a stats line per rollout collection and each evaluation's table, then " +
    "samples before and after; writes metrics.jsonl, samples.jsonl, checkpoint/ and the tuned " +
    "model (model/) into --out. The last line is 'eval reward/mean <before> -> <after>'.",
  flags: {
    preset: presetFlag({
      full: "the tutorial: google/flan-t5-small, SamLowe/roberta-base-go_emotions and " +
        "GoEmotions from the Hub (or the cache), the tutorial's exact trlX config",
      tiny: "offline: the tiny T5 and classifier in examples/assets/tiny-emotions, trained on " +
        "SYNTHETIC texts",
    }),
    emotion: flag.choice(GO_EMOTIONS_LABELS as readonly string[], {
      help: "the emotion to reward (any of GoEmotions' 28 labels)",
      default: "joy",
    }),
    steps: flag.int({
      help: "trlX steps (optimizer steps; train.total_steps)",
      min: 1,
      default: perPreset((p) => emotionsPreset(p as Preset).config.train!.total_steps!),
    }),
    ...runFlags(NAME),
  },
  examples: [
    "deno run -A examples/emotions_ppo.ts --preset tiny",
    "deno run -A examples/emotions_ppo.ts --preset tiny --emotion gratitude --steps 32",
    "deno run -A examples/emotions_ppo.ts --preset tiny --out runs/emo --resume",
  ],
});

/** What a run measured. */
export interface EmotionsPpoResult {
  /** Eval `reward/mean` before training. */
  before: number;
  /** Eval `reward/mean` after the last step. */
  after: number;
  /** trlX's KL of the last rollout collection, (`policy/sqrt_kl`)², in nats. */
  kl: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * Run the tutorial.
 *
 * @param a Parsed flags.
 * @param log Where lines go (default: standard output).
 */
export async function runEmotionsPpo(
  a: ParsedArgs<typeof CLI.flags>,
  log: (line: string) => void = (line) => console.log(line),
): Promise<EmotionsPpoResult> {
  const started = performance.now();
  const preset = emotionsPreset(a.preset);
  const emotion = a.emotion;

  // The classifier, and the reward: the probability it gives the chosen emotion.
  const classifier = await loadTextClassifier(preset.classifier);
  const emotionScore = labelScoreReward(classifier, { label: emotion, functionToApply: "softmax" });

  // The prompts: the first 4 words of every text (GoEmotions train + test; offline, SYNTHETIC).
  const texts = preset.data === "go_emotions"
    ? [
      ...(await loadGoEmotions({ split: "train" })).toArray(),
      ...(await loadGoEmotions({ split: "test" })).toArray(),
    ].map((row) => row.text)
    : generateSyntheticEmotions(preset.syntheticTexts, { seed: 7 }).toArray().map((r) => r.text);
  const prompts = texts.map((text) => firstWords(text, 4)).filter((p) => p.length > 0);

  const backend = await selectBackend(a.backend, { quiet: true });
  const config: TrlxConfigInput = {
    ...preset.config,
    train: {
      ...preset.config.train,
      total_steps: a.steps,
      seed: a.seed,
      checkpoint_dir: a.out,
      resume_from_checkpoint: a.resume ? a.out : null,
    },
  };
  log(
    `emotions ppo (${a.preset}): reward P(${emotion}) from ${preset.classifier}; ` +
      `${prompts.length} prompts; policy ${preset.policy}; ${a.steps} trlX steps; ` +
      `backend ${backend.name}; run folder ${a.out}`,
  );

  const trainer = await train({
    rewardFn: (_samples, { prompts, outputs }) =>
      emotionScore(prompts.map((prompt, i) => `${prompt} ${outputs[i]}`)),
    prompts,
    evalPrompts: preset.evalPrompts,
    config,
    backend: backend.name,
    log: (line) => log(line),
    reportTo: reportTargets(a.reportTo),
  });
  try {
    // Samples for the eval prompts: the untuned policy's (the evaluation before training) and
    // the tuned model's, sampled now.
    const evals = trainer.evaluations;
    const shown = preset.evalPrompts.slice(0, 4);
    const after = await trainer.generate(shown, { seed: a.seed });
    log(`\nsamples for "${shown[0]}", before → after:`);
    shown.forEach((_, i) => log(`  ${evals[0]?.table[i]?.completion ?? "-"}  →  ${after[i]}`));
    await trainer.save(join(a.out, "model"));
    await writeRunReport(a.out, log);
    const last = trainer.metrics.findLast((m) => m["policy/sqrt_kl"] !== undefined);
    const kl = (last?.["policy/sqrt_kl"] ?? NaN) ** 2;
    const result = {
      before: evals[0]?.rewardMean ?? NaN,
      after: evals[evals.length - 1].rewardMean,
      kl,
      seconds: (performance.now() - started) / 1000,
    };
    log(
      `KL to the reference (trlX's policy/sqrt_kl², last rollout collection): ` +
        `${kl.toFixed(2)} nats; ${result.seconds.toFixed(1)} s; tuned model in ${
          join(a.out, "model")
        }`,
    );
    log(`eval reward/mean ${result.before.toFixed(4)} -> ${result.after.toFixed(4)}`);
    return result;
  } finally {
    trainer.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    // The run folder first: a clash or an unwritable folder fails before any model loads.
    await using _folder = await openRun(CLI, a, { checkpoints: ["checkpoint"], argv });
    await runEmotionsPpo(a);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
