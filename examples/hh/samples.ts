/**
 * Samples for the side-by-side table: one seeded continuation per held-out prompt, from the
 * original model before training and from the tuned one after, each scored by the reward.
 *
 * @module
 */

import { join } from "node:path";
import type { CausalLM, Tokenizer } from "../../models/mod.ts";
import { scoreTexts } from "../../reward/mod.ts";
import {
  type SideBySideRow,
  type SideBySideSummary,
  writeSideBySide,
} from "../common/side_by_side.ts";
import { type HhPolicy, promptIds } from "./policy.ts";
import type { HhSampling } from "./presets.ts";
import type { HhReward } from "./reward.ts";

/** Prompts per generation call. */
const GENERATION_BATCH = 16;

/** Completions and their rewards for a set of prompts. */
export interface ScoredSamples {
  /** Completion texts (special tokens dropped). */
  completions: string[];
  /** Completion token ids (EOS included when produced). */
  completionIds: number[][];
  /** Their rewards. */
  rewards: number[];
}

/**
 * Sample one completion per prompt in eval mode and score it. The reward reads the decoded
 * prompt + completion tokens together (or the completion alone, as `reward.input` says), so a
 * word-level tokenizer's spacing at the seam comes out right.
 *
 * @param model The policy.
 * @param tokenizer Its tokenizer.
 * @param prompts Prompt token ids.
 * @param sampling Sampling settings.
 * @param reward Scorer.
 * @param seed Seed of the draws (the same for the before and after samples).
 */
export async function scoredSamples(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompts: readonly number[][],
  sampling: HhSampling,
  reward: HhReward,
  seed: number,
): Promise<ScoredSamples> {
  const completions: string[] = [], scored: string[] = [], completionIds: number[][] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < prompts.length; start += GENERATION_BATCH) {
      const batch = prompts.slice(start, start + GENERATION_BATCH).map((p) => [...p]);
      const { tokens } = await model.generate(batch, {
        maxNewTokens: sampling.maxNewTokens,
        doSample: true,
        topK: sampling.topK,
        topP: sampling.topP,
        temperature: sampling.temperature,
        seed: seed + start,
      });
      tokens.forEach((t, i) => {
        completionIds.push(t);
        const completion = tokenizer.decode(t, { skipSpecialTokens: true });
        completions.push(completion);
        scored.push(
          reward.input === "completion"
            ? completion
            : tokenizer.decode([...batch[i], ...t], { skipSpecialTokens: true }),
        );
      });
    }
  } finally {
    if (wasTraining) model.train();
  }
  return { completions, completionIds, rewards: await scoreTexts(reward.fn, scored) };
}

/**
 * Table rows from the before and after samples of the same prompts.
 *
 * @param prompts Prompt texts.
 * @param before Original model's samples.
 * @param after Tuned model's samples.
 */
export function sideBySideRows(
  prompts: readonly string[],
  before: ScoredSamples,
  after: ScoredSamples,
): SideBySideRow[] {
  return prompts.map((prompt, i) => ({
    prompt,
    before: before.completions[i],
    beforeReward: before.rewards[i],
    after: after.completions[i],
    afterReward: after.rewards[i],
  }));
}

/**
 * The held-out samples of a run: taken from the original policy before training and again from
 * the tuned one after, under the same seed, so the table compares like with like.
 */
export class HeldOutSamples {
  readonly #ids: number[][];

  private constructor(
    readonly policy: HhPolicy,
    readonly prompts: readonly string[],
    readonly sampling: HhSampling,
    readonly reward: HhReward,
    readonly seed: number,
    readonly before: ScoredSamples,
  ) {
    this.#ids = prompts.map((t) => promptIds(policy.tokenizer, t));
  }

  /**
   * Sample the original policy.
   *
   * @param policy The policy, not yet trained.
   * @param prompts Held-out prompt texts.
   * @param sampling Sampling settings.
   * @param reward Scorer.
   * @param seed Seed of the draws.
   */
  static async take(
    policy: HhPolicy,
    prompts: readonly string[],
    sampling: HhSampling,
    reward: HhReward,
    seed: number,
  ): Promise<HeldOutSamples> {
    const ids = prompts.map((t) => promptIds(policy.tokenizer, t));
    const before = await scoredSamples(policy.model, policy.tokenizer, ids, sampling, reward, seed);
    return new HeldOutSamples(policy, prompts, sampling, reward, seed, before);
  }

  /** The prompts' token ids, in order. */
  get promptIds(): readonly number[][] {
    return this.#ids;
  }

  /**
   * Sample the tuned policy, then print and save the side-by-side table.
   *
   * @param out Run folder.
   * @param label Column name of the tuned model ("SFT", "DPO", "ReST", "PPO", "GRPO").
   * @param log Where the table is printed.
   */

  async compare(
    out: string,
    label: string,
    log: (line: string) => void,
  ): Promise<SideBySideSummary & { path: string; after: ScoredSamples }> {
    const { policy } = this;
    const after = await scoredSamples(
      policy.model,
      policy.tokenizer,
      this.#ids,
      this.sampling,
      this.reward,
      this.seed,
    );
    const rows = sideBySideRows(this.prompts, this.before, after);
    const summary = await writeSideBySide(out, rows, { before: "original", after: label }, log);
    return { ...summary, after };
  }
}

/**
 * Where a run left its files, as its last lines.
 *
 * @param out Run folder.
 * @param saved What was saved (the model or adapter folder).
 * @param table The side-by-side table file.
 * @param log Where lines go.
 */
export function logRunFiles(
  out: string,
  saved: string,
  table: string,
  log: (line: string) => void,
): void {
  log(`saved ${saved}`);
  log(`metrics: ${join(out, "metrics.jsonl")}; table: ${table}`);
}

/**
 * Mean of numbers (NaN for none).
 *
 * @param values Numbers.
 */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}
