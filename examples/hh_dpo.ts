/**
 * Direct Preference Optimization on hh-rlhf: GPT-2 learns to prefer the chosen final Assistant
 * reply over the rejected one, with the sigmoid loss and β = 0.1 by default. The reference is
 * the policy with its LoRA adapters switched off, or a separate frozen copy for a full
 * fine-tune. Prints TRL's metrics (rewards/chosen, rewards/rejected, rewards/accuracies,
 * rewards/margins, logps/chosen, logps/rejected) on held-out pairs before and after, writes
 * `metrics.jsonl`, checkpoints, the tuned model and a side-by-side table of samples.
 *
 *   deno run -A examples/hh_dpo.ts                  # full: gpt2 + Anthropic/hh-rlhf from the Hub
 *   deno run -A examples/hh_dpo.ts --preset tiny    # offline: tiny GPT-2, SYNTHETIC preferences
 *   deno run -A examples/hh_dpo.ts --help           # every flag with its defaults
 *
 * @module
 */

import { join } from "node:path";
import { prefixed } from "../algorithms/common/trainer.ts";
import {
  DPO_LOSS_TYPES,
  type DpoEvalMetrics,
  type DpoLossType,
  DPOTrainer,
} from "../algorithms/dpo/mod.ts";
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
import { hhFlags, hhPresetFromFlags, trainerFlags } from "./hh/args.ts";
import { promptIds, saveHhPolicy } from "./hh/policy.ts";
import { type HhDpoSettings, type HhPreset, hhPreset } from "./hh/presets.ts";
import { loadTokenizedHhPairs, startHhRun } from "./hh/run.ts";
import { HeldOutSamples, logRunFiles } from "./hh/samples.ts";
import { type ReportTarget, RunWriter, writeRunConfig } from "../report/run_files.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "hh_dpo";

/** The DPO stage's own data sizes, lengths and LoRA (TRL 0.7.4's dpo.py in the full preset). */
const DPO_STAGE = (p: HhPreset) => p.dpo.overrides;

/** The command line: the hh flags, the trainer's, β and the loss. */
export const CLI = defineCli({
  name: NAME,
  summary: "Direct Preference Optimization on hh-rlhf pairs (any of TRL's DPO losses).",
  description: "The reference is the policy with its LoRA adapters off, or a frozen copy for a " +
    "full fine-tune. Prints TRL's metrics (rewards/chosen, rewards/rejected, " +
    "rewards/accuracies, rewards/margins, logps/chosen, logps/rejected) on held-out pairs " +
    "before and after; writes metrics.jsonl, checkpoints, the tuned model and a side-by-side " +
    "table of samples into --out.",
  flags: {
    ...hhFlags(NAME, DPO_STAGE),
    ...trainerFlags((p) => p.dpo),
    beta: flag.number({
      help: "β, the strength of the implicit KL constraint",
      above: 0,
      default: perPreset((p) => hhPreset(p as Preset).dpo.beta),
    }),
    "loss-type": flag.choice(DPO_LOSS_TYPES, { help: "the DPO loss", default: "sigmoid" }),
  },
  examples: [
    "deno run -A examples/hh_dpo.ts --preset tiny",
    "deno run -A examples/hh_dpo.ts --preset tiny --loss-type ipo --beta 0.5 --out runs/ipo",
  ],
});

/** The metrics printed before and after, in TRL's names. */
export const DPO_PRINTED_METRICS = [
  "loss",
  "rewards/chosen",
  "rewards/rejected",
  "rewards/accuracies",
  "rewards/margins",
  "logps/chosen",
  "logps/rejected",
] as const;

