/**
 * The flags the hh examples share, as flag tables for `defineCli`: the preset, the run folder
 * flags, sizes of the data and of the side-by-side table, the reward model and LoRA's rank
 * ({@link hhFlags}), and a trainer's steps, learning rate and batch size ({@link trainerFlags}).
 * Defaults come from the preset, so `--help` shows each preset's value.
 *
 * @module
 */

import { flag, perPreset, type Preset, presetFlag, runFlags } from "../common/cli.ts";
import { type HhPreset, hhPreset, type HhStageOverrides, withStageOverrides } from "./presets.ts";

/** The hh examples' presets, for `--help`. */
export const HH_PRESET_HELP: Record<Preset, string> = {
  full: "gpt2 on Anthropic/hh-rlhf from the Hub (or the Hugging Face cache)",
  tiny: "offline: the tiny GPT-2 in examples/assets/tiny-imdb on a SYNTHETIC preference set, " +
    "a minute or less on two cores",
};

/** A stage's overrides of the preset-wide settings (`(p) => p.dpo.overrides`). */
export type HhStage = (p: HhPreset) => HhStageOverrides;

const noOverrides: HhStage = () => ({});

/**
 * The flags every hh example takes.
 *
 * @param name The script's name (its default run folder).
 * @param stage The stage's overrides, so the defaults shown are the values it runs with.
 */
export function hhFlags(name: string, stage: HhStage = noOverrides) {
  const preset = (p: string) => {
    const full = hhPreset(p as Preset);
    return withStageOverrides(full, stage(full));
  };
  return {
    preset: presetFlag(HH_PRESET_HELP),
    ...runFlags(name),
    "train-examples": flag.int({
      help: "training pairs (or SFT examples) read",
      min: 1,
      default: perPreset((p) => preset(p).trainExamples),
    }),
    "test-examples": flag.int({
      help: "held-out pairs read (evaluation and the side-by-side table)",
      min: 1,
      default: perPreset((p) => preset(p).testExamples),
    }),
    samples: flag.int({
      help: "held-out prompts in the side-by-side table of samples before and after",
      min: 1,
      default: perPreset((p) => preset(p).sideBySidePrompts),
    }),
    "reward-model": flag.string({
      help: "folder or Hub id of a 1-label classifier that scores samples",
      valueName: "ID",
      defaultText: "the tiny reward model (tiny); what hh_reward_model.ts saves (full)",
    }),
    "lora-r": flag.int({
      help: "LoRA rank on the policy; 0 fine-tunes every weight",
      min: 0,
      default: perPreset((p) => preset(p).lora?.r ?? 0),
    }),
  };
}

/**
 * `--max-steps`, `--learning-rate` and `--batch-size`, defaulting to a trainer's preset settings.
 *
 * @param settings The trainer's settings in a preset.
 */
export function trainerFlags(
  settings: (p: HhPreset) => { maxSteps: number; learningRate: number; batchSize: number },
) {
  const preset = (p: string) => hhPreset(p as Preset);
  return {
    "max-steps": flag.int({
      help: "optimizer steps",
      min: 1,
      default: perPreset((p) => settings(preset(p)).maxSteps),
    }),
    "learning-rate": flag.number({
      help: "peak learning rate",
      above: 0,
      default: perPreset((p) => settings(preset(p)).learningRate),
    }),
    "batch-size": flag.int({
      help: "examples per optimizer step",
      min: 1,
      default: perPreset((p) => settings(preset(p)).batchSize),
    }),
  };
}

/** The parsed values of {@link hhFlags}. */
export interface HhFlagValues {
  /** `--preset`. */
  preset: Preset;
  /** `--train-examples`. */
  trainExamples: number;
  /** `--test-examples`. */
  testExamples: number;
  /** `--samples`. */
  samples: number;
  /** `--reward-model`. */
  rewardModel: string | undefined;
  /** `--lora-r`. */
  loraR: number;
}

/**
 * The preset with the stage's overrides, then the shared flags, applied.
 *
 * @param a Parsed flags.
 * @param stage The stage's overrides of the preset-wide settings.
 */
export function hhPresetFromFlags(a: HhFlagValues, stage: HhStage = noOverrides): HhPreset {
  const full = hhPreset(a.preset);
  const p = withStageOverrides(full, stage(full));
  p.trainExamples = a.trainExamples;
  p.testExamples = a.testExamples;
  p.sideBySidePrompts = a.samples;
  if (a.loraR === 0) p.lora = null;
  else {
    p.lora = {
      ...(p.lora ?? { dropout: 0, targetModules: ["c_attn"] }),
      r: a.loraR,
      alpha: 2 * a.loraR,
    };
  }
  return p;
}
