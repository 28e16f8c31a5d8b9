/**
 * The held-out measurements of the comparison: samples of a model on the held-out prompts (one
 * fixed seed, so two models differ only by their weights), their rewards, and their sequence KL
 * to the reference, Σ_t log π(y_t) − log π_ref(y_t) over response tokens (the estimate PPO's
 * `objective/kl` averages).
 *
 * @module
 */

import { Generator } from "../../core/mod.ts";
import { Reference, sequenceKl as ppoSequenceKl } from "../../algorithms/ppo/mod.ts";
import type { CausalLM } from "../../models/mod.ts";
import { scoreTexts } from "../../reward/mod.ts";
import type { TinyTask } from "./task.ts";

/** How samples are drawn (the same for training rollouts and evaluation). */
export interface SamplingSettings {
  /** New tokens per sample (EOS may end it earlier). */
  maxNewTokens: number;
}

/**
 * One response per query, sampled from the full distribution (no top-k or top-p, as TRL's
 * tutorials), ending at EOS.
 *
 * @param model The sampler.
 * @param queries Query token rows.
 * @param settings New tokens.
 * @param generator Source of the draws.
 */
export async function sampleResponses(
  model: CausalLM,
  queries: readonly (readonly number[])[],
  settings: SamplingSettings,
  generator: Generator,
): Promise<number[][]> {
  model.eval();
  const { tokens } = await model.generate(queries.map((q) => [...q]), {
    doSample: true,
    maxNewTokens: settings.maxNewTokens,
    generator,
  });
  return tokens;
}

/**
 * The tuned model's sequence KL to the untouched one on each (query, response) row, with both
 * in eval mode (PPO's `sequenceKl` with a separate reference).
 *
 * @param policy The tuned model.
 * @param reference The untouched model.
 * @param queries Query rows.
 * @param responses Response rows (sampled from `policy`).
 * @param chunk Rows per forward.
 */
export function sequenceKl(
  policy: CausalLM,
  reference: CausalLM,
  queries: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  chunk = 64,
): Promise<number[]> {
  policy.eval();
  reference.eval();
  return ppoSequenceKl(policy, Reference.model(reference), queries, responses, {
    padTokenId: reference.padTokenId ?? 0,
    chunk,
    backend: reference.backend,
  });
}

/** A model's samples on the held-out prompts. */
export interface HeldOutSamples {
  /** Query rows: each held-out prompt `samplesPerPrompt` times, prompt by prompt. */
  queries: number[][];
  /** One response per query row. */
  responses: number[][];
  /** Reward of each (query, response). */
  rewards: number[];
}

/** Held-out query rows: each prompt repeated `samplesPerPrompt` times. */
export function heldOutQueries(task: TinyTask, samplesPerPrompt: number): number[][] {
  return task.heldOutPrompts.flatMap((p) => {
    const ids = task.encodePrompt(p);
    return Array.from({ length: samplesPerPrompt }, () => [...ids]);
  });
}

/**
 * Sample and score `model` on the held-out prompts with the evaluation seed.
 *
 * @param model The model to sample.
 * @param task Prompts, reward.
 * @param settings Sampling.
 * @param samplesPerPrompt Samples per held-out prompt.
 * @param seed Evaluation seed (the same for every model).
 */
export async function sampleHeldOut(
  model: CausalLM,
  task: TinyTask,
  settings: SamplingSettings,
  samplesPerPrompt: number,
  seed: number,
): Promise<HeldOutSamples> {
  const queries = heldOutQueries(task, samplesPerPrompt);
  const responses = await sampleResponses(model, queries, settings, new Generator(seed));
  const rewards = await scoreTexts(
    task.reward,
    queries.map((q, i) => task.text(q, responses[i])),
  );
  return { queries, responses, rewards };
}

/** The mean of a non-empty list. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
