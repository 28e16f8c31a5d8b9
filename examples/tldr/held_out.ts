/**
 * What the PPO stage measures on held-out posts, once for the SFT policy and once for the tuned
 * one: greedy summaries (their ROUGE against the references and their normalized reward, as the
 * side-by-side table shows them) and one sampled summary per post drawn as trlX's rollouts are
 * drawn (their normalized reward, and the KL of the tuned policy's samples to the SFT policy).
 *
 * @module
 */

import { computeRouge } from "../../eval/mod.ts";
import type { CausalLM } from "../../models/mod.ts";
import { type RewardFunction, scoreTexts } from "../../reward/mod.ts";
import { policyPrompt, type SftRow, type TldrTokenizer } from "./data.ts";

/** Prompts per generate call. */
const BATCH = 16;

/** Held-out prompts: the text trlX's `get_prompt_dataset` builds and its token ids. */
export interface HeldOutPrompts {
  /** `post + "\nTL;DR:"`, the post cut to fit. */
  texts: string[];
  /** Their token ids. */
  ids: number[][];
  /** Reference summaries (trimmed). */
  references: string[];
}

/** Prompts, and how many posts were cut to fit. */
export interface TldrPrompts extends HeldOutPrompts {
  /** Posts longer than `maxLength − 5` tokens, cut to leave room for `\nTL;DR:`. */
  truncated: number;
}

/**
 * Prompts as trlX's `get_prompt_dataset` builds them (`policyPrompt`: the post cut to
 * `maxLength − 5` tokens, then `\nTL;DR:`), with their ids, references and how many were cut.
 * A row without `TL;DR:` is an error naming it.
 *
 * @param rows Checked SFT rows.
 * @param tokenizer The policy's tokenizer.
 * @param maxLength Longest prompt (trlX: `seq_length − max_new_tokens`).
 */
export function tldrPrompts(
  rows: readonly SftRow[],
  tokenizer: TldrTokenizer,
  maxLength: number,
): TldrPrompts {
  let truncated = 0;
  const texts = rows.map((row, i) => {
    let p;
    try {
      p = policyPrompt(row.prompt, tokenizer, maxLength);
    } catch (error) {
      throw new Error(`post ${i}: ${(error as Error).message}`);
    }
    if (p.truncated) truncated++;
    return p.text;
  });
  return {
    texts,
    ids: texts.map((t) => tokenizer.encode(t, { addSpecialTokens: false })),
    references: rows.map((r) => r.label.trim()),
    truncated,
  };
}

/** Summaries a policy wrote for the held-out prompts, scored. */
export interface HeldOutSummaries {
  /** Greedy summaries (decoded, trimmed). */
  greedy: string[];
  /** Normalized reward of each greedy summary. */
  greedyRewards: number[];
  /** ROUGE F of the greedy summaries (`evaluate`'s aggregate, bootstrap mid). */
  rouge: { rouge1: number; rouge2: number; rougeL: number; rougeLsum: number };
  /** One sampled summary per prompt (decoded, trimmed). */
  sampled: string[];
  /** Their token ids (EOS included when produced), for the KL. */
  sampledIds: number[][];
  /** Normalized reward of each sampled summary. */
  sampledRewards: number[];
}

/** How the summaries are written. */
export interface HeldOutSettings {
  /** Most new tokens (trlX's `gen_kwargs.max_new_tokens`). */
  maxNewTokens: number;
  /** Seed of the sampled summaries (the same for both policies). */
  seed: number;
}

/**
 * Greedy and sampled summaries of the held-out prompts, scored as trlX's `reward_fn` scores a
 * sample: the reward reads the prompt text followed by the decoded summary.
 *
 * @param model The policy.
 * @param tokenizer Its tokenizer.
 * @param prompts Held-out prompts.
 * @param reward The normalized reward (RM(sample) − RM(post + reference)).
 * @param settings Lengths and seed.
 */
export async function heldOutSummaries(
  model: CausalLM,
  tokenizer: TldrTokenizer,
  prompts: HeldOutPrompts,
  reward: RewardFunction,
  settings: HeldOutSettings,
): Promise<HeldOutSummaries> {
  const write = async (doSample: boolean) => {
    const ids: number[][] = [];
    for (let start = 0; start < prompts.ids.length; start += BATCH) {
      const { tokens } = await model.generate(prompts.ids.slice(start, start + BATCH), {
        maxNewTokens: settings.maxNewTokens,
        // trlX's rollouts: pure sampling (top_k 0, top_p 1, temperature 1).
        ...(doSample ? { doSample: true, topK: 0, topP: 1, temperature: 1 } : {}),
        seed: settings.seed + start,
      });
      ids.push(...tokens);
    }
    const raw = ids.map((t) => tokenizer.decode(t, { skipSpecialTokens: true }));
    const rewards = await scoreTexts(reward, raw.map((s, i) => prompts.texts[i] + s));
    return { ids, texts: raw.map((s) => s.trim()), rewards };
  };
  const wasTraining = model.training;
  model.eval();
  try {
    const greedy = await write(false);
    const sampled = await write(true);
    const r = computeRouge(greedy.texts, prompts.references);
    return {
      greedy: greedy.texts,
      greedyRewards: greedy.rewards,
      rouge: { rouge1: r.rouge1, rouge2: r.rouge2, rougeL: r.rougeL, rougeLsum: r.rougeLsum },
      sampled: sampled.texts,
      sampledIds: sampled.ids,
      sampledRewards: sampled.rewards,
    };
  } finally {
    if (wasTraining) model.train();
  }
}

/**
 * The mean of some numbers (NaN for none).
 *
 * @param values Numbers.
 */
export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