/** A parsed run of the DPO example. */
export interface HhDpoOptions {
  /** The preset, with the DPO stage's overrides and then the flags applied. */
  preset: HhPreset;
  /** DPO settings, with flag overrides applied. */
  dpo: HhDpoSettings;
  /** The loss. */
  lossType: DpoLossType;
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
export interface HhDpoResult {
  /** Held-out metrics of the starting policy (rewards are 0 there: policy = reference). */
  before: DpoEvalMetrics;
  /** Held-out metrics of the tuned policy. */
  after: DpoEvalMetrics;
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
export function hhDpoOptions(a: ParsedArgs<typeof CLI.flags>): HhDpoOptions {
  return {
    preset: hhPresetFromFlags(a, DPO_STAGE),
    dpo: {
      ...hhPreset(a.preset).dpo,
      maxSteps: a.maxSteps,
      learningRate: a.learningRate,
      batchSize: a.batchSize,
      beta: a.beta,
    },
    lossType: a.lossType,
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
export function parseHhDpoArgs(argv: readonly string[]): HhDpoOptions {
  return hhDpoOptions(CLI.parse(argv));
}

function formatMetrics(metrics: DpoEvalMetrics): string {
  return DPO_PRINTED_METRICS.map((k) => `${k} ${metrics[k].toFixed(4)}`).join(", ");
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhDpo(o: HhDpoOptions): Promise<HhDpoResult> {
  const t0 = performance.now();
  const { preset, dpo } = o;
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const run = await startHhRun(NAME, preset, { ...o, withReference: true });
  const { log, policy, reward } = run;
  try {
    log(
      `loss ${o.lossType}, beta ${dpo.beta}, optim ${dpo.optim}; reference: ${
        policy.lora ? "the policy with its LoRA adapters off" : "a frozen copy of the policy"
      }`,
    );
    log(`reward: ${reward.description}`);
    const { train, test } = await loadTokenizedHhPairs(
      NAME,
      preset,
      o.seed,
      policy.tokenizer,
      log,
      "pair",
    );
    // Cut rows keep their whole text: the table samples from prompts that fit as they are.
    const shown = test.texts.map((p) => p.prompt)
      .filter((t) => promptIds(policy.tokenizer, t).length <= preset.maxPromptLength)
      .slice(0, preset.sideBySidePrompts);
    const heldOut = await HeldOutSamples.take(
      policy,
      shown,
      preset.sampling,
      reward,
      o.seed + 7919,
    );

    await writeRunConfig(o.out, { preset });

    const trainer = new DPOTrainer({
      beta: dpo.beta,
      lossType: o.lossType,
      learningRate: dpo.learningRate,
      batchSize: dpo.batchSize,
      maxSteps: dpo.maxSteps,
      warmupSteps: dpo.warmupSteps,
      evalSteps: Math.min(dpo.evalSteps, dpo.maxSteps),
      saveSteps: Math.min(dpo.saveSteps, dpo.maxSteps),
      loggingSteps: Math.max(1, Math.min(dpo.loggingSteps, Math.floor(dpo.maxSteps / 10))),
      loggingFirstStep: dpo.loggingFirstStep,
      optim: dpo.optim,
      maxLength: preset.maxLength,
      // The rows already fit: tokenizePairs skipped or cut them by the preset's rule.
      maxPromptLength: null,
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
      reportTo: o.reportTo,
    }, {
      model: policy.model,
      refModel: policy.refModel,
      adapters: policy.lora ?? undefined,
      trainDataset: train.triples,
      evalDataset: test.triples,
      tokenizer: policy.tokenizer,
    });
    const before = await trainer.evaluate();
    log(`held out before: ${formatMetrics(before)}`);
    if (!o.resume) {
      const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
      await writer.write(0, prefixed("eval/", before));
      writer.close();
    }
    const out = await trainer.train({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    const after = await trainer.evaluate();
    log(`held out after ${out.globalStep} steps: ${formatMetrics(after)}`);
    log(
      `held-out implicit-reward accuracy: ${before["rewards/accuracies"].toFixed(3)} -> ` +
        `${after["rewards/accuracies"].toFixed(3)}`,
    );
    const sideBySide = await heldOut.compare(o.out, "DPO", log);
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
    return { before, after, sideBySide, seconds: (performance.now() - t0) / 1000 };
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
    await runHhDpo(hhDpoOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
