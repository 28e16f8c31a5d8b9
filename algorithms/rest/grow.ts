/**
 * The Grow step: K samples per prompt from the current policy (plus, optionally, the dataset's
 * own completions), each scored by a reward function, saved as `grow_<g>.jsonl` for inspection.
 *
 * @module
 */

import { join } from "node:path";
import { type RewardFunction, scoreTexts } from "../common/reward_functions.ts";
import type { RewardInput } from "./config.ts";

/**
 * Generates continuations: rows of prompt tokens in, prompt + new tokens out (the same shape as
 * best-of-n's `GenerateFn`). It must sample from the policy being trained.
 */
export type ReSTGenerateFn = (
  rows: number[][],
  maxNewTokens: number,
) => number[][] | Promise<number[][]>;

/** What ReST needs of a tokenizer. */
export interface ReSTTokenizer {
  /** Text → token ids. */
  encode(text: string): number[];
  /** Token ids → text (special tokens skipped). */
  decode(ids: number[]): string;
  /** End-of-text id, appended to dataset completions so the policy learns to stop. */
  eosTokenId?: number | null;
  /** Padding id for SFT batches. */
  padTokenId?: number | null;
}

/** A prompt of the Grow set, tokenized once. */
export interface GrowPrompt {
  /** Prompt text as given. */
  text: string;
  /** Its token ids. */
  ids: number[];
}

/** One scored (prompt, completion) pair of a Grow set. */
export interface GrowSample {
  /** The Grow step (1-based) that produced it. */
  growStep: number;
  /** Index of its prompt among the Grow prompts. */
  promptIndex: number;
  /** Sampled from the policy, or the dataset's own completion (`∪ D`). */
  source: "policy" | "dataset";
  /** Prompt text. */
  prompt: string;
  /** Completion text (decoded, special tokens skipped). */
  completion: string;
  /** Reward of the sample. */
  reward: number;
  /** Prompt token ids. */
  promptIds: number[];
  /** Completion token ids (EOS included when it was produced). */
  completionIds: number[];
}

/** How a Grow step samples and scores. */
export interface GrowOptions {
  /** 1-based Grow step, recorded in each sample. */
  growStep: number;
  /** Prompts to sample from. */
  prompts: readonly GrowPrompt[];
  /** K. */
  samplesPerPrompt: number;
  /** Dataset completions to add, by prompt index (empty: none). */
  datasetCompletions: readonly { promptIndex: number; completionIds: number[] }[];
  /** Sampler. */
  generate: ReSTGenerateFn;
  /** Max new tokens per sample. */
  maxNewTokens: number;
  /** Rows per generation call. */
  batchSize: number;
  /** Scorer. */
  reward: RewardFunction;
  /** What the scorer sees. */
  rewardInput: RewardInput;
  /** Tokenizer for decoding. */
  tokenizer: ReSTTokenizer;
  /** Called after each batch with the samples done so far and their total. */
  onProgress?: (done: number, total: number, rewardMean: number) => void;
}

/**
 * Sample K completions per prompt in batches of rows, score them, and append the dataset's
 * completions (scored the same way). Samples come back grouped by prompt, in prompt order.
 *
 * @param options Prompts, sampler, scorer and sizes.
 */
