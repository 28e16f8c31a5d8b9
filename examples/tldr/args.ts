/**
 * The flags of the TL;DR examples, as flag tables for `defineCli`: the preset, the run folder
 * flags, the stage's trainer settings (steps, learning rate, batch size), how much data it reads,
 * the side-by-side table's size and the model it starts from ({@link tldrSftFlags},
 * {@link tldrRewardFlags}, {@link tldrPpoFlags}). Defaults come from the preset, so `--help`
 * shows each preset's value; {@link tldrSftPreset}, {@link tldrRewardPreset} and
 * {@link tldrPpoPreset} apply the parsed values to a copy of it.
 *
 * @module
 */

import { flag, perPreset, type Preset, presetFlag, PRESETS, runFlags } from "../common/cli.ts";
import {
  TINY_TLDR_ASSETS,
  type TldrPpoSettings,
  type TldrPreset,
  tldrPreset,
  type TldrRewardSettings,
  type TldrSftSettings,
} from "./presets.ts";

const preset = (p: string) => tldrPreset(p as Preset);

/**
 * A default some preset leaves unset, as `--help` shows it: each preset's value in words.
 *
 * @param value The value of a preset, in words.
 */
function perPresetText(value: (p: TldrPreset) => string): string {
  return PRESETS.map((p) => `${value(tldrPreset(p))} (${p})`).join(", ");
}

/** A model folder as `--help` shows it: the tiny checkpoints relative to the repository. */
function shownModel(path: string): string {
  return path.startsWith(TINY_TLDR_ASSETS)
    ? `examples/assets/tiny-tldr/${path.slice(TINY_TLDR_ASSETS.length)}`
    : path;
}

/**
 * `--max-steps`, `--learning-rate` and `--batch-size`, defaulting to a stage's preset settings.
 *
 * @param settings The stage's settings in a preset.
 * @param batch What one batch holds, for `--help`.
 */
function trainerFlags(
  settings: (p: TldrPreset) => TldrSftSettings | TldrRewardSettings,
  batch: string,
) {
  return {
    "max-steps": flag.int({
      help: "optimizer steps",
      min: 1,
      example: "100",
      defaultText: perPresetText((p) => {
        const s = settings(p);
        return s.maxSteps === null ? `the steps of ${s.numTrainEpochs} epochs` : `${s.maxSteps}`;
      }),
    }),
    "learning-rate": flag.number({
      help: "peak learning rate",
      min: 0,
      default: perPreset((p) => settings(preset(p)).learningRate),
    }),
    "batch-size": flag.int({
      help: batch,
      min: 1,
      default: perPreset((p) => settings(preset(p)).batchSize),
    }),
  };
}

const tablePostsFlag = flag.int({
  help: "held-out posts in the side-by-side table",
  min: 1,
  default: perPreset((p) => preset(p).tablePosts),
});

const wholeSplit = (n: number | null) => (n === null ? "the whole split" : `${n}`);

/**
 * The flags of the SFT example (`examples/tldr_sft.ts`).
 *
 * @param name The script's name (its default run folder).
 */
export function tldrSftFlags(name: string) {
  return {
    preset: presetFlag({
      full: "gpt2 on CarperAI/openai_summarize_tldr from the Hub (or the Hugging Face cache)",
      tiny: "offline: the tiny GPT-2 in examples/assets/tiny-tldr on SYNTHETIC posts, a minute " +
        "or so on two cores",
    }),
    ...runFlags(name),
    ...trainerFlags((p) => p.sft, "examples per optimizer step"),
    "train-examples": flag.int({
      help: "training posts read",
      min: 1,
      example: "2000",
      defaultText: perPresetText((p) => wholeSplit(p.sft.trainExamples)),
    }),
    "eval-examples": flag.int({
      help: "held-out posts evaluated (loss, and ROUGE of the summaries the model writes)",
      min: 1,
      default: perPreset((p) => preset(p).sft.evalExamples),
    }),
    "table-posts": tablePostsFlag,
    model: flag.string({
      help: "the policy to fine-tune: a folder or Hub id (GPT-2 family)",
      valueName: "ID",
      defaultText: perPresetText((p) => shownModel(p.sft.model)),
    }),
    "reward-model": flag.string({
      help: "a per-token reward model (folder or Hub id) that scores the table's summaries",
      valueName: "ID",
      defaultText: "examples/assets/tiny-tldr/reward (tiny); none (full)",
    }),
  };
}

