/**
 * The models of the IMDB tutorial: the policy (GPT-2 with TRL's value head, LoRA adapters when
 * the preset asks for them) and the reward model (a 1-label sequence classifier) as a reward
 * function over texts. `PPOTrainer` takes the policy as it is: with LoRA the adapters-off model
 * is the reference, for a full fine-tune the trainer keeps a frozen copy.
 *
 * @module
 */

import { Generator } from "../../core/mod.ts";
import {
  applyLora,
  type CausalLM,
  loadCausalLM,
  loadTokenizer,
  type LoraAdapters,
  type Tokenizer,
} from "../../models/mod.ts";
import { pathExists } from "../../models/io/atomic.ts";
import { type RewardFunction, rewardModelFunction } from "../../reward/mod.ts";
import { loadRewardModel, type RewardModelBundle } from "./reward_model.ts";
import type { ImdbPreset } from "./presets.ts";

/** The policy and its tokenizer. */
export interface ImdbPolicy {
  /** GPT-2 with a value head (adapters inside when LoRA is on). */
  model: CausalLM;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
  /** The adapters, or null for a full fine-tune. */
  lora: LoraAdapters | null;
  /** Source of the adapters' initial weights and dropout masks (a checkpoint keeps its state). */
  loraGenerator: Generator;
  /** Frees the weights. */
  dispose(): void;
}

/** Options of {@link loadImdbPolicy}. */
export interface LoadPolicyOptions {
  /** Backend of the weights (default: the current one). */
  backend?: string;
  /** Seed of the value head and the adapters' initial A matrices. */
  seed?: number;
  /** Where load notices go (a fresh value head is expected; default console.warn). */
  log?: (message: string) => void;
}

/**
 * Load the preset's policy with a value head; apply LoRA when the preset names adapters (an
 * unknown target module fails, naming the layers that exist).
 *
 * @param preset Which checkpoint and adapters.
 * @param options Backend, seed, log sink.
 */
export async function loadImdbPolicy(
  preset: Pick<ImdbPreset, "policy" | "lora">,
  options: LoadPolicyOptions = {},
): Promise<ImdbPolicy> {
  const seed = options.seed ?? 0;
  const log = options.log ?? ((m: string) => console.warn(m));
  const model = await loadCausalLM(preset.policy, {
    backend: options.backend,
    valueHead: true,
    seed,
    log: (m) => {
      // TRL starts the value head fresh too; saying so on every run is noise.
      if (!/v_head/.test(m)) log(m);
    },
  });
  const tokenizer = await loadTokenizer(preset.policy);
  const loraGenerator = new Generator(seed + 1);
  let lora: LoraAdapters | null = null;
  try {
    if (preset.lora) lora = applyLora(model, preset.lora, { generator: loraGenerator });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, lora, loraGenerator, dispose: () => model.dispose() };
}

/** The reward model and the reward function built on it. */
export interface ImdbReward extends RewardModelBundle {
  /** Texts in, rewards (the classifier's single logit) out; long texts are cut to fit. */
  score: RewardFunction;
}

/**
 * Load the preset's reward model. A missing folder fails with what to run to make it.
 *
 * @param preset Where the model is and how to make it.
 * @param options Backend.
 */
export async function loadImdbReward(
  preset: Pick<ImdbPreset, "rewardModel" | "rewardModelHint" | "rewardBatchSize">,
  options: { backend?: string } = {},
): Promise<ImdbReward> {
  if (!(await pathExists(preset.rewardModel))) {
    throw new Error(
      `reward model folder '${preset.rewardModel}' does not exist; train it first: ` +
        preset.rewardModelHint,
    );
  }
  const bundle = await loadRewardModel(preset.rewardModel, options);
  const { tokenizer, maxLength } = bundle;
  const score = rewardModelFunction(bundle.model, {
    encode: (text) => tokenizer.encode(text, { truncation: true, maxLength }),
    padTokenId: tokenizer.padTokenId,
  }, { batchSize: preset.rewardBatchSize });
  return { ...bundle, score };
}
