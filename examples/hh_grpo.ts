/**
 * GRPO on hh-rlhf: the SFT policy samples several replies to each prompt, the trained reward
 * model scores them, and each reply is pushed up or down by how it compares with the others of
 * its prompt (TRL 1.9's GRPO: group-relative advantages, the clipped token-level objective, a
 * k3 KL term when β > 0, no value head). Prints one stats line per round, writes
 * `metrics.jsonl` (TRL's names: reward, kl, entropy, clip_ratio/*, completions/*), checkpoints,
 * the tuned policy and a side-by-side table, and ends with
 * `held-out reward <before> -> <after>, KL <kl>` (the KL of the tuned held-out samples to the
 * starting policy, Σ over their tokens, in nats).
 *
 *   deno run -A examples/hh_grpo.ts                 # full: the hh_sft and hh_reward_model outputs
 *   deno run -A examples/hh_grpo.ts --preset tiny   # offline: tiny GPT-2, reward model trained first
 *   deno run -A examples/hh_grpo.ts --help          # every flag with its defaults
 *
 * @module
 */

import { GRPOTrainer, makeGRPOConfig } from "../algorithms/grpo/mod.ts";
import { Reference } from "../algorithms/ppo/mod.ts";
import { defineCli, flag, openRun, type ParsedArgs, perPreset, type Preset } from "./common/cli.ts";
import {
  finishHhOnline,
  type HhOnlineOptions,
  type HhOnlineResult,
  onlineFlags,
  onlineOptions,
  startHhOnline,
} from "./hh/online.ts";
import { type HhGrpoSettings, hhPreset } from "./hh/presets.ts";
import type { CausalLM } from "../models/mod.ts";

const NAME = "hh_grpo";
const preset = (p: string) => hhPreset(p as Preset);

/** The command line: the hh flags, GRPO's and where the run starts. */
export const CLI = defineCli({
  name: NAME,
  summary: "GRPO on hh-rlhf: the SFT policy against the trained reward model (TRL 1.9's GRPO).",
  description: "Each prompt gets several sampled replies; each reply's reward relative to the " +
    "others of its prompt is its advantage (no value head), with a k3 KL term to the starting " +
    "policy when --beta > 0. Prints one stats line per round; writes metrics.jsonl, " +
    "checkpoints, the tuned policy and a side-by-side table into --out, and ends with " +
    "'held-out reward <before> -> <after>, KL <kl>'.",
  flags: {
    ...onlineFlags(NAME),
    "max-steps": flag.int({
      help: "generation rounds",
      min: 1,
      defaultText: "three passes over the prompts, as TRL (full); 25 (tiny)",
    }),
    "learning-rate": flag.number({
      help: "AdamW learning rate",
      above: 0,
      default: perPreset((p) => preset(p).grpo.learningRate),
    }),
    "batch-size": flag.int({
      help: "completions per micro-batch (a multiple of --num-generations)",
      min: 1,
      default: perPreset((p) => preset(p).grpo.batchSize),
    }),
    "num-generations": flag.int({
      help: "completions per prompt",
      min: 2,
      default: perPreset((p) => preset(p).grpo.numGenerations),
    }),
    beta: flag.number({
      help: "KL coefficient β (0: no reference is kept for training)",
      min: 0,
      default: perPreset((p) => preset(p).grpo.beta),
    }),
  },
  examples: [
    "deno run -A examples/hh_grpo.ts --preset tiny",
    "deno run -A examples/hh_grpo.ts --preset tiny --beta 0 --num-generations 8",
  ],
});

/** A parsed run of the GRPO example. */
export interface HhGrpoOptions extends HhOnlineOptions {
  /** GRPO settings, with flag overrides applied. */
  grpo: HhGrpoSettings;
}

/** What a run measured. */
export interface HhGrpoResult extends HhOnlineResult {
  /** Generation rounds completed (those before a resume included). */
  steps: number;
  /** The `metrics.jsonl` line of each round this call ran. */
  history: Record<string, number>[];
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function hhGrpoOptions(a: ParsedArgs<typeof CLI.flags>): HhGrpoOptions {
  const grpo: HhGrpoSettings = {
    ...hhPreset(a.preset).grpo,
    maxSteps: a.maxSteps ?? hhPreset(a.preset).grpo.maxSteps,
    learningRate: a.learningRate,
    batchSize: a.batchSize,
    numGenerations: a.numGenerations,
    beta: a.beta,
  };
  // Sizes that do not fit together fail here, before anything loads.
  makeGRPOConfig({ batchSize: grpo.batchSize, numGenerations: grpo.numGenerations });
  return { ...onlineOptions(a), grpo };
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhGrpoArgs(argv: readonly string[]): HhGrpoOptions {
  return hhGrpoOptions(CLI.parse(argv));
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhGrpo(o: HhGrpoOptions): Promise<HhGrpoResult> {
  const started = performance.now();
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const g = o.grpo;
  const sampling = { maxNewTokens: g.maxCompletionLength, topK: 0, topP: 1, temperature: 1 };
  const run = await startHhOnline(NAME, o, sampling, false);
  const { policy, reward, log } = run;
  const trainer = new GRPOTrainer({
    learningRate: g.learningRate,
    batchSize: g.batchSize,
    numGenerations: g.numGenerations,
    beta: g.beta,
    maxCompletionLength: g.maxCompletionLength,
    maxSteps: g.maxSteps,
    numTrainEpochs: g.epochs,
    saveSteps: g.saveSteps,
    outputDir: o.out,
    seed: o.seed,
  }, {
    model: policy.model,
    // The SFT run's adapters are the starting policy: a frozen copy of them is the reference.
    adapters: policy.loraFromSft ? undefined : policy.lora ?? undefined,
    tokenizer: policy.tokenizer,
    rewardFuncs: { name: "reward_model", fn: reward.fn },
    trainDataset: run.trainPrompts,
  });
  // With β = 0 GRPO keeps no reference; the closing KL is measured against one kept here.
  const own: Reference<CausalLM> | null = trainer.reference
    ? null
    : policy.lora && !policy.loraFromSft
    ? Reference.adaptersOff(policy.model, policy.lora)
    : Reference.frozenCopy(policy.model);
  try {
    log(
      `GRPO: ${trainer.totalSteps} rounds of ${trainer.sizes.promptsPerStep} prompts × ` +
        `${g.numGenerations} completions, lr ${g.learningRate}, beta ${g.beta}, loss ` +
        `${trainer.config.lossType}`,
    );
    const decode = (ids: number[]) => policy.tokenizer.decode(ids, { skipSpecialTokens: true });
    const loop = await trainer.train({
      resume: o.resume,
      log: o.stepLog,
      progress: o.progress,
      reportTo: o.reportTo,
      decode,
    });
    if (loop.resumedFrom !== null) log(`resumed from the round-${loop.resumedFrom} checkpoint`);
    const result = await finishHhOnline(run, o, "GRPO", (trainer.reference ?? own)!, started);
    return { ...result, steps: loop.steps, history: loop.history };
  } finally {
    own?.dispose();
    trainer.dispose();
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
    await runHhGrpo(hhGrpoOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
