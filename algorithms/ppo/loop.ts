/**
 * The PPO training loop: query batches → `generate` → `reward` → `PPOTrainer.step`, on the one
 * online loop of `algorithms/common` (progress bar, one stats line per step, `metrics.jsonl`,
 * atomic checkpoints, exact resume, wall-clock and non-finite loss stops).
 *
 * A run is a function of its seed and step number: the batch of step s and the generator handed
 * to `generate` at step s are recomputed from (seed, s), and the checkpoint holds the weights,
 * the optimizer, the trainer's state (step, KL coefficient, running moments, shuffling state)
 * and any extra generators, so a resumed run repeats the steps a straight run would take.
 *
 * @module
 */

import type { Generator } from "../../core/random.ts";
import type { ProgressSink } from "../../common/progress.ts";
import type { ReportTarget } from "../../report/run_files.ts";
import type { Rows } from "../common/batching.ts";
import type { CheckpointModel } from "../common/checkpoint.ts";
import {
  ONLINE_CHECKPOINT_DIR,
  type OnlineQuery,
  onlineStatsLine,
  type OnlineStepContext,
  runOnlineLoop,
  trainableParameters,
} from "../common/online_loop.ts";
import { scalarStats } from "./stats.ts";
import type { PPOStats, PPOTrainer } from "./trainer.ts";

/** A query: its token ids, or a row holding them (a `data` query builder's output). */
export type PPOQuery = OnlineQuery;

/** What `generate` and `reward` are told about the step they serve. */
export type PPOStepContext = OnlineStepContext;

/** What `onStep` receives after each step. */
export interface PPOStepInfo extends PPOStepContext {
  /** The step's statistics as `PPOTrainer.step` returned them (arrays included). */
  stats: PPOStats;
  /** The line written to `metrics.jsonl` (scalars, rewards, timing). */
  metrics: Record<string, number>;
  /** Query token rows of the batch. */
  queries: number[][];
  /** Generated response token rows. */
  responses: number[][];
  /** The reward of each row. */
  scores: number[];
}

/** Options of {@link trainPPO}. */
export interface PPOLoopOptions {
  /** The trainer; its `config.batchSize` is the batch size and `config.seed` the default seed. */
  trainer: PPOTrainer;
  /**
   * The query set (an array, a `data` `Dataset`, or any iterable, read once). Each step takes
   * `batchSize` rows in a seeded shuffled order; a new shuffle starts each epoch and a last
   * incomplete batch of an epoch is skipped.
   */
  queries: Rows<PPOQuery> | Iterable<PPOQuery>;
  /** Response token rows for the query rows (wrap `models`' `generate` with your sampling). */
  generate: (queries: number[][], context: PPOStepContext) => Promise<number[][]>;
  /** One score per (query, response) row. */
  reward: (
    queries: number[][],
    responses: number[][],
    context: PPOStepContext,
  ) => Promise<number[]>;
  /** Total PPO steps of the run (steps before a resume included). */
  steps: number;
  /** Where `metrics.jsonl` and `checkpoint/` go (omit for neither). */
  outputDir?: string;
  /** Steps between checkpoints (default 10); one is also written at the last step. */
  checkpointEvery?: number;
  /**
   * Continue from `outputDir/checkpoint`; `metrics.jsonl` lines after it are dropped. Without
   * it the run starts at step 1 and `metrics.jsonl` starts over.
   */
  resume?: boolean;
  /**
   * What the checkpoint holds of the model. Default: the policy's trainable parameters
   * (`requiresGrad`) by position: the value head and LoRA adapters, or every weight of a fully
   * trained policy; frozen weights never change, so leaving them out keeps resume exact.
   */
  model?: CheckpointModel;
  /**
   * Other generators whose state the checkpoint keeps (e.g. the LoRA dropout generator);
   * undefined entries are skipped.
   */
  generators?: Record<string, Generator | undefined>;
  /** Seed of the batch order and the per-step generators (default `trainer.config.seed`). */
  seed?: number;
  /** Receives the stats line of each step (default: standard error); `false` for none. */
  log?: ((line: string) => void) | false;
  /** Called after each step, e.g. to print samples. */
  onStep?: (info: PPOStepInfo) => void | Promise<void>;
  /**
   * Asked before each step's `generate`; `true` ends the run there, as if `steps` had been
   * reached: the checkpoint is written at the last completed step (so `resume` continues from
   * it) and the result has `stoppedEarly: true`. Use it for a wall-clock budget or an external
   * stop signal.
   *
   * @param state `step`: steps completed (those before a resume included); `elapsedSeconds`:
   *   seconds since this `trainPPO` call began (loading a checkpoint included).
   */
  shouldStop?: (state: { step: number; elapsedSeconds: number }) => boolean;
  /**
   * A progress bar: `true`, `false`, or a sink (default: on when the default progress sink is a
   * terminal).
   */
  progress?: boolean | ProgressSink;
  /** Also write TensorBoard event files into `outputDir` (`"tensorboard"`). */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /**
   * Log a table of `logSamplesCount` completions with their rewards and KL every this many steps
   * (and at the first and the last): to `samples.jsonl`, TensorBoard and the stats log. Default
   * 10; 0 turns it off.
   */
  logSamplesEvery?: number;
  /** Rows per sample table (default 4: the batch's first rows). */
  logSamplesCount?: number;
  /** Token ids → text for the sample tables (default: the ids, space-separated). */
  decode?: (ids: number[]) => string;
}

