/**
 * The PPO training loop: query batches → `generate` → `reward` → `PPOTrainer.step`, with a
 * progress bar, one stats line per step, `metrics.jsonl`, atomic checkpoints and exact resume.
 *
 * A run is a function of its seed and step number: the batch of step s and the generator handed
 * to `generate` at step s are recomputed from (seed, s), and the checkpoint holds the weights,
 * the optimizer, the trainer's state (step, KL coefficient, running moments, shuffling state)
 * and any extra generators, so a resumed run repeats the steps a straight run would take.
 *
 * @module
 */

import { join } from "node:path";
import { Generator, type GeneratorState } from "../../core/random.ts";
import { formatMetric, Progress, type ProgressSink, progressSink } from "../../common/progress.ts";
import { checkTokenRow, epochPermutation, rowAt, type Rows } from "../common/batching.ts";
import {
  type CheckpointModel,
  type CheckpointOptimizer,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../common/checkpoint.ts";
import { type ReportTarget, RunWriter } from "../../report/run_files.ts";
import { isSampleStep, resolveSampleLog, samplesLines } from "../../report/samples.ts";
import { acquireRunLock } from "../common/run_dir.ts";
import { NonFiniteLossError } from "../common/nonfinite.ts";
import { scalarStats } from "./stats.ts";
import type { PPOStats, PPOTrainer, PPOTrainerState } from "./trainer.ts";

/** A query: its token ids, or a row holding them (a `data` query builder's output). */
export type PPOQuery = readonly number[] | { readonly inputIds: readonly number[] };

/** What `generate` and `reward` are told about the step they serve. */
export interface PPOStepContext {
  /** The step being run (1-based). */
  step: number;
  /** Rows of the query set in this batch, in batch order. */
  indices: number[];
  /**
   * A generator seeded from (seed, step): draw sampling randomness from it (e.g. pass it to
   * `models`' `generate` as `generator`) and a resumed run samples the same tokens.
   */
  generator: Generator;
}

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
export const PPO_CHECKPOINT_DIR = "checkpoint";

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
 * import { PPOTrainer, trainPPO } from "@tether/rlhf/ppo";
 * const result = await trainPPO({
 *   trainer,
 *   queries, // e.g. [{ inputIds: [464, 3807] }, ...]
 *   generate: async (q, { generator }) => await sample(q, generator),
 *   reward: async (q, r) => await score(q, r),
 *   steps: 100,
 *   outputDir: "runs/ppo",
 *   resume: Deno.args.includes("--resume"),
 * });
 * console.log(result.steps, result.lastStats?.["objective/kl"]);
 * ```
 *
 * @param options Trainer, data, callbacks, run length and outputs.
 */
export async function trainPPO(options: PPOLoopOptions): Promise<PPOLoopResult> {
  const started = performance.now();
  const { trainer, steps } = options;
  const batchSize = trainer.config.batchSize;
  const seed = options.seed ?? trainer.config.seed;
  const checkpointEvery = options.checkpointEvery ?? 10;
  const rows = toRows(options.queries);
  checkOptions(options, rows.length, batchSize, checkpointEvery);
  const sampleLog = resolveSampleLog(
    "trainPPO",
    options.logSamplesEvery,
    options.logSamplesCount,
    10,
  );
  const decode = options.decode ?? ((ids: number[]) => ids.join(" "));
  const model = options.model ?? trainableParameters(trainer);
  const optimizer = options.outputDir ? checkpointable(trainer.optimizer) : undefined;
  const checkpointDir = options.outputDir ? join(options.outputDir, PPO_CHECKPOINT_DIR) : null;
  const dataOrder = { seed, batchSize, queries: rows.length };
  const batchesPerEpoch = Math.floor(rows.length / batchSize);
  // One writer per output folder: a second process training into it is refused at once.
  await using _lock = options.outputDir
    ? await acquireRunLock(options.outputDir, "trainPPO")
    : null;

  let resumedFrom: number | null = null;
  if (options.resume) {
    if (!checkpointDir || !(await hasCheckpoint(checkpointDir))) {
      throw new Error(
        `trainPPO: resume is set but there is no checkpoint at ${
          checkpointDir ?? "(no outputDir)"
        }; run without resume to start fresh`,
      );
    }
    const loaded = await loadCheckpoint(checkpointDir, { model, optimizer });
    checkDataOrder(loaded.extra.dataOrder as Record<string, number> | undefined, dataOrder);
    trainer.loadStateDict(loaded.extra.ppo as PPOTrainerState);
    const saved = (loaded.extra.generators ?? {}) as Record<string, GeneratorState>;
    for (const [name, g] of definedGenerators(options.generators)) {
      const state = saved[name];
      if (!state) throw new Error(`trainPPO: ${loaded.dir} holds no state for generator '${name}'`);
      g.setState(state);
    }
    if (trainer.currentStep !== loaded.step) {
      throw new Error(
        `trainPPO: ${loaded.dir} is at step ${loaded.step} but its trainer state at step ` +
          `${trainer.currentStep}; the checkpoint was not written by trainPPO`,
      );
    }
    resumedFrom = loaded.step;
  } else if (trainer.currentStep !== 0) {
    throw new Error(
      `trainPPO: the trainer has already taken ${trainer.currentStep} steps; pass a fresh ` +
        `trainer, or resume from a checkpoint`,
    );
  }

  const save = async (step: number) => {
    if (!checkpointDir) return;
    const generators: Record<string, unknown> = {};
    for (const [name, g] of definedGenerators(options.generators)) {
      generators[name] = g.getState();
    }
    await saveCheckpoint(checkpointDir, {
      model,
      optimizer,
      step,
      extra: { trainer: "trainPPO", ppo: trainer.stateDict(), dataOrder, generators },
    });
  };

  const writer = options.outputDir
    ? await RunWriter.open(options.outputDir, {
      resumeStep: resumedFrom ?? 0,
      reportTo: options.reportTo,
      config: { ppo: trainer.config, loop: { steps, seed, checkpointEvery } },
    })
    : null;
  const sink = options.progress === true
    ? progressSink()
    : options.progress === false
    ? undefined
    : options.progress ?? (progressSink().isTerminal() ? progressSink() : undefined);
  const progress = sink
    ? new Progress({ label: "ppo", total: steps, start: trainer.currentStep, sink })
    : null;
  const log = options.log === false ? null : options.log ?? defaultLog(sink);

  const history: Record<string, number>[] = [];
  let lastStats: PPOStats | null = null;
  let lastMetrics: Record<string, number> = {};
  let stoppedEarly = false;
  try {
    for (let step = trainer.currentStep + 1; step <= steps; step++) {
      const stepStarted = performance.now();
      const elapsedSeconds = (stepStarted - started) / 1000;
      if (options.shouldStop?.({ step: step - 1, elapsedSeconds }) === true) {
        stoppedEarly = true;
        // The last completed step, unless this call ran none or it was just saved.
        if (history.length > 0 && (step - 1) % checkpointEvery !== 0) await save(step - 1);
        break;
      }
      const indices = batchIndices(seed, step - 1, batchesPerEpoch, batchSize, rows.length);
      const queries = indices.map((i) => queryIds(rowAt(rows, i), i));
      const context: PPOStepContext = { step, indices, generator: stepGenerator(seed, step) };
      const responses = await options.generate(queries, context);
      const generated = performance.now();
      const scores = await options.reward(queries, responses, context);
      const rewarded = performance.now();
      let stats: PPOStats;
      try {
        stats = await trainer.step(queries, responses, scores);
      } catch (error) {
        if (!(error instanceof NonFiniteLossError)) throw error;
        // Restated with the loop's last metrics line (rewards and timing included).
        const stopped = new NonFiniteLossError(
          "trainPPO",
          step,
          error.loss,
          lastMetrics,
          error.afterUpdate,
        );
        stopped.cause = error;
        throw stopped;
      }
      const done = performance.now();
      const metrics: Record<string, number> = {
        ...scalarStats(stats),
        "env/reward_mean": mean(scores),
        "env/reward_std": unbiasedStd(scores),
        "time/generate": (generated - stepStarted) / 1000,
        "time/reward": (rewarded - generated) / 1000,
        "time/ppo/total": (done - rewarded) / 1000,
        "time/step": (done - stepStarted) / 1000,
      };
      await writer?.write(step, metrics);
      await writer?.writeDistribution(step, "env/reward_dist", scores);
      const klDist = (stats["objective/kl_dist"] as number[] | undefined) ?? [];
      if (klDist.length > 0) await writer?.writeDistribution(step, "objective/kl_dist", klDist);
      history.push(metrics);
      lastStats = stats;
      lastMetrics = metrics;
      log?.(statsLine(step, steps, metrics));
      if (isSampleStep(step, steps, sampleLog)) {
        const samples = queries.slice(0, sampleLog.count).map((q, i) => ({
          prompt: decode(q),
          completion: decode(responses[i]),
          reward: scores[i],
          kl: klDist[i],
        }));
        await writer?.writeSamples(step, samples);
        log?.(samplesLines(`ppo step ${step} samples`, samples));
      }
      progress?.update(step, {
        "env/reward_mean": metrics["env/reward_mean"],
        "objective/kl": metrics["objective/kl"],
      });
      await options.onStep?.({ ...context, stats, metrics, queries, responses, scores });
      if (step % checkpointEvery === 0 || step === steps) await save(step);
    }
  } finally {
    progress?.finish();
    writer?.close();
  }
  return { steps: trainer.currentStep, resumedFrom, lastStats, history, stoppedEarly };
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
  const parts = [`ppo step ${step}/${total}`];
  for (const name of LINE_STATS) parts.push(`${name} ${fmt(metrics[name])}`);
  parts.push(`${(metrics["time/step"] ?? NaN).toFixed(2)} s/step`);
  return parts.join(" | ");
}

function fmt(v: number | undefined): string {
  return v === undefined ? "-" : formatMetric(v);
}

function defaultLog(sink: ProgressSink | undefined): (line: string) => void {
  // On a terminal the progress bar owns the current line: clear it, print, and let it redraw.
  const clear = sink?.isTerminal() ? "\r\x1b[K" : "";
  return (line) => progressSink().write(`${clear}${line}\n`);
}

/** Rows of `batch` (0-based step) in epoch-wise seeded shuffles of the query set. */
function batchIndices(
  seed: number,
  batch: number,
  batchesPerEpoch: number,
  batchSize: number,
  n: number,
): number[] {
  const epoch = Math.floor(batch / batchesPerEpoch), j = batch % batchesPerEpoch;
  return epochPermutation(seed, epoch, n).slice(j * batchSize, (j + 1) * batchSize);
}

/** The generator handed to `generate`/`reward` at `step`: a function of (seed, step) alone. */
function stepGenerator(seed: number, step: number): Generator {
  return new Generator(
    (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(step, 0x165667b1)) >>> 0,
  );
}

function toRows(queries: Rows<PPOQuery> | Iterable<PPOQuery>): Rows<PPOQuery> {
  if (Array.isArray(queries)) return queries;
  const indexed = queries as { length?: unknown; get?: unknown };
  if (typeof indexed.length === "number" && typeof indexed.get === "function") {
    return queries as Rows<PPOQuery>;
  }
  if (Symbol.iterator in Object(queries)) return Array.from(queries as Iterable<PPOQuery>);
  throw new Error(
    `trainPPO: queries must be an array, a Dataset or an iterable of token rows, got ${queries}`,
  );
}

function queryIds(row: PPOQuery, index: number): number[] {
  const ids = Array.isArray(row) ? row : (row as { inputIds?: unknown })?.inputIds;
  checkTokenRow(`trainPPO: query row ${index}`, ids);
  if (ids.length === 0) throw new Error(`trainPPO: query row ${index} is empty`);
  return [...ids];
}

function checkOptions(
  o: PPOLoopOptions,
  rows: number,
  batchSize: number,
  checkpointEvery: number,
): void {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) {
    throw new Error(`trainPPO: steps must be an integer >= 0, got ${o.steps}`);
  }
  if (!(Number.isInteger(checkpointEvery) && checkpointEvery >= 1)) {
    throw new Error(`trainPPO: checkpointEvery must be an integer >= 1, got ${checkpointEvery}`);
  }
  if (rows < batchSize) {
    throw new Error(
      `trainPPO: the query set has ${rows} rows but config.batchSize is ${batchSize}; ` +
        `a step needs a full batch: add queries or lower batchSize`,
    );
  }
  if (typeof o.generate !== "function" || typeof o.reward !== "function") {
    throw new Error("trainPPO: generate and reward must be functions");
  }
}

function checkDataOrder(saved: Record<string, number> | undefined, now: Record<string, number>) {
  if (!saved) return;
  const differing = Object.keys(now).filter((k) => saved[k] !== now[k]);
  if (differing.length > 0) {
    throw new Error(
      `trainPPO: cannot resume exactly: ${
        differing.map((k) => `${k} was ${saved[k]}, now ${now[k]}`).join("; ")
      } (the batch order depends on them); use the saved values or start a fresh run`,
    );
  }
}

function definedGenerators(
  generators: Record<string, Generator | undefined> | undefined,
): [string, Generator][] {
  return Object.entries(generators ?? {}).filter((e): e is [string, Generator] => !!e[1]);
}

function trainableParameters(trainer: PPOTrainer): CheckpointModel {
  const policy = trainer.model;
  return { parameters: () => policy.parameters().filter((p) => p.requiresGrad) };
}

function checkpointable(optimizer: unknown): CheckpointOptimizer {
  const o = optimizer as Partial<CheckpointOptimizer>;
  if (typeof o.stateDict !== "function" || typeof o.loadStateDict !== "function") {
    throw new Error(
      "trainPPO: checkpoints need an optimizer with stateDict/loadStateDict (core optim's " +
        "Adam/AdamW, or the trainer's default); pass one, or omit outputDir",
    );
  }
  return o as CheckpointOptimizer;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** As torch.std (TRL logs `env/reward_std` with it). */
function unbiasedStd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