export async function growSamples(options: GrowOptions): Promise<GrowSample[]> {
  const { prompts, samplesPerPrompt: k } = options;
  const jobs: { promptIndex: number; completionIds?: number[] }[] = [];
  prompts.forEach((_, p) => {
    for (let s = 0; s < k; s++) jobs.push({ promptIndex: p });
  });
  const datasetAt = new Map<number, number[][]>();
  for (const d of options.datasetCompletions) {
    datasetAt.set(d.promptIndex, [...(datasetAt.get(d.promptIndex) ?? []), d.completionIds]);
  }
  const samples: GrowSample[] = [];
  const policyTotal = jobs.length;
  let rewardSum = 0;
  for (let start = 0; start < policyTotal; start += options.batchSize) {
    const batch = jobs.slice(start, start + options.batchSize);
    const rows = batch.map((j) => [...prompts[j.promptIndex].ids]);
    const outputs = await options.generate(rows.map((r) => [...r]), options.maxNewTokens);
    if (!Array.isArray(outputs) || outputs.length !== rows.length) {
      throw new Error(
        `ReST: generate returned ${
          Array.isArray(outputs) ? outputs.length : typeof outputs
        } rows for ${rows.length} prompts; it must return one row (prompt + new tokens) per row`,
      );
    }
    const completions = outputs.map((out, i) => {
      const prompt = rows[i];
      if (!Array.isArray(out) || prompt.some((id, t) => out[t] !== id)) {
        throw new Error(
          `ReST: generate's row ${start + i} does not start with its prompt's ${prompt.length} ` +
            `tokens; it must return prompt + new tokens`,
        );
      }
      return out.slice(prompt.length);
    });
    const scored = await scoreBatch(
      batch.map((j, i) => ({ promptIndex: j.promptIndex, completionIds: completions[i] })),
      "policy",
      options,
    );
    for (const s of scored) rewardSum += s.reward;
    samples.push(...scored);
    options.onProgress?.(samples.length, policyTotal, rewardSum / samples.length);
  }
  const fromDataset = await scoreBatch(
    [...datasetAt].flatMap(([promptIndex, list]) =>
      list.map((completionIds) => ({ promptIndex, completionIds }))
    ),
    "dataset",
    options,
  );
  // Grouped by prompt, policy samples first, so files and filters read prompt by prompt.
  return [...samples, ...fromDataset]
    .map((s, order) => ({ s, order }))
    .sort((a, b) => a.s.promptIndex - b.s.promptIndex || a.order - b.order)
    .map(({ s }) => s);
}

async function scoreBatch(
  items: { promptIndex: number; completionIds: number[] }[],
  source: GrowSample["source"],
  options: GrowOptions,
): Promise<GrowSample[]> {
  if (items.length === 0) return [];
  const { prompts, tokenizer } = options;
  const texts = items.map(({ promptIndex, completionIds }) =>
    options.rewardInput === "completion"
      ? tokenizer.decode(completionIds)
      : tokenizer.decode([...prompts[promptIndex].ids, ...completionIds])
  );
  const rewards = await scoreTexts(options.reward, texts);
  return items.map(({ promptIndex, completionIds }, i) => ({
    growStep: options.growStep,
    promptIndex,
    source,
    prompt: prompts[promptIndex].text,
    completion: tokenizer.decode(completionIds),
    reward: rewards[i],
    promptIds: [...prompts[promptIndex].ids],
    completionIds,
  }));
}

/**
 * File name of Grow step `g`'s samples inside the output folder.
 *
 * @param growStep 1-based Grow step.
 */
export function growFileName(growStep: number): string {
  return `grow_${growStep}.jsonl`;
}

/**
 * Write samples as JSONL, one `{ prompt, completion, reward, ... }` object per line, atomically
 * (a temporary file renamed into place).
 *
 * @param dir Output folder (created when missing).
 * @param growStep 1-based Grow step, naming the file.
 * @param samples The scored samples.
 */
export async function writeGrowFile(
  dir: string,
  growStep: number,
  samples: readonly GrowSample[],
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, growFileName(growStep));
  const lines = samples.map((s) =>
    JSON.stringify({
      prompt: s.prompt,
      completion: s.completion,
      reward: s.reward,
      source: s.source,
      grow_step: s.growStep,
      prompt_index: s.promptIndex,
      prompt_ids: s.promptIds,
      completion_ids: s.completionIds,
    }) + "\n"
  );
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, lines.join(""));
  await Deno.rename(temp, path);
  return path;
}

/**
 * Read a Grow file written by {@link writeGrowFile}.
 *
 * @param path The `grow_<g>.jsonl` file.
 */
export async function readGrowFile(path: string): Promise<GrowSample[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.trim() !== "").map((line, i) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path}: line ${i + 1} is not JSON (${(error as Error).message})`);
    }
    if (typeof o.reward !== "number" || !Array.isArray(o.completion_ids)) {
      throw new Error(`${path}: line ${i + 1} is not a ReST Grow sample`);
    }
    return {
      growStep: o.grow_step as number,
      promptIndex: o.prompt_index as number,
      source: o.source as GrowSample["source"],
      prompt: o.prompt as string,
      completion: o.completion as string,
      reward: o.reward,
      promptIds: o.prompt_ids as number[],
      completionIds: o.completion_ids as number[],
    };
  });
}