/** What {@link trainPPO} returns. */
export interface PPOLoopResult {
  /** Steps completed (those before a resume included). */
  steps: number;
  /** The checkpoint step the run resumed from, or null. */
  resumedFrom: number | null;
  /** Statistics of the last step this call ran (null when it ran none). */
  lastStats: PPOStats | null;
  /** The `metrics.jsonl` line of each step this call ran, in order. */
  history: Record<string, number>[];
  /** Whether `shouldStop` ended the run before `steps`. */
  stoppedEarly: boolean;
}

/** Name of the checkpoint folder under `outputDir`. */
export const PPO_CHECKPOINT_DIR: string = ONLINE_CHECKPOINT_DIR;

/** Statistics the per-step line shows, under the names `metrics.jsonl` gives them. */
const LINE_STATS = ["env/reward_mean", "ppo/returns/mean", "objective/kl", "objective/kl_coef"];

/**
 * Run PPO for `steps` steps: each step draws a batch of queries, generates responses, scores
 * them and calls `trainer.step`. Metrics go to `outputDir/metrics.jsonl` (TRL's scalar names,
 * plus `env/reward_mean`, `env/reward_std` and `time/*` seconds), checkpoints to
 * `outputDir/checkpoint` every `checkpointEvery` steps and at the end (the last step, or the
 * step at which `shouldStop` ended the run).
 *
 * A non-finite loss or KL stops the run with a `NonFiniteLossError` naming the step and the last
 * good metrics; no checkpoint is written for it, and `resume: true` continues from the last one.
 *
 * @example
 * ```ts
 * import { PPOConfig, PPOTrainer, trainPPO } from "@tether/rlhf/ppo";
 * import { generate, loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 * import { keywordReward } from "@tether/rlhf/reward";
 *
 * const path = "examples/assets/tiny-imdb/policy"; // tiny offline GPT-2
 * const model = await loadCausalLM(path, { valueHead: true });
 * const tokenizer = await loadTokenizer(path);
 * const trainer = new PPOTrainer(new PPOConfig({ batchSize: 4, miniBatchSize: 2 }), {
 *   model,
 *   tokenizer,
 * });
 * const reward = keywordReward({ brilliant: 1, charming: 1, bland: -1, tedious: -1 });
 * const prompts = ["the movie was", "the acting was", "the plot was", "the film was"];
 * const result = await trainPPO({
 *   trainer,
 *   queries: prompts.map((text) => ({ inputIds: tokenizer.encode(text) })),
 *   // Sample with the step's generator, so a resumed run samples the same tokens.
 *   generate: async (queries, { generator }) =>
 *     (await generate(model, queries, { maxNewTokens: 8, doSample: true, generator })).tokens,
 *   reward: async (_queries, responses) =>
 *     await reward(responses.map((ids) => tokenizer.decode(ids))),
 *   steps: 2,
 *   outputDir: await Deno.makeTempDir(), // metrics.jsonl and checkpoint/ ("resume: true" continues)
 *   log: false,
 * });
 * console.log(result.steps, result.lastStats?.["objective/kl"]);
 * ```
 *
 * @param options Trainer, data, callbacks, run length and outputs.
 */
export async function trainPPO(options: PPOLoopOptions): Promise<PPOLoopResult> {
  const { trainer } = options;
  const onStep = options.onStep;
  const decode = options.decode ?? ((ids: number[]) => ids.join(" "));
  const klDist = (stats: PPOStats) => (stats["objective/kl_dist"] as number[] | undefined) ?? [];
  return await runOnlineLoop<PPOStats, number[]>({
    name: "trainPPO",
    label: "ppo",
    stateKey: "ppo",
    trainer,
    batchSize: trainer.config.batchSize,
    batchSizeName: "config.batchSize",
    seed: options.seed ?? trainer.config.seed,
    queries: options.queries,
    generate: options.generate,
    reward: options.reward,
    update: (queries, responses, scores) => trainer.step(queries, responses, scores),
    metrics: (stats, scores) => ({
      ...scalarStats(stats),
      "env/reward_mean": mean(scores),
      "env/reward_std": unbiasedStd(scores),
    }),
    distributions: (stats, scores) => ({
      "env/reward_dist": scores,
      "objective/kl_dist": klDist(stats),
    }),
    samples: (queries, responses, scores, stats, count) =>
      queries.slice(0, count).map((q, i) => ({
        prompt: decode(q),
        completion: decode(responses[i]),
        reward: scores[i],
        kl: klDist(stats)[i],
      })),
    config: { ppo: trainer.config },
    line: statsLine,
    progressMetrics: ["env/reward_mean", "objective/kl"],
    steps: options.steps,
    outputDir: options.outputDir,
    checkpointEvery: options.checkpointEvery,
    resume: options.resume,
    model: options.model ?? trainableParameters(trainer.model),
    generators: options.generators,
    log: options.log,
    onStep: onStep && ((info) => onStep({ ...info, scores: info.rewards })),
    shouldStop: options.shouldStop,
    progress: options.progress,
    reportTo: options.reportTo,
    logSamplesEvery: options.logSamplesEvery,
    logSamplesCount: options.logSamplesCount,
  });
}

/**
 * The per-step line: `ppo step 3/20 | env/reward_mean 0.5000 | ppo/returns/mean … |
 * objective/kl … | objective/kl_coef … | 0.84 s/step`, each number under its `metrics.jsonl` name.
 *
 * @param step Steps completed.
 * @param total Steps of the run.
 * @param metrics The step's metrics line.
 */
export function statsLine(step: number, total: number, metrics: Record<string, number>): string {
  return onlineStatsLine(
    "ppo",
    step,
    total,
    LINE_STATS.map((name) => [name, metrics[name]]),
    metrics["time/step"],
  );
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** As torch.std (TRL logs `env/reward_std` with it). */
function unbiasedStd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
