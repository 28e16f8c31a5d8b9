/**
 * Best-of-n on the held-out prompts: the untouched policy samples n candidates per query, the
 * reward model scores them, the best is kept (TRL's `BestOfNSampler` semantics). Nothing is
 * trained; the cost is paid at inference, per prompt.
 *
 * @module
 */

import { Generator } from "../../core/mod.ts";
import { bestOfN } from "../../algorithms/best_of_n/mod.ts";
import { heldOutQueries, type HeldOutSamples } from "./held_out.ts";
import type { CompareSettings } from "./settings.ts";
import type { TinyTask } from "./task.ts";

/** Best-of-n's picks and what they cost. */
export interface BestOfNRun extends HeldOutSamples {
  /** Wall-clock seconds of sampling and scoring every candidate. */
  seconds: number;
}

/**
 * Best-of-n for every held-out query row (each prompt `evalSamplesPerPrompt` times, as the
 * trained policies are evaluated), from the reference, with the evaluation seed.
 *
 * @param task Models, prompts, reward.
 * @param settings Comparison settings.
 * @param seed Evaluation seed.
 */
export async function runBestOfN(
  task: TinyTask,
  settings: CompareSettings,
  seed: number,
): Promise<BestOfNRun> {
  const model = task.reference;
  const generator = new Generator(seed);
  const queries = heldOutQueries(task, settings.evalSamplesPerPrompt);
  const started = performance.now();
  model.eval();
  const results = await bestOfN(queries, {
    generate: async (rows, maxNewTokens) => {
      const { tokens } = await model.generate(rows, { doSample: true, maxNewTokens, generator });
      return rows.map((row, i) => [...row, ...tokens[i]]);
    },
    decode: (ids) => task.tokenizer.decode(ids, { skipSpecialTokens: true }),
    reward: task.reward,
    sampleSize: settings.bestOfN.n,
    maxNewTokens: settings.maxNewTokens,
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    queries,
    responses: results.map((r, i) => r.ranked[0].tokens.slice(queries[i].length)),
    rewards: results.map((r) => r.ranked[0].score),
    seconds,
  };
}
