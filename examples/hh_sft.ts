/**
 * Supervised fine-tuning on hh-rlhf: GPT-2 learns the chosen final Assistant reply of each
 * dialogue (the prompt, every turn before it, is masked out of the loss). Prints the held-out
 * loss and perplexity before and after, writes `metrics.jsonl`, checkpoints, the tuned model and
 * a side-by-side table of samples before and after with their rewards.
 *
 *   deno run -A examples/hh_sft.ts                  # full: gpt2 + Anthropic/hh-rlhf from the Hub
 *   deno run -A examples/hh_sft.ts --preset tiny    # offline: tiny GPT-2, SYNTHETIC prompts
 *
 * Flags: --preset full|tiny, --backend, --out (default runs/hh_sft-<preset>), --resume, --seed,
 * --max-steps, --learning-rate, --batch-size, --train-examples, --test-examples, --samples
 * (table rows), --reward-model (folder or Hub id of a 1-label classifier; the full preset
 * scores with the model `hh_reward_model.ts` saves), --lora-r (0 = full fine-tune).
 *
 * @module
 */

import { runAsScript } from "./common/cli.ts";
import { join } from "node:path";
import { MetricsWriter } from "../algorithms/common/metrics.ts";
import { prefixed } from "../algorithms/common/trainer.ts";
import { type SftEvalMetrics, SFTTrainer } from "../algorithms/sft/mod.ts";
import type { SideBySideSummary } from "./common/side_by_side.ts";
import { parseHhArgs, TRAINER_FLAGS, trainerOverrides } from "./hh/args.ts";
import { sftExamples } from "./hh/data.ts";
import { saveHhPolicy } from "./hh/policy.ts";
import type { HhPreset, HhSftSettings } from "./hh/presets.ts";
import { loadTokenizedHhPairs, startHhRun } from "./hh/run.ts";
import { HeldOutSamples, logRunFiles } from "./hh/samples.ts";

const NAME = "hh_sft";

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
  /** Seed of data, sampling and order. */
  seed: number;
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
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhSftArgs(argv: readonly string[]): HhSftOptions {
  const a = parseHhArgs(NAME, argv, TRAINER_FLAGS);
  return {
    preset: a.preset,
    sft: trainerOverrides(NAME, a.extra, a.preset.sft),
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    seed: a.seed,
    rewardModel: a.rewardModel,
  };
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhSft(o: HhSftOptions): Promise<HhSftResult> {
  const t0 = performance.now();
  const { preset, sft } = o;
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
      const writer = await MetricsWriter.open(o.out);
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
    const writer = await MetricsWriter.open(o.out);
    await writer.write(out.globalStep, {
      ...(finalEvalLogged ? {} : prefixed("eval/", after)),
      "samples/reward_mean_original": sideBySide.meanBefore,
      "samples/reward_mean_tuned": sideBySide.meanAfter,
    });
    writer.close();
    const saved = await saveHhPolicy(policy, preset.policy, join(o.out, "model"));
    logRunFiles(o.out, saved, sideBySide.path, log);
    return { before, after, lossDrop, sideBySide, seconds: (performance.now() - t0) / 1000 };
  } finally {
    run.dispose();
  }
}

/**
 * Parse and run.
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<HhSftResult> {
  return runHhSft(parseHhSftArgs(argv));
}

if (import.meta.main) await runAsScript(NAME, () => main(Deno.args));
