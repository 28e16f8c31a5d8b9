/**
 * What the hh-rlhf RL examples (PPO, GRPO) share: the SFT policy, the reward model (in the tiny
 * preset trained first on the SYNTHETIC pairs), training and held-out prompts, the held-out
 * samples before training, and at the end the side-by-side table, the KL of the tuned samples
 * to the reference, the saved policy and the closing line
 * `held-out reward <before> -> <after>, KL <kl>`.
 *
 * @module
 */

import { join } from "node:path";
import { selectBackend } from "../../core/mod.ts";
import { flag, perPreset, type Preset, reportTargets } from "../common/cli.ts";
import { writeRunReport } from "../common/report.ts";
import { type ReportTarget, writeRunConfig } from "../../report/run_files.ts";
import { hhFlags, type HhFlagValues, hhPresetFromFlags } from "./args.ts";
import { type Reference, sequenceKl } from "../../algorithms/ppo/mod.ts";
import type { CausalLM } from "../../models/mod.ts";
import type { SideBySideSummary } from "../common/side_by_side.ts";
import { loadHhPairs } from "./data.ts";
import { promptIds, saveHhPolicy } from "./policy.ts";
import { type HhPreset, hhPreset, type HhSampling } from "./presets.ts";
import { rewardModelForRl } from "./reward_model.ts";
import { type HhRun, startHhRun } from "./run.ts";
import { HeldOutSamples, logRunFiles, mean } from "./samples.ts";

/** Held-out prompts of the tiny preset's closing score (and its table): 24 are noisy. */
export const TINY_HELD_OUT = 48;

/**
 * The flags every RL example takes: the hh flags, with the held-out sample count, the reward
 * model and the SFT policy as the RL examples use them.
 *
 * @param name The script's name.
 */
export function onlineFlags(name: string) {
  return {
    ...hhFlags(name),
    samples: flag.int({
      help: "held-out prompts of the closing score and the side-by-side table",
      min: 1,
      default: perPreset((p) =>
        p === "tiny" ? TINY_HELD_OUT : hhPreset(p as Preset).sideBySidePrompts
      ),
    }),
    "reward-model": flag.string({
      help: "folder or Hub id of the 1-label reward model to tune against",
      valueName: "ID",
      defaultText: "what hh_reward_model.ts saves (full); one trained first into <out> (tiny)",
    }),
    sft: flag.path({
      help: "where the policy starts: a model folder, or PEFT adapters for the preset's policy",
      defaultText: "runs/hh_sft-full/model, what hh_sft.ts saves (full); the tiny policy (tiny)",
    }),
  };
}

/** The parsed values of {@link onlineFlags}. */
export interface OnlineFlagValues extends HhFlagValues {
  /** `--backend`. */
  backend?: string;
  /** `--out`. */
  out: string;
  /** `--resume`. */
  resume: boolean;
  /** `--overwrite`. */
  overwrite: boolean;
  /** `--seed`. */
  seed: number;
  /** `--report-to`. */
  reportTo: "none" | ReportTarget;
  /** `--sft`. */
  sft: string | undefined;
}

/**
 * The shared options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function onlineOptions(a: OnlineFlagValues): HhOnlineOptions {
  return {
    preset: hhPresetFromFlags(a),
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
    rewardModel: a.rewardModel ?? null,
    sft: a.sft ?? null,
  };
}

/** The options every RL example takes. */
export interface HhOnlineOptions {
  /** The preset, with flag overrides applied. */
  preset: HhPreset;
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
  /** `--reward-model`; null: the full preset's trained model, or in tiny one trained first. */
  rewardModel: string | null;
  /** `--sft`: the SFT policy to start from (default: the preset's). */
  sft: string | null;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Per-step stats lines (default: on, to standard error); false for none. */
  stepLog?: ((line: string) => void) | false;
  /** Draw the progress bar (default: on a terminal). */
  progress?: boolean;
}

/** An RL example's run, ready to train. */
export interface HhOnlineRun extends HhRun {
  /** Training prompts' token ids (BOS first). */
  trainPrompts: number[][];
  /** The held-out prompts, sampled before training. */
  heldOut: HeldOutSamples;
  /** Sampling of rollouts and held-out samples. */
  sampling: HhSampling;
}

