/**
 * The go_emotions tutorial's settings: `full` is the tutorial's exact trlX config
 * (`google/flan-t5-small`, `SamLowe/roberta-base-go_emotions`, GoEmotions from the Hub); `tiny`
 * runs offline on the tiny T5 and tiny classifier of `examples/assets/tiny-emotions/`, trained
 * on a SYNTHETIC emotion corpus.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { TrlxConfigInput } from "../../algorithms/ppo_trlx/mod.ts";

/** A preset of the emotions example. */
export interface EmotionsPreset {
  /** The policy (a Hub id or a folder). */
  policy: string;
  /** The emotion classifier (a Hub id or a folder). */
  classifier: string;
  /** Where the prompts come from: GoEmotions on the Hub, or the SYNTHETIC corpus. */
  data: "go_emotions" | "synthetic";
  /** Synthetic texts to draw (tiny only). */
  syntheticTexts: number;
  /** The eval prompts (the tutorial: "In my opinion" × 32). */
  evalPrompts: string[];
  /** trlX's config, in trlX's layout and names. */
  config: TrlxConfigInput;
}

const asset = (path: string) =>
  fileURLToPath(new URL(`../assets/tiny-emotions/${path}`, import.meta.url));

/** The tutorial's config, exactly (`trlx.train(..., config=config)`). */
export function tutorialConfig(): TrlxConfigInput {
  return {
    train: {
      seq_length: 1024,
      epochs: 1,
      total_steps: 5000,
      batch_size: 32,
      checkpoint_interval: 1000,
      eval_interval: 100,
      pipeline: "PromptPipeline",
      trainer: "AcceleratePPOTrainer",
    },
    model: {
      model_path: "google/flan-t5-small",
      model_arch_type: "seq2seq",
      num_layers_unfrozen: -2,
    },
    tokenizer: { tokenizer_path: "google/flan-t5-small", truncation_side: "right" },
    optimizer: {
      name: "adamw",
      kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
    },
    scheduler: { name: "cosine_annealing", kwargs: { T_max: 1e12, eta_min: 3e-5 } },
    method: {
      name: "PPOConfig",
      num_rollouts: 128,
      chunk_size: 128,
      ppo_epochs: 4,
      init_kl_coef: 0.001,
      target: null,
      horizon: 10000,
      gamma: 1,
      lam: 0.95,
      cliprange: 0.2,
      cliprange_value: 0.2,
      vf_coef: 1,
      scale_reward: "ignored",
      ref_mean: null,
      ref_std: null,
      cliprange_reward: 10,
      gen_kwargs: { max_new_tokens: 32, top_k: 10, do_sample: true },
    },
  };
}

/**
 * The settings of a preset.
 *
 * @param preset `full` or `tiny`.
 */
export function emotionsPreset(preset: "full" | "tiny"): EmotionsPreset {
  if (preset === "full") {
    return {
      policy: "google/flan-t5-small",
      classifier: "SamLowe/roberta-base-go_emotions",
      data: "go_emotions",
      syntheticTexts: 0,
      evalPrompts: new Array(32).fill("In my opinion"),
      config: tutorialConfig(),
    };
  }
  const policy = asset("policy");
  // The tutorial's shape, scaled to a 240k-parameter T5 on two cores: fewer rollouts per
  // collection, a larger learning rate and KL coefficient (the tiny policy moves far faster).
  return {
    policy,
    classifier: asset("classifier"),
    data: "synthetic",
    syntheticTexts: 4000,
    evalPrompts: new Array(32).fill("after work this evening,"),
    config: {
      train: {
        seq_length: 64,
        epochs: 100,
        total_steps: 64,
        batch_size: 16,
        checkpoint_interval: 16,
        eval_interval: 16,
        tracker: null,
      },
      model: { model_path: policy, model_arch_type: "seq2seq", num_layers_unfrozen: -1 },
      tokenizer: { tokenizer_path: policy, truncation_side: "right" },
      optimizer: {
        name: "adamw",
        kwargs: { lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
      },
      scheduler: { name: "cosine_annealing", kwargs: { T_max: 1e12, eta_min: 3e-4 } },
      method: {
        num_rollouts: 64,
        chunk_size: 64,
        ppo_epochs: 4,
        init_kl_coef: 0.05,
        target: null,
        horizon: 10000,
        gamma: 1,
        lam: 0.95,
        cliprange: 0.2,
        cliprange_value: 0.2,
        vf_coef: 1,
        scale_reward: "ignored",
        cliprange_reward: 10,
        gen_kwargs: { max_new_tokens: 24, top_k: 10, do_sample: true },
      },
    },
  };
}