/**
 * The flags of the reward-model example (`examples/tldr_reward_model.ts`).
 *
 * @param name The script's name (its default run folder).
 */
export function tldrRewardFlags(name: string) {
  return {
    preset: presetFlag({
      full: "from the model tldr_sft --preset full saved (runs/tldr_sft-full/model), on " +
        "CarperAI/openai_summarize_comparisons from the Hub (or the Hugging Face cache)",
      tiny: "offline: the tiny SFT GPT-2 in examples/assets/tiny-tldr on SYNTHETIC comparisons, " +
        "a minute or so on two cores",
    }),
    ...runFlags(name),
    ...trainerFlags((p) => p.reward, "pairs per micro-batch"),
    "train-examples": flag.int({
      help: "training pairs read",
      min: 1,
      example: "2000",
      defaultText: perPresetText((p) => wholeSplit(p.reward.trainPairs)),
    }),
    "eval-examples": flag.int({
      help: "held-out pairs read (accuracy before and after)",
      min: 1,
      example: "256",
      defaultText: perPresetText((p) => wholeSplit(p.reward.testPairs)),
    }),
    "table-posts": tablePostsFlag,
    model: flag.string({
      help: "the SFT model the reward model starts from: a folder or Hub id",
      valueName: "ID",
      defaultText: perPresetText((p) => shownModel(p.reward.sftModel)),
    }),
  };
}

/** The parsed values both stages' flags have. */
interface StageFlagValues {
  /** `--preset`. */
  preset: Preset;
  /** `--max-steps`. */
  maxSteps: number | undefined;
  /** `--learning-rate`. */
  learningRate: number;
  /** `--batch-size`. */
  batchSize: number;
  /** `--train-examples`. */
  trainExamples: number | undefined;
  /** `--table-posts`. */
  tablePosts: number;
  /** `--model`. */
  model: string | undefined;
}

/** The parsed values of {@link tldrSftFlags} the preset takes. */
export interface TldrSftFlagValues extends StageFlagValues {
  /** `--eval-examples`. */
  evalExamples: number;
}

/** The parsed values of {@link tldrRewardFlags} the preset takes. */
export interface TldrRewardFlagValues extends StageFlagValues {
  /** `--eval-examples`. */
  evalExamples: number | undefined;
}

/**
 * The preset with the SFT example's flags applied.
 *
 * @param a Parsed flags.
 */
export function tldrSftPreset(a: TldrSftFlagValues): TldrPreset {
  const p = tldrPreset(a.preset);
  p.sft.maxSteps = a.maxSteps ?? p.sft.maxSteps;
  p.sft.learningRate = a.learningRate;
  p.sft.batchSize = a.batchSize;
  p.sft.trainExamples = a.trainExamples ?? p.sft.trainExamples;
  p.sft.evalExamples = a.evalExamples;
  p.sft.model = a.model ?? p.sft.model;
  p.tablePosts = a.tablePosts;
  return p;
}

/**
 * The preset with the reward-model example's flags applied.
 *
 * @param a Parsed flags.
 */
export function tldrRewardPreset(a: TldrRewardFlagValues): TldrPreset {
  const p = tldrPreset(a.preset);
  p.reward.maxSteps = a.maxSteps ?? p.reward.maxSteps;
  p.reward.learningRate = a.learningRate;
  p.reward.batchSize = a.batchSize;
  p.reward.trainPairs = a.trainExamples ?? p.reward.trainPairs;
  p.reward.testPairs = a.evalExamples ?? p.reward.testPairs;
  p.reward.sftModel = a.model ?? p.reward.sftModel;
  p.tablePosts = a.tablePosts;
  return p;
}

/** The PPO stage's trlX config sections, as the flags read and write them. */
const ppoConfig = (p: TldrPreset) => {
  const c = p.ppo.config;
  return {
    train: c.train!,
    model: c.model!,
    method: c.method!,
    lr: (c.optimizer!.kwargs as { lr: number }).lr,
  };
};

/**
 * The flags of the PPO example (`examples/tldr_ppo.ts`): the trlX config's most tuned fields
 * (`train.total_steps`, `train.batch_size`, `optimizer.kwargs.lr`, `method.num_rollouts`,
 * `method.init_kl_coef`), how many posts it reads, the table and the two models it starts from.
 *
 * @param name The script's name (its default run folder).
 */