/** What an RL example measured. */
export interface HhOnlineResult {
  /** Held-out mean reward of the starting policy. */
  before: number;
  /** Held-out mean reward of the tuned policy. */
  after: number;
  /** Mean KL of the tuned held-out samples to the reference (nats, Σ over tokens). */
  kl: number;
  /** Side-by-side means and wins. */
  sideBySide: SideBySideSummary;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Open an RL run: the reward model (trained first in the tiny preset unless given), the SFT
 * policy (with a value head for PPO), the prompts, and the held-out samples before training.
 * Offline, the full preset stops at once at the policy with the cache's message.
 *
 * @param name The example's name.
 * @param o Options.
 * @param sampling How rollouts and held-out samples are drawn.
 * @param valueHead Attach TRL's value head (PPO).
 */
export async function startHhOnline(
  name: string,
  o: HhOnlineOptions,
  sampling: HhSampling,
  valueHead: boolean,
): Promise<HhOnlineRun> {
  const { preset } = o;
  const log = o.log ?? ((line: string) => console.log(line));
  const backend = await selectBackend(o.backend, { quiet: true });
  const sft = o.sft ?? preset.sftPolicy;
  const rewardModel = preset.name === "tiny"
    ? await rewardModelForRl(preset, o.rewardModel, { ...o, backend: backend.name, log })
    : o.rewardModel ?? preset.rewardModel;
  const run = await startHhRun(name, preset, {
    ...o,
    log,
    backend: backend.name,
    rewardModel,
    valueHead,
    sftPolicy: sft,
  });
  try {
    const { policy, reward } = run;
    log(
      `policy: ${sft ?? preset.policy}${
        policy.lora
          ? policy.loraFromSft ? " (training the SFT run's LoRA adapters)" : " with LoRA"
          : " (full fine-tune)"
      }; reward: ${reward.description}`,
    );
    const pairs = await loadHhPairs(preset, o.seed);
    const ids = (text: string) => promptIds(policy.tokenizer, text);
    const fits = (text: string) => ids(text).length + sampling.maxNewTokens <= preset.maxLength;
    const distinct = (texts: string[]) => [...new Set(texts)].filter(fits);
    const trainPrompts = distinct(pairs.train.map((p) => p.prompt)).map(ids);
    const heldOutPrompts = distinct(pairs.test.map((p) => p.prompt))
      .slice(0, preset.sideBySidePrompts);
    if (trainPrompts.length === 0 || heldOutPrompts.length === 0) {
      throw new Error(
        `${name}: no prompt leaves room for ${sampling.maxNewTokens} new tokens within maxLength ` +
          `${preset.maxLength}; read more with --train-examples / --test-examples`,
      );
    }
    log(`${trainPrompts.length} training prompts, ${heldOutPrompts.length} held out`);
    await writeRunConfig(o.out, { preset });
    const heldOut = await HeldOutSamples.take(
      policy,
      heldOutPrompts,
      sampling,
      reward,
      o.seed + 7919,
    );
    return { ...run, trainPrompts, heldOut, sampling };
  } catch (error) {
    run.dispose();
    throw error;
  }
}

/**
 * Close an RL run: sample the held-out prompts again, write the side-by-side table, measure the
 * KL of the tuned samples to the reference, save the policy, and end with the line
 * `held-out reward <before> -> <after>, KL <kl>`.
 *
 * @param run The run.
 * @param o Options.
 * @param label Column of the tuned policy ("PPO", "GRPO").
 * @param reference The starting policy, to measure the KL against.
 * @param started `performance.now()` when the run began.
 */
export async function finishHhOnline(
  run: HhOnlineRun,
  o: HhOnlineOptions,
  label: string,
  reference: Reference<CausalLM>,
  started: number,
): Promise<HhOnlineResult> {
  const { policy, log, heldOut } = run;
  const sideBySide = await heldOut.compare(o.out, label, log);
  policy.model.eval();
  const kl = mean(
    await sequenceKl(policy.model, reference, heldOut.promptIds, sideBySide.after.completionIds, {
      padTokenId: policy.tokenizer.padTokenId ?? policy.tokenizer.eosTokenId ?? 0,
      backend: policy.model.backend,
    }),
  );
  // Adapters record the model they apply to: the SFT model, or the base the SFT adapters are for.
  const sft = o.sft ?? o.preset.sftPolicy;
  const base = policy.loraFromSft || sft === null ? o.preset.policy : sft;
  const saved = await saveHhPolicy(policy, base, join(o.out, "model"));
  logRunFiles(o.out, saved, sideBySide.path, log);
  await writeRunReport(o.out, log);
  const before = sideBySide.meanBefore, after = sideBySide.meanAfter;
  log(`held-out reward ${before.toFixed(4)} -> ${after.toFixed(4)}, KL ${kl.toFixed(4)}`);
  return { before, after, kl, sideBySide, seconds: (performance.now() - started) / 1000 };
}
