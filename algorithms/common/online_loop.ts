/**
 * The one online training loop: query batches → `generate` → `reward` → the algorithm's update,
 * with a progress bar, one stats line per step, the run's files (`metrics.jsonl`, sample tables,
 * reward distributions, TensorBoard when asked), a locked run folder, atomic checkpoints, exact
 * resume, a wall-clock stop and the non-finite loss stop. PPO (`trainPPO`), GRPO and RLOO run
 * on it; they differ only in how a rollout becomes a loss.
 *
 * A run is a function of its seed and step number: the batch of step s and the generator handed
 * to `generate` at step s are recomputed from (seed, s), and the checkpoint holds the trained
 * weights, the optimizer (and scheduler), the trainer's own state and any extra generators, so a
 * resumed run repeats the steps a straight run would take.
 *
 * @module
 */

import { join } from "node:path";
import type { Tensor } from "../../core/mod.ts";
import { Generator, type GeneratorState } from "../../core/random.ts";
import { formatMetric, Progress, type ProgressSink, progressSink } from "../../common/progress.ts";
import { type ReportTarget, RunWriter } from "../../report/run_files.ts";
import {
  isSampleStep,
  resolveSampleLog,
  type SampleRow,
  samplesLines,
} from "../../report/samples.ts";
import { checkTokenRow, epochPermutation, rowAt, type Rows } from "./batching.ts";
import {
  type CheckpointModel,
  type CheckpointOptimizer,
  type CheckpointScheduler,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { NonFiniteLossError } from "./nonfinite.ts";
import { acquireRunLock } from "./run_dir.ts";

/** A query: its token ids, or a row holding them (a `data` query builder's output). */
export type OnlineQuery = readonly number[] | { readonly inputIds: readonly number[] };

/** What `generate`, `reward` and the update are told about the step they serve. */
export interface OnlineStepContext {
  /** The step being run (1-based). */
  step: number;
  /** Rows of the query set in this batch, in batch order (each once, before repetition). */
  indices: number[];
  /**
   * A generator seeded from (seed, step): draw sampling randomness from it (e.g. pass it to
   * `models`' `generate` as `generator`) and a resumed run samples the same tokens.
   */
  generator: Generator;
}

/** What the loop needs of a trainer besides its update. */
export interface OnlineTrainer {
  /** Steps completed. */
  readonly currentStep: number;
  /** The optimizer (checkpointed when it has state dicts). */
  readonly optimizer: unknown;
  /** Trainer state a resume needs (JSON-safe). */
  stateDict(): unknown;
  /** Restores what `stateDict` returned. */
  loadStateDict(state: never): void;
}

/** What `onStep` receives after each step. */
export interface OnlineStepInfo<Stats, Rewards> extends OnlineStepContext {
  /** The update's statistics. */
  stats: Stats;
  /** The line written to `metrics.jsonl` (scalars, rewards, timing). */
  metrics: Record<string, number>;
  /** Query token rows of the batch (repeated `samplesPerQuery` times each). */
  queries: number[][];
  /** Generated response token rows. */
  responses: number[][];
  /** The rewards as `reward` returned them. */
  rewards: Rewards;
}

/** Options of {@link runOnlineLoop}. */
export interface OnlineLoopOptions<Stats, Rewards> {
  /** Names the loop in messages and checkpoints (e.g. `trainPPO`, `GRPOTrainer`). */
  name: string;
  /** The progress bar's label (e.g. `ppo`). */
  label: string;
  /** Key of the trainer's state in the checkpoint (e.g. `ppo`). */
  stateKey: string;
  /** The trainer. */
  trainer: OnlineTrainer;
  /** Queries drawn per step. */
  batchSize: number;
  /** How the batch size is called in messages (e.g. `config.batchSize`). */
  batchSizeName: string;
  /** Each drawn query is repeated this many times, consecutively (GRPO's groups; default 1). */
  samplesPerQuery?: number;
  /** Seed of the batch order and the per-step generators. */
  seed: number;
  /**
   * The query set (an array, a `data` `Dataset`, or any iterable, read once). Each step takes
   * `batchSize` rows in a seeded shuffled order; a new shuffle starts each epoch and a last
   * incomplete batch of an epoch is skipped.
   */
  queries: Rows<OnlineQuery> | Iterable<OnlineQuery>;
  /** Response token rows for the query rows. */
  generate: (queries: number[][], context: OnlineStepContext) => Promise<number[][]>;
  /** Rewards of the (query, response) rows. */
  reward: (
    queries: number[][],
    responses: number[][],
    context: OnlineStepContext,
  ) => Promise<Rewards>;
  /** The algorithm's update on the scored rollout. */
  update: (
    queries: number[][],
    responses: number[][],
    rewards: Rewards,
    context: OnlineStepContext,
  ) => Promise<Stats>;
  /** The scalar metrics of a step (timing is added by the loop). */
  metrics: (stats: Stats, rewards: Rewards) => Record<string, number>;
  /** Per-sample values logged as distributions (e.g. `env/reward_dist`); empty ones are skipped. */
  distributions?: (stats: Stats, rewards: Rewards) => Record<string, readonly number[]>;
  /** The sample table's rows: row `i` of the batch as prompt, completion, reward (and KL). */
  samples?: (
    queries: number[][],
    responses: number[][],
    rewards: Rewards,
    stats: Stats,
    count: number,
  ) => SampleRow[];
  /**
   * Further sample tables of a step by table name (e.g. trlX's evaluation table as
   * `eval/completions`), written to `samples.jsonl` and the stats log when non-empty.
   */
  tables?: (stats: Stats) => Record<string, readonly SampleRow[]>;
  /** Settings recorded in the run's `config.json`, by section. */
  config?: Record<string, unknown>;
  /** The per-step line from the metrics. */
  line: (step: number, total: number, metrics: Record<string, number>) => string;
  /** The two metrics the progress bar shows. */
  progressMetrics: readonly string[];
  /** Total steps of the run (steps before a resume included). */
  steps: number;
  /** Where `metrics.jsonl` and `checkpoint/` go (omit for neither). */
  outputDir?: string;
  /** Steps between checkpoints (default 10); one is also written at the last step. */
  checkpointEvery?: number;
  /** Continue from `outputDir/checkpoint`; `metrics.jsonl` lines after it are dropped. */
  resume?: boolean;
  /** What the checkpoint holds of the model. */
  model: CheckpointModel;
  /** The learning-rate scheduler, if the trainer steps one (checkpointed). */
  scheduler?: CheckpointScheduler;
  /** Other generators whose state the checkpoint keeps; undefined entries are skipped. */
  generators?: Record<string, Generator | undefined>;
  /** Receives the stats line of each step (default: standard error); `false` for none. */
  log?: ((line: string) => void) | false;
  /** Called after each step. */
  onStep?: (info: OnlineStepInfo<Stats, Rewards>) => void | Promise<void>;
  /**
   * Asked before each step's `generate`; `true` ends the run there, as if `steps` had been
   * reached: the checkpoint is written at the last completed step and the result has
   * `stoppedEarly: true`.
   */
  shouldStop?: (state: { step: number; elapsedSeconds: number }) => boolean;
  /** A progress bar: `true`, `false`, or a sink (default: on when the progress sink is a TTY). */
  progress?: boolean | ProgressSink;
  /** Also write TensorBoard event files into `outputDir` (`"tensorboard"`). */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /**
   * Log a table of `logSamplesCount` samples with their rewards every this many steps (and at
   * the first and the last): to `samples.jsonl`, TensorBoard and the stats log. Default 10; 0
   * turns it off.
   */
  logSamplesEvery?: number;
  /** Rows per sample table (default 4: the batch's first rows). */
  logSamplesCount?: number;
}

/** What {@link runOnlineLoop} returns. */
export interface OnlineLoopResult<Stats> {
  /** Steps completed (those before a resume included). */
  steps: number;
  /** The checkpoint step the run resumed from, or null. */
  resumedFrom: number | null;
  /** Statistics of the last step this call ran (null when it ran none). */
  lastStats: Stats | null;
  /** The `metrics.jsonl` line of each step this call ran, in order. */
  history: Record<string, number>[];
  /** Whether `shouldStop` ended the run before `steps`. */
  stoppedEarly: boolean;
}

/** Name of the checkpoint folder under `outputDir`. */
export const ONLINE_CHECKPOINT_DIR = "checkpoint";

/**
 * Run the loop (see the module notes). A non-finite loss stops the run with a
 * `NonFiniteLossError` naming the step and the last good metrics; no checkpoint is written for
 * it, and `resume: true` continues from the last one.
 *
 * @param options Trainer, data, callbacks, run length and outputs.
 */
export async function runOnlineLoop<Stats, Rewards>(
  options: OnlineLoopOptions<Stats, Rewards>,
): Promise<OnlineLoopResult<Stats>> {
  const started = performance.now();
  const { trainer, steps, name, batchSize } = options;
  const repeat = options.samplesPerQuery ?? 1;
  const seed = options.seed;
  const checkpointEvery = options.checkpointEvery ?? 10;
  const rows = toRows(name, options.queries);
  checkOptions(options, rows.length, checkpointEvery);
  const sampleLog = resolveSampleLog(name, options.logSamplesEvery, options.logSamplesCount, 10);
  const optimizer = options.outputDir ? checkpointable(name, trainer.optimizer) : undefined;
  const scheduler = options.scheduler;
  const checkpointDir = options.outputDir ? join(options.outputDir, ONLINE_CHECKPOINT_DIR) : null;
  const dataOrder: Record<string, number> = { seed, batchSize, queries: rows.length };
  if (repeat !== 1) dataOrder.samplesPerQuery = repeat;
  const batchesPerEpoch = Math.floor(rows.length / batchSize);
  // One writer per output folder: a second process training into it is refused at once.
  await using _lock = options.outputDir ? await acquireRunLock(options.outputDir, name) : null;

  let resumedFrom: number | null = null;
  if (options.resume) {
    if (!checkpointDir || !(await hasCheckpoint(checkpointDir))) {
      throw new Error(
        `${name}: resume is set but there is no checkpoint at ${
          checkpointDir ?? "(no outputDir)"
        }; run without resume to start fresh`,
      );
    }
    const loaded = await loadCheckpoint(checkpointDir, {
      model: options.model,
      optimizer,
      scheduler,
    });
    checkDataOrder(name, loaded.extra.dataOrder as Record<string, number> | undefined, dataOrder);
    trainer.loadStateDict(loaded.extra[options.stateKey] as never);
    const saved = (loaded.extra.generators ?? {}) as Record<string, GeneratorState>;
    for (const [key, g] of definedGenerators(options.generators)) {
      const state = saved[key];
      if (!state) throw new Error(`${name}: ${loaded.dir} holds no state for generator '${key}'`);
      g.setState(state);
    }
    if (trainer.currentStep !== loaded.step) {
      throw new Error(
        `${name}: ${loaded.dir} is at step ${loaded.step} but its trainer state at step ` +
          `${trainer.currentStep}; the checkpoint was not written by ${name}`,
      );
    }
    resumedFrom = loaded.step;
  } else if (trainer.currentStep !== 0) {
    throw new Error(
      `${name}: the trainer has already taken ${trainer.currentStep} steps; pass a fresh ` +
        `trainer, or resume from a checkpoint`,
    );
  }

  const save = async (step: number) => {
    if (!checkpointDir) return;
    const generators: Record<string, unknown> = {};
    for (const [key, g] of definedGenerators(options.generators)) generators[key] = g.getState();
    await saveCheckpoint(checkpointDir, {
      model: options.model,
      optimizer,
      scheduler,
      step,
      extra: { trainer: name, [options.stateKey]: trainer.stateDict(), dataOrder, generators },
    });
  };

  const writer = options.outputDir
    ? await RunWriter.open(options.outputDir, {
      resumeStep: resumedFrom ?? 0,
      reportTo: options.reportTo,
      config: {
        ...options.config,
        loop: { steps, seed, checkpointEvery },
      },
    })
    : null;
  const sink = options.progress === true
    ? progressSink()
    : options.progress === false
    ? undefined
    : options.progress ?? (progressSink().isTerminal() ? progressSink() : undefined);
  const progress = sink
    ? new Progress({ label: options.label, total: steps, start: trainer.currentStep, sink })
    : null;
  const log = options.log === false ? null : options.log ?? defaultLog(sink);

  const history: Record<string, number>[] = [];
  let lastStats: Stats | null = null;
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
      const queries = indices.flatMap((i) => {
        const ids = queryIds(name, rowAt(rows, i), i);
        return Array.from({ length: repeat }, () => [...ids]);
      });
      const context: OnlineStepContext = { step, indices, generator: stepGenerator(seed, step) };
      let responses: number[][], rewards: Rewards, generated: number, rewarded: number;
      try {
        responses = await options.generate(queries, context);
        generated = performance.now();
        rewards = await options.reward(queries, responses, context);
        rewarded = performance.now();
      } catch (error) {
        // Nothing of this step has touched the weights: keep what earlier steps trained.
        if (checkpointDir && step > 1 && (history.length > 0 || resumedFrom !== null)) {
          if (history.length > 0 && (step - 1) % checkpointEvery !== 0) await save(step - 1);
          if (error instanceof Error) {
            error.message += ` (the run is checkpointed at step ${step - 1}: fix this and resume)`;
          }
        }
        throw error;
      }
      let stats: Stats;
      try {
        stats = await options.update(queries, responses, rewards, context);
      } catch (error) {
        if (!(error instanceof NonFiniteLossError)) throw error;
        // Restated with the loop's last metrics line (rewards and timing included).
        const stopped = new NonFiniteLossError(
          name,
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
        ...options.metrics(stats, rewards),
        "time/generate": (generated - stepStarted) / 1000,
        "time/reward": (rewarded - generated) / 1000,
        [`time/${options.label}/total`]: (done - rewarded) / 1000,
        "time/step": (done - stepStarted) / 1000,
      };
      await writer?.write(step, metrics);
      const distributions = options.distributions?.(stats, rewards) ?? {};
      for (const [key, values] of Object.entries(distributions)) {
        if (values.length > 0) await writer?.writeDistribution(step, key, values);
      }
      history.push(metrics);
      lastStats = stats;
      lastMetrics = metrics;
      log?.(options.line(step, steps, metrics));
      if (options.samples && isSampleStep(step, steps, sampleLog)) {
        const table = options.samples(queries, responses, rewards, stats, sampleLog.count);
        await writer?.writeSamples(step, table);
        log?.(samplesLines(`${options.label} step ${step} samples`, table));
      }
      for (const [name, rows] of Object.entries(options.tables?.(stats) ?? {})) {
        if (rows.length === 0) continue;
        await writer?.writeSamples(step, rows, name);
        log?.(samplesLines(`${options.label} step ${step} ${name}`, rows));
      }
      progress?.update(
        step,
        Object.fromEntries(options.progressMetrics.map((k) => [k, metrics[k]])),
      );
      await options.onStep?.({ ...context, stats, metrics, queries, responses, rewards });
      if (step % checkpointEvery === 0 || step === steps) await save(step);
    }
  } finally {
    progress?.finish();
    writer?.close();
  }
  return { steps: trainer.currentStep, resumedFrom, lastStats, history, stoppedEarly };
}

