/**
 * The opening every hh example shares: pick the backend, load the policy and the reward, and
 * read and tokenize the train and held-out pairs.
 *
 * @module
 */

import { selectBackend } from "../../core/mod.ts";
import type { Tokenizer } from "../../models/mod.ts";
import { describeKept, loadHhPairs, type TokenizedPairs, tokenizePairs } from "./data.ts";
import { type HhPolicy, loadHhPolicy } from "./policy.ts";
import type { HhPreset } from "./presets.ts";
import { type HhReward, loadHhReward } from "./reward.ts";

/** What an hh example runs on. */
export interface HhRun {
  /** Where lines go. */
  log: (line: string) => void;
  /** The policy (and its reference when asked for). */
  policy: HhPolicy;
  /** The reward that scores samples. */
  reward: HhReward;
  /** Frees the policy and the reward. */
  dispose(): void;
}

/**
 * Select the backend, load the policy and the reward, and say so.
 *
 * @param name The example's name.
 * @param preset Its preset.
 * @param o Backend choice, seed, reward model, log sink, whether DPO needs a reference, and for
 *   the RL examples a value head and the SFT policy to start from.
 */
export async function startHhRun(
  name: string,
  preset: HhPreset,
  o: {
    backend?: string;
    seed: number;
    rewardModel: string | null;
    log?: (line: string) => void;
    withReference?: boolean;
    valueHead?: boolean;
    sftPolicy?: string | null;
  },
): Promise<HhRun> {
  const log = o.log ?? ((line: string) => console.log(line));
  // Why auto chose what it did goes into this line, not onto standard error.
  const backend = await selectBackend(o.backend, { quiet: true });
  log(
    `${name} (${preset.name}): policy ${preset.policy}, backend ${backend.name} (${backend.reason})`,
  );
  const policy = await loadHhPolicy(preset.policy, {
    lora: preset.lora,
    withReference: o.withReference ?? false,
    backend: backend.name,
    seed: o.seed,
    valueHead: o.valueHead,
    sft: o.sftPolicy,
  });
  try {
    if (o.rewardModel === null) throw new Error(`${name}: no reward model; pass --reward-model`);
    const reward = await loadHhReward(o.rewardModel, { batchSize: preset.rewardBatchSize });
    return {
      log,
      policy,
      reward,
      dispose: () => {
        reward.dispose();
        policy.dispose();
      },
    };
  } catch (error) {
    policy.dispose();
    throw error;
  }
}

/**
 * Read the preset's pairs and tokenize them, keeping those that fit; fails when nothing fits.
 *
 * @param name The example's name.
 * @param preset Its preset.
 * @param seed Seed of the split.
 * @param tokenizer The policy's tokenizer.
 * @param log Where the kept counts go.
 * @param unit What a row is called in messages ("pair", "example").
 */
export async function loadTokenizedHhPairs(
  name: string,
  preset: HhPreset,
  seed: number,
  tokenizer: Tokenizer,
  log: (line: string) => void,
  unit: string,
): Promise<{ train: TokenizedPairs; test: TokenizedPairs }> {
  const pairs = await loadHhPairs(preset, seed);
  const train = tokenizePairs(pairs.train, tokenizer, preset);
  const test = tokenizePairs(pairs.test, tokenizer, preset);
  log(`${describeKept("train", train)}; ${describeKept("held out", test)}`);
  if (train.triples.length === 0 || test.triples.length === 0) {
    throw new Error(
      `${name}: no ${unit} fits maxLength ${preset.maxLength} / maxPromptLength ` +
        `${preset.maxPromptLength}; read more with --train-examples / --test-examples`,
    );
  }
  return { train, test };
}
