// A short PPO run on the tiny value-head LM of the TRL replays, written to a run folder: the
// material of the report and TensorBoard tests. Responses are drawn uniformly from the step's
// generator (the run is real PPO on them; what the report shows does not need a good policy).

import { PPOTrainer, trainPPO } from "../../algorithms/ppo/mod.ts";
import type { PPOLoopResult } from "../../algorithms/ppo/loop.ts";
import type { ReportTarget } from "../../report/run_files.ts";
import { e2e, TinyLMWithValueHead } from "../algorithms/ppo_tiny_lm.ts";

const PAD = e2e.pad_token_id as number; // 6: never sampled
const TARGET = 3;
const LETTERS = "abcdef";

/** Token ids as letters, so sample tables read as text. */
export const decodeLetters = (ids: number[]) => ids.map((i) => LETTERS[i] ?? "?").join("");

/** 16 two-token queries over the non-pad tokens. */
const QUERIES = Array.from({ length: 16 }, (_, i) => [i % PAD, (i * 5 + 1) % PAD]);

/** Options of {@link tinyPpoRun}. */
export interface TinyRunOptions {
  steps?: number;
  seed?: number;
  reportTo?: ReportTarget;
  logSamplesEvery?: number;
  logSamplesCount?: number;
}

/** Run a few PPO steps (batch 8) into `dir`. */
export async function tinyPpoRun(dir: string, o: TinyRunOptions = {}): Promise<PPOLoopResult> {
  const model = new TinyLMWithValueHead(e2e.init_params, "cpu");
  const ref = new TinyLMWithValueHead(e2e.init_params, "cpu");
  try {
    const trainer = new PPOTrainer({
      batchSize: 8,
      miniBatchSize: 4,
      ppoEpochs: 1,
      learningRate: 0.05,
      initKlCoef: 0.05,
      seed: o.seed ?? 7,
    }, { model, refModel: ref, padTokenId: PAD, warn: () => {} });
    return await trainPPO({
      trainer,
      queries: QUERIES,
      generate: (q, { generator }) =>
        Promise.resolve(q.map(() => Array.from({ length: 4 }, () => generator.int(PAD)))),
      reward: (_q, r) => Promise.resolve(r.map((row) => row.filter((t) => t === TARGET).length)),
      steps: o.steps ?? 6,
      outputDir: dir,
      log: false,
      progress: false,
      reportTo: o.reportTo,
      logSamplesEvery: o.logSamplesEvery,
      logSamplesCount: o.logSamplesCount,
      decode: decodeLetters,
    });
  } finally {
    for (const m of [model, ref]) for (const p of m.parameters()) p.dispose();
  }
}