/**
 * A stats line: `<label> step 3/20 | name value | … | 0.84 s/step`.
 *
 * @param label The loop's label (e.g. `ppo`).
 * @param step Steps completed.
 * @param total Steps of the run.
 * @param shown `[title, value]` pairs, in order.
 * @param seconds Seconds of the step.
 */
export function onlineStatsLine(
  label: string,
  step: number,
  total: number,
  shown: readonly [string, number | undefined][],
  seconds: number | undefined,
): string {
  const parts = [`${label} step ${step}/${total}`];
  for (const [title, v] of shown) parts.push(`${title} ${v === undefined ? "-" : formatMetric(v)}`);
  parts.push(`${(seconds ?? NaN).toFixed(2)} s/step`);
  return parts.join(" | ");
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

function toRows(name: string, queries: Rows<OnlineQuery> | Iterable<OnlineQuery>) {
  if (Array.isArray(queries)) return queries as Rows<OnlineQuery>;
  const indexed = queries as { length?: unknown; get?: unknown };
  if (typeof indexed.length === "number" && typeof indexed.get === "function") {
    return queries as Rows<OnlineQuery>;
  }
  if (Symbol.iterator in Object(queries)) return Array.from(queries as Iterable<OnlineQuery>);
  throw new Error(
    `${name}: queries must be an array, a Dataset or an iterable of token rows, got ${queries}`,
  );
}

function queryIds(name: string, row: OnlineQuery, index: number): number[] {
  const ids = Array.isArray(row) ? row : (row as { inputIds?: unknown })?.inputIds;
  checkTokenRow(`${name}: query row ${index}`, ids);
  if (ids.length === 0) throw new Error(`${name}: query row ${index} is empty`);
  return [...ids];
}

function checkOptions<S, R>(
  o: OnlineLoopOptions<S, R>,
  rows: number,
  checkpointEvery: number,
): void {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) {
    throw new Error(`${o.name}: steps must be an integer >= 0, got ${o.steps}`);
  }
  if (!(Number.isInteger(checkpointEvery) && checkpointEvery >= 1)) {
    throw new Error(`${o.name}: checkpointEvery must be an integer >= 1, got ${checkpointEvery}`);
  }
  if (rows < o.batchSize) {
    throw new Error(
      `${o.name}: the query set has ${rows} rows but ${o.batchSizeName} is ${o.batchSize}; ` +
        `a step needs a full batch: add queries or lower ${o.batchSizeName.split(".").pop()}`,
    );
  }
  if (typeof o.generate !== "function" || typeof o.reward !== "function") {
    throw new Error(`${o.name}: generate and reward must be functions`);
  }
}

function checkDataOrder(
  name: string,
  saved: Record<string, number> | undefined,
  now: Record<string, number>,
) {
  if (!saved) return;
  const differing = Object.keys(now).filter((k) => saved[k] !== now[k]);
  if (differing.length > 0) {
    throw new Error(
      `${name}: cannot resume exactly: ${
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

function checkpointable(name: string, optimizer: unknown): CheckpointOptimizer {
  const o = optimizer as Partial<CheckpointOptimizer>;
  if (typeof o.stateDict !== "function" || typeof o.loadStateDict !== "function") {
    throw new Error(
      `${name}: checkpoints need an optimizer with stateDict/loadStateDict (core optim's ` +
        "Adam/AdamW, or the trainer's default); pass one, or omit outputDir",
    );
  }
  return o as CheckpointOptimizer;
}

/**
 * The trainable parameters of a model (those with `requiresGrad`), by position, as a checkpoint
 * holds them: the value head and LoRA adapters, or every weight of a fully trained policy;
 * frozen weights never change, so leaving them out keeps resume exact.
 *
 * @param model The policy.
 */
export function trainableParameters(model: { parameters(): Tensor[] }): CheckpointModel {
  return { parameters: () => model.parameters().filter((p) => p.requiresGrad) };
}
