/**
 * The flags the TL;DR examples share, on top of examples/common/cli.ts. Each one overrides a
 * preset field; a bad value fails naming the flag and the value.
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
import { type TldrPreset, tldrPreset } from "./presets.ts";

/** Flags of both stages. */
export const TLDR_FLAGS = {
  "max-steps": { type: "string" },
  "learning-rate": { type: "string" },
  "batch-size": { type: "string" },
  "train-examples": { type: "string" },
  "eval-examples": { type: "string" },
  "table-posts": { type: "string" },
  "model": { type: "string" },
  "reward-model": { type: "string" },
} as const satisfies Record<string, ExtraFlag>;

/** Parsed TL;DR flags. */
export interface TldrArgs extends Omit<CommonArgs, "preset"> {
  /** The preset with the flags applied. */
  preset: TldrPreset;
  /** `--reward-model`: a per-token reward model to score the table with (null: the preset's). */
  rewardModel: string | null;
}

/**
 * Parse a TL;DR example's command line. `--max-steps`, `--learning-rate`, `--batch-size`,
 * `--train-examples` and `--eval-examples` apply to the example's own stage; `--model` is the
 * model the stage starts from (SFT: the policy; reward: the SFT model).
 *
 * @param name Example name (messages, default output folder).
 * @param stage Which stage the example runs.
 * @param argv Arguments.
 */
export function parseTldrArgs(
  name: string,
  stage: "sft" | "reward",
  argv: readonly string[],
): TldrArgs {
  const parsed = parseExampleArgs<keyof typeof TLDR_FLAGS>(name, argv, TLDR_FLAGS);
  const preset = tldrPreset(parsed.preset);
  const x = parsed.extra;
  const optionalInt = (flag: keyof typeof TLDR_FLAGS, fallback: number | null) =>
    x[flag] === undefined ? fallback : intFlag(name, flag, x[flag], 1);
  const text = (flag: keyof typeof TLDR_FLAGS): string | undefined => {
    const v = x[flag];
    if (v !== undefined && (typeof v !== "string" || v.trim() === "")) {
      throw new Error(`${name}: --${flag} must be a folder or Hub id, got '${v}'`);
    }
    return v as string | undefined;
  };
  const settings = stage === "sft" ? preset.sft : preset.reward;
  settings.maxSteps = optionalInt("max-steps", settings.maxSteps);
  settings.learningRate = numberFlag(
    name,
    "learning-rate",
    x["learning-rate"],
    0,
    settings.learningRate,
  );
  settings.batchSize = intFlag(name, "batch-size", x["batch-size"], 1, settings.batchSize);
  if (stage === "sft") {
    preset.sft.trainExamples = optionalInt("train-examples", preset.sft.trainExamples);
    preset.sft.evalExamples = intFlag(
      name,
      "eval-examples",
      x["eval-examples"],
      1,
      preset.sft.evalExamples,
    );
  } else {
    preset.reward.trainPairs = optionalInt("train-examples", preset.reward.trainPairs);
    preset.reward.testPairs = optionalInt("eval-examples", preset.reward.testPairs);
    preset.reward.sftModel = text("model") ?? preset.reward.sftModel;
  }
  if (stage === "sft") preset.sft.model = text("model") ?? preset.sft.model;
  preset.tablePosts = intFlag(name, "table-posts", x["table-posts"], 1, preset.tablePosts);
  return {
    preset,
    backend: parsed.backend,
    out: parsed.out,
    resume: parsed.resume,
    overwrite: parsed.overwrite,
    seed: parsed.seed,
    reportTo: parsed.reportTo,
    rewardModel: text("reward-model") ?? null,
  };
}
