/**
 * The flags the three hh examples share, on top of examples/common/cli.ts: sizes of the data,
 * of the side-by-side table, the reward model and LoRA's rank. Each one overrides a preset
 * field; a bad value fails naming the flag and the value.
 *
 * @module
 */

import {
  type CommonArgs,
  type ExtraFlag,
  intFlag,
  numberFlag,
  parseExampleArgs,
} from "../common/cli.ts";
import { type HhPreset, hhPreset } from "./presets.ts";

const SHARED_FLAGS = {
  "train-examples": { type: "string" },
  "test-examples": { type: "string" },
  "samples": { type: "string" },
  "reward-model": { type: "string" },
  "lora-r": { type: "string" },
} as const satisfies Record<string, ExtraFlag>;

type SharedFlag = keyof typeof SHARED_FLAGS;

/** Parsed hh flags: the common ones, the preset with overrides, and the example's own. */
export interface HhArgs<Extra extends string> extends Omit<CommonArgs, "preset"> {
  /** The preset with the shared flags applied. */
  preset: HhPreset;
  /** `--reward-model`, else the preset's reward model. */
  rewardModel: string | null;
  /** Raw values of the example's own flags. */
  extra: Record<Extra, string | boolean | undefined>;
}

/**
 * Parse an hh example's command line.
 *
 * @param name Example name (messages, default output folder).
 * @param argv Arguments.
 * @param own The example's own flags.
 */
export function parseHhArgs<Extra extends string>(
  name: string,
  argv: readonly string[],
  own: Record<Extra, ExtraFlag>,
): HhArgs<Extra> {
  const parsed = parseExampleArgs<Extra | SharedFlag>(name, argv, { ...SHARED_FLAGS, ...own });
  const preset = hhPreset(parsed.preset);
  const x = parsed.extra;
  preset.trainExamples = intFlag(
    name,
    "train-examples",
    x["train-examples"],
    1,
    preset.trainExamples,
  );
  preset.testExamples = intFlag(name, "test-examples", x["test-examples"], 1, preset.testExamples);
  preset.sideBySidePrompts = intFlag(name, "samples", x.samples, 1, preset.sideBySidePrompts);
  const loraR = intFlag(name, "lora-r", x["lora-r"], 0, preset.lora?.r ?? 0);
  if (loraR === 0) preset.lora = null;
  else {
    preset.lora = {
      ...(preset.lora ?? { dropout: 0, targetModules: ["c_attn"] }),
      r: loraR,
      alpha: 2 * loraR,
    };
  }
  const rewardFlag = x["reward-model"];
  if (rewardFlag !== undefined && (typeof rewardFlag !== "string" || rewardFlag.trim() === "")) {
    throw new Error(`${name}: --reward-model must be a folder or Hub id, got '${rewardFlag}'`);
  }
  const extra = {} as Record<Extra, string | boolean | undefined>;
  for (const key of Object.keys(own) as Extra[]) extra[key] = x[key];
  return {
    preset,
    backend: parsed.backend,
    out: parsed.out,
    resume: parsed.resume,
    seed: parsed.seed,
    rewardModel: (rewardFlag as string | undefined) ?? preset.rewardModel,
    extra,
  };
}

/** Flags that override a trainer's settings, shared by SFT and DPO. */
export const TRAINER_FLAGS = {
  "max-steps": { type: "string" },
  "learning-rate": { type: "string" },
  "batch-size": { type: "string" },
} as const satisfies Record<string, ExtraFlag>;

/**
 * Apply `--max-steps`, `--learning-rate` and `--batch-size` to trainer settings.
 *
 * @param name Example name.
 * @param extra Raw flag values.
 * @param settings Settings to override (a copy is returned).
 */
export function trainerOverrides<
  S extends { maxSteps: number; learningRate: number; batchSize: number },
>(
  name: string,
  extra: Record<keyof typeof TRAINER_FLAGS, string | boolean | undefined>,
  settings: S,
): S {
  return {
    ...settings,
    maxSteps: intFlag(name, "max-steps", extra["max-steps"], 1, settings.maxSteps),
    learningRate: numberFlag(
      name,
      "learning-rate",
      extra["learning-rate"],
      0,
      settings.learningRate,
    ),
    batchSize: intFlag(name, "batch-size", extra["batch-size"], 1, settings.batchSize),
  };
}