export function tldrPpoFlags(name: string) {
  const cfg = (p: string) => ppoConfig(preset(p));
  return {
    preset: presetFlag({
      full: "trlX's summarize_rlhf PPO config on the models tldr_sft and tldr_reward_model " +
        "--preset full saved, prompts from CarperAI/openai_summarize_tldr (Hub or cache)",
      tiny: "offline: the tiny SFT GPT-2 and reward model in examples/assets/tiny-tldr on " +
        "SYNTHETIC posts, a minute or two on two cores",
    }),
    ...runFlags(name),
    "total-steps": flag.int({
      help: "PPO optimizer steps (trlX's train.total_steps)",
      min: 1,
      default: perPreset((p) => cfg(p).train.total_steps!),
    }),
    "learning-rate": flag.number({
      help: "AdamW learning rate (optimizer.kwargs.lr; the cosine schedule's eta_min follows it, " +
        "so the rate stays flat as in the tutorial)",
      above: 0,
      default: perPreset((p) => cfg(p).lr),
    }),
    "batch-size": flag.int({
      help: "rollouts per PPO minibatch (trlX's train.batch_size)",
      min: 1,
      default: perPreset((p) => cfg(p).train.batch_size!),
    }),
    "num-rollouts": flag.int({
      help: "rollouts collected before each round of PPO epochs (method.num_rollouts)",
      min: 1,
      default: perPreset((p) => cfg(p).method.num_rollouts!),
    }),
    "init-kl-coef": flag.number({
      help: "initial KL coefficient β (method.init_kl_coef)",
      min: 0,
      default: perPreset((p) => cfg(p).method.init_kl_coef!),
    }),
    "train-examples": flag.int({
      help: "training posts read (the prompts PPO samples from)",
      min: 1,
      example: "2000",
      defaultText: perPresetText((p) => wholeSplit(p.ppo.trainPrompts)),
    }),
    "eval-examples": flag.int({
      help: "held-out posts evaluated (ROUGE, reward and KL before and after)",
      min: 1,
      default: perPreset((p) => preset(p).ppo.evalPrompts),
    }),
    "table-posts": tablePostsFlag,
    model: flag.string({
      help: "the SFT policy PPO starts from, also the KL reference (model.model_path)",
      valueName: "ID",
      defaultText: perPresetText((p) => shownModel(String(p.ppo.config.model!.model_path))),
    }),
    "reward-model": flag.string({
      help: "the per-token reward model that scores summaries: a folder or Hub id",
      valueName: "ID",
      defaultText: perPresetText((p) => shownModel(p.ppo.rewardModel)),
    }),
  };
}

/** The parsed values of {@link tldrPpoFlags} the preset takes. */
export interface TldrPpoFlagValues {
  /** `--preset`. */
  preset: Preset;
  /** `--total-steps`. */
  totalSteps: number;
  /** `--learning-rate`. */
  learningRate: number;
  /** `--batch-size`. */
  batchSize: number;
  /** `--num-rollouts`. */
  numRollouts: number;
  /** `--init-kl-coef`. */
  initKlCoef: number;
  /** `--train-examples`. */
  trainExamples: number | undefined;
  /** `--eval-examples`. */
  evalExamples: number;
  /** `--table-posts`. */
  tablePosts: number;
  /** `--model`. */
  model: string | undefined;
  /** `--reward-model`. */
  rewardModel: string | undefined;
}

/**
 * The preset with the PPO example's flags applied to its trlX config.
 *
 * @param a Parsed flags.
 */
export function tldrPpoPreset(a: TldrPpoFlagValues): TldrPreset {
  const p = tldrPreset(a.preset);
  const s: TldrPpoSettings = p.ppo;
  const c = s.config;
  c.train = { ...c.train, total_steps: a.totalSteps, batch_size: a.batchSize };
  c.optimizer = { ...c.optimizer, kwargs: { ...c.optimizer!.kwargs, lr: a.learningRate } };
  c.scheduler = { ...c.scheduler, kwargs: { ...c.scheduler!.kwargs, eta_min: a.learningRate } };
  c.method = { ...c.method, num_rollouts: a.numRollouts, init_kl_coef: a.initKlCoef };
  c.model = { ...c.model, model_path: a.model ?? c.model!.model_path };
  s.rewardModel = a.rewardModel ?? s.rewardModel;
  s.trainPrompts = a.trainExamples ?? s.trainPrompts;
  s.evalPrompts = a.evalExamples;
  p.tablePosts = a.tablePosts;
  return p;
}
