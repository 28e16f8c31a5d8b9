/**
 * The loop the supervised trainers share (reward, SFT, DPO): seeded micro-batches, gradient
 * accumulation, clipping, AdamW (or RMSprop) with a schedule, one readback per step,
 * metrics.jsonl, periodic evaluation and checkpoints, exact resume and the non-finite loss
 * guard. A trainer supplies the loss of a micro-batch and its evaluation.
 *
 * @module
 */

import { join } from "node:path";
import {
  concat,
  keep,
  mul,
  noGrad,
  optim,
  reshape,
  stack,
  type Tensor,
  tidy,
} from "../../core/mod.ts";
import type { Hyperparams, Optimizer } from "../../core/optim/mod.ts";
import {
  type LrSchedulerType,
  type OptimizerName,
  resolveTrainingArgs,
  type TrainingArgs,
  type TrainingArgsInput,
} from "./args.ts";
import { MicroBatchOrder, rowAt, type Rows } from "./batching.ts";
import {
  type CheckpointModel,
  type CheckpointScheduler,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { RunWriter } from "../../report/run_files.ts";
import { acquireRunLock } from "./run_dir.ts";
import { assertFiniteLoss } from "./nonfinite.ts";
import { Progress, type ProgressSink, progressSink } from "../../common/progress.ts";
import { dataMetrics, type DataReport, logDataReports } from "./text_rows.ts";

/** A model a trainer can train: parameters, optional train/eval modes, optional state dict. */
export interface TrainableModel extends CheckpointModel {
  /** Training mode (dropout on). */
  train?(): unknown;
  /** Evaluation mode (dropout off). */
  eval?(): unknown;
  /** Switches gradient checkpointing of the model's blocks (core `nn.Module`). */
  gradientCheckpointingEnable?(on?: boolean): unknown;
}

/** A causal language model as the SFT and DPO trainers drive it. */
export interface CausalLM extends TrainableModel {
  /** Next-token `logits` [B, L, V] of right-padded `inputIds` [B, L] under `attentionMask`. */
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor };
}

/** A learning-rate scheduler the loop steps once per optimizer step. */
export interface TrainerScheduler extends CheckpointScheduler {
  /** Advance one step. */
  step(): void;
}

/** Optimizer, scheduler and output hooks shared by the trainers' constructors. */
export interface TrainerParts {
  /** Defaults to AdamW over the model's parameters with the args' lr, betas, eps, decay. */
  optimizer?: Optimizer<Hyperparams>;
  /** Defaults to the args' `lrSchedulerType` with `warmupSteps` over the run's steps. */
  scheduler?: TrainerScheduler;
  /** Where the progress line goes (default: standard error, when `args.progress`). */
  progressSink?: ProgressSink;
}

/** What `train()` returns. */
export interface TrainOutput {
  /** Optimizer steps completed (including those before a resume). */
  globalStep: number;
  /** Mean training loss over the steps this call ran. */
  trainingLoss: number;
  /** Metrics of the last step, under `train/` names. */
  lastStats: Record<string, number>;
  /** Whether `shouldStop` ended the run before `totalSteps`. */
  stoppedEarly: boolean;
}

/** Options of `train()`. */
export interface TrainCallOptions {
  /** Checkpoint folder to resume from (restores weights, optimizer, scheduler and step). */
  resumeFrom?: string;
  /**
   * Asked before each optimizer step; `true` ends the run there, as if `totalSteps` had been
   * reached: the partial logging window is written, a checkpoint of the last completed step is
   * saved when `saveSteps` is set (so `resumeFrom` continues from it), and the output has
   * `stoppedEarly: true`. The schedule keeps its `totalSteps` length, so a resumed run follows
   * the same learning rates as an uninterrupted one. Use it for a wall-clock budget or an
   * external stop signal.
   *
   * @param state `step`: optimizer steps completed (those before a resume included);
   *   `elapsedSeconds`: seconds since this `train()` call began (resume and `beforeTrain`
   *   included).
   */
  shouldStop?: (state: { step: number; elapsedSeconds: number }) => boolean;
}

/** The loss of one micro-batch (with grad) and metrics under TRL names (constants). */
export interface MicroBatchResult {
  /** Scalar loss to backpropagate. */
  loss: Tensor;
  /** Scalar metrics, e.g. `rewards/chosen`; logged as `train/<name>`. */
  stats: Record<string, Tensor>;
}

/**
 * Base of the supervised trainers; see the module notes. `Batch` is what `computeLoss` takes:
 * the micro-batch's rows as they are (the default), or what the async `prepareBatch` hook made
 * of them before the loss (samples generated, scored or looked up inside the step).
 */
export abstract class TrainerBase<
  Example,
  Model extends TrainableModel = TrainableModel,
  Batch = Example[],
> {
  /** Validated settings. */
  readonly args: TrainingArgs;
  /** The model being trained. */
  readonly model: Model;
  /** The optimizer. */
  readonly optimizer: Optimizer<Hyperparams>;
  /** The learning-rate scheduler. */
  readonly scheduler: TrainerScheduler;
  /** Optimizer steps completed. */
  globalStep = 0;
  /** Training rows. */
  protected readonly trainRows: Rows<Example>;
  /** Evaluation rows used by `evalSteps`, if any. */
  protected readonly evalRows: Rows<Example> | undefined;
  readonly #name: string;
  readonly #order: MicroBatchOrder;
  readonly #progressSink: ProgressSink | undefined;
  #lastStats: Record<string, number> = {};
  #dataReports: readonly DataReport[] = [];

  /**
   * Validate the settings and set up the optimizer and schedule.
   *
   * @param name Trainer name for messages and the progress line.
   * @param model The model.
   * @param args Settings (validated here).
   * @param trainRows Training rows.
   * @param evalRows Evaluation rows.
   * @param parts Optimizer, scheduler, progress sink.
   * @param defaults Trainer-specific defaults of the settings.
   */
  protected constructor(
    name: string,
    model: Model,
    args: TrainingArgsInput,
    trainRows: Rows<Example>,
    evalRows: Rows<Example> | undefined,
    parts: TrainerParts,
    defaults: Partial<TrainingArgs> = {},
  ) {
    this.#name = name;
    this.args = resolveTrainingArgs(name, args, defaults);
    this.model = model;
    if (this.args.gradientCheckpointing) {
      if (!model.gradientCheckpointingEnable) {
        throw new Error(
          `${name}: gradientCheckpointing (gradient_checkpointing) is true, but the model has no ` +
            `gradientCheckpointingEnable(); pass an nn.Module model, or set it to false`,
        );
      }
      model.gradientCheckpointingEnable(true);
    }
    if (trainRows.length === 0) throw new Error(`${name}: the training set is empty`);
    this.trainRows = trainRows;
    this.evalRows = evalRows;
    this.#order = new MicroBatchOrder(trainRows.length, this.args.batchSize, this.args.seed);
    this.optimizer = parts.optimizer ?? defaultOptimizer(model, this.args);
    this.scheduler = parts.scheduler ??
      makeScheduler(
        this.optimizer,
        this.args.lrSchedulerType,
        this.args.warmupSteps,
        this.totalSteps,
      );
    this.#progressSink = parts.progressSink;
  }

  /**
   * What became of each dataset's rows (kept, truncated, dropped, and why); the counts are
   * logged as `data/train_rows`, `data/train_truncated`, `data/train_dropped` (and `data/eval_...`)
   * with the first metrics line of a fresh run.
   */
  get dataReports(): readonly DataReport[] {
    return this.#dataReports;
  }

  /**
   * Keeps the datasets' counts, and writes a line for each that truncated or dropped rows.
   *
   * @param reports One per dataset.
   */
  protected recordData(reports: readonly DataReport[]): void {
    this.#dataReports = reports;
    logDataReports(this.#name, reports, this.#progressSink ?? progressSink());
  }

  /** Optimizer steps a full `train()` runs: `maxSteps`, else epochs × steps per epoch. */
  get totalSteps(): number {
    if (this.args.maxSteps !== null) return this.args.maxSteps;
    const perEpoch = Math.max(
      1,
      Math.floor(this.#order.batchesPerEpoch / this.args.gradientAccumulationSteps),
    );
    return Math.ceil(this.args.numTrainEpochs * perEpoch);
  }

  /**
   * Runs before each micro-batch's loss, outside the loss's scope and with awaits allowed: a
   * trainer can generate, score or fetch here what its loss needs (the default hands the rows
   * on as they are). The step's optimizer update waits for it; a resumed run calls it with the
   * same rows and `step`, so seeding from `step` keeps resume exact.
   *
   * @param batch The micro-batch's rows.
   * @param indices Their indices in the training set.
   * @param step The optimizer step being taken (1-based).
   */
  protected prepareBatch(batch: Example[], indices: number[], step: number): Promise<Batch> {
    void indices, step;
    return Promise.resolve(batch as unknown as Batch);
  }

  /** The loss and metrics of one micro-batch (called inside a scope, with grads on). */
  protected abstract computeLoss(batch: Batch, indices: number[]): MicroBatchResult;

  /**
   * Metrics of the model on the eval set under TRL names (logged as `eval/<name>`). Trainers
   * take an optional set of their own examples as well.
   */
  abstract evaluate(): Promise<Record<string, number>>;

  /** Whether `evalSteps` evaluates: there is an eval set (trainers may have other evaluations). */
  protected hasEvaluation(): boolean {
    return this.evalRows !== undefined;
  }

  /**
   * The metrics.jsonl names of `evaluate()`'s result: `eval/<name>` (trainers may keep names
   * that already carry the Hugging Face Trainer's `eval_` prefix).
   */
  protected evalLogRecord(metrics: Record<string, number>): Record<string, number> {
    return prefixed("eval/", metrics);
  }

  /** Runs once before the first step of `train()` (after a resume has been applied). */
  protected beforeTrain(): Promise<void> {
    return Promise.resolve();
  }

  /** Trainer state saved with checkpoints (JSON). */
  protected trainerState(): Record<string, unknown> {
    return {};
  }

  /** Restores what `trainerState` saved. */
  protected loadTrainerState(_state: Record<string, unknown>): void {}

  /**
   * Train until `totalSteps` (or until `options.shouldStop` says so), writing metrics and
   * checkpoints as the args say. With `saveSteps` set, the last step of the call is also
   * checkpointed, so a run that ended or was stopped can be resumed and extended.
   *
   * @param options Resume from a checkpoint; stop early.
   */
  async train(options: TrainCallOptions = {}): Promise<TrainOutput> {
    const started = performance.now();
    const a = this.args;
    // One writer per output folder: a second process training into it is refused at once.
    await using _lock = a.outputDir ? await acquireRunLock(a.outputDir, this.#name) : null;
    if (options.resumeFrom) await this.loadCheckpoint(options.resumeFrom);
    await this.beforeTrain();
    const total = this.totalSteps;
    const writer = a.outputDir
      ? await RunWriter.open(a.outputDir, {
        resumeStep: options.resumeFrom ? this.globalStep : undefined,
        reportTo: a.reportTo,
        config: { [this.#name]: a },
      })
      : null;
    // A fresh run's first metrics line also carries the datasets' counts.
    let pending = this.globalStep === 0 ? dataMetrics(this.#dataReports) : {};
    const progress = a.progress || this.#progressSink
      ? new Progress({
        label: this.#name,
        total,
        start: this.globalStep,
        every: a.loggingSteps,
        sink: this.#progressSink,
      })
      : null;
    const window = new Map<string, number>();
    let windowSteps = 0, lossSum = 0, stepsRun = 0, stoppedEarly = false, savedAt = -1;
    const logWindow = async (step: number, last: Record<string, number>) => {
      const averaged: Record<string, number> = {};
      for (const [k, v] of window) averaged[k] = v / windowSteps;
      // Point-in-time values, not averages.
      averaged["train/learning_rate"] = last["train/learning_rate"];
      averaged["train/epoch"] = last["train/epoch"];
      await writer?.write(step, { ...averaged, ...pending });
      pending = {};
      window.clear();
      windowSteps = 0;
    };
    try {
      while (this.globalStep < total) {
        const elapsedSeconds = (performance.now() - started) / 1000;
        if (options.shouldStop?.({ step: this.globalStep, elapsedSeconds }) === true) {
          stoppedEarly = true;
          break;
        }
        const stats = await this.#step();
        this.#lastStats = stats;
        stepsRun++;
        lossSum += stats["train/loss"];
        for (const [k, v] of Object.entries(stats)) window.set(k, (window.get(k) ?? 0) + v);
        windowSteps++;
        const step = this.globalStep;
        if (step % a.loggingSteps === 0 || step === total || (a.loggingFirstStep && step === 1)) {
          await logWindow(step, stats);
        }
        if (a.evalSteps !== null && step % a.evalSteps === 0 && this.hasEvaluation()) {
          const evalStats = this.evalLogRecord(await this.evaluate());
          await writer?.write(step, evalStats);
        }
        if (a.saveSteps !== null && step % a.saveSteps === 0) {
          await this.saveCheckpoint();
          savedAt = step;
        }
        progress?.update(step, { "train/loss": stats["train/loss"] });
      }
      // Stopped between logging steps: the steps since the last line are logged at this one.
      if (windowSteps > 0) await logWindow(this.globalStep, this.#lastStats);
      if (a.saveSteps !== null && stepsRun > 0 && savedAt !== this.globalStep) {
        await this.saveCheckpoint();
      }
    } finally {
      progress?.finish();
      writer?.close();
    }
    return {
      globalStep: this.globalStep,
      trainingLoss: stepsRun > 0 ? lossSum / stepsRun : NaN,
      lastStats: { ...this.#lastStats },
      stoppedEarly,
    };
  }

  /**
   * Save model, optimizer, scheduler, step and trainer state (atomically).
   *
   * @param dir Folder (default `<outputDir>/checkpoint`).
   */
  async saveCheckpoint(dir?: string): Promise<string> {
    const target = dir ?? this.#defaultCheckpointDir();
    await saveCheckpoint(target, {
      model: this.model,
      optimizer: this.optimizer,
      scheduler: this.scheduler,
      step: this.globalStep,
      extra: {
        trainer: this.#name,
        dataOrder: this.#dataOrder(),
        state: this.trainerState(),
      },
    });
    return target;
  }

  /**
   * Restore a checkpoint written by `saveCheckpoint` into this trainer's objects.
   *
   * @param dir Checkpoint folder.
   */
  async loadCheckpoint(dir: string): Promise<void> {
    const loaded = await loadCheckpoint(dir, {
      model: this.model,
      optimizer: this.optimizer,
      scheduler: this.scheduler,
    });
    const saved = loaded.extra.dataOrder as Record<string, number> | undefined;
    const now = this.#dataOrder();
    if (saved) {
      const differing = Object.keys(now).filter((k) => saved[k] !== now[k as keyof typeof now]);
      if (differing.length > 0) {
        throw new Error(
          `${this.#name}: cannot resume exactly from ${loaded.dir}: ${
            differing.map((k) => `${k} was ${saved[k]}, now ${now[k as keyof typeof now]}`)
              .join("; ")
          } (the data order depends on them); use the saved values or start a fresh run`,
        );
      }
    }
    this.globalStep = loaded.step;
    this.loadTrainerState((loaded.extra.state ?? {}) as Record<string, unknown>);
  }

  #defaultCheckpointDir(): string {
    if (!this.args.outputDir) {
      throw new Error(`${this.#name}: saveCheckpoint needs a folder, or args.outputDir`);
    }
    return join(this.args.outputDir, "checkpoint");
  }

  #dataOrder() {
    return {
      seed: this.args.seed,
      batchSize: this.args.batchSize,
      gradientAccumulationSteps: this.args.gradientAccumulationSteps,
      trainRows: this.trainRows.length,
    };
  }

  async #step(): Promise<Record<string, number>> {
    const a = this.args;
    const accum = a.gradientAccumulationSteps;
    const step = this.globalStep + 1;
    const lr = Number(this.optimizer.paramGroups[0].lr);
    this.model.train?.();
    let keys: string[] | null = null;
    const rows: Tensor[] = [];
    let gradNorm: Tensor | null = null;
    try {
      for (let k = 0; k < accum; k++) {
        const indices = this.#order.indices(this.globalStep * accum + k);
        const batch = await this.prepareBatch(
          indices.map((i) => rowAt(this.trainRows, i)),
          indices,
          step,
        );
        // The hook may have sampled in eval mode.
        this.model.train?.();
        rows.push(keep(tidy(() => {
          const { loss, stats } = this.computeLoss(batch, indices);
          // CPU backends read the loss here; others are checked after the step's readback.
          if (loss.backend.readSync) {
            assertFiniteLoss(this.#name, step, loss.itemSync(), this.#lastStats);
          }
          (accum > 1 ? mul(loss, 1 / accum) : loss).backward();
          keys ??= Object.keys(stats);
          return noGrad(() =>
            stack([reshape(loss, []), ...keys!.map((key) => reshape(stats[key], []))])
          );
        })));
      }
      const params = this.optimizer.params();
      if (a.maxGradNorm !== null) gradNorm = keep(optim.clipGradNorm(params, a.maxGradNorm));
      this.optimizer.step();
      this.scheduler.step();
    } catch (error) {
      for (const r of rows) r.dispose();
      gradNorm?.dispose();
      throw error;
    } finally {
      this.optimizer.zeroGrad();
    }
    const packed = tidy(() => concat([...rows, ...(gradNorm ? [reshape(gradNorm, [1])] : [])]));
    const values = await packed.toArray();
    packed.dispose();
    gradNorm?.dispose();
    for (const r of rows) r.dispose();
    const width = 1 + keys!.length;
    const mean = (j: number) => {
      let s = 0;
      for (let k = 0; k < accum; k++) s += values[k * width + j];
      return s / accum;
    };
    const loss = mean(0);
    assertFiniteLoss(this.#name, step, loss, this.#lastStats, true);
    this.globalStep = step;
    const stats: Record<string, number> = { "train/loss": loss };
    keys!.forEach((key, j) => (stats[`train/${key}`] = mean(j + 1)));
    if (gradNorm) stats["train/grad_norm"] = values[accum * width];
    stats["train/learning_rate"] = lr;
    stats["train/epoch"] = (step * accum) / this.#order.batchesPerEpoch;
    return stats;
  }
}

/**
 * `name` → `prefix + name` for every metric.
 *
 * @param prefix E.g. `eval/`.
 * @param metrics Metrics by name.
 */
export function prefixed(prefix: string, metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [prefix + k, v]));
}

/**
 * The optimizer transformers' Trainer builds for `a.optim` (default `adamw_torch`) over the
 * trainable parameters, with no weight decay on biases and normalisation weights: AdamW with
 * the args' lr, betas, eps and decay, or (`rmsprop`) torch's RMSprop given only the lr and each
 * group's decay, its other settings at torch's defaults.
 *
 * @param model The model (its `requiresGrad` parameters are optimized).
 * @param a Optimizer name, learning rate, betas, eps, weight decay.
 */
export function defaultOptimizer(
  model: { parameters(): Tensor[] },
  a:
    & Pick<TrainingArgs, "learningRate" | "adamBetas" | "adamEpsilon" | "weightDecay">
    & { optim?: OptimizerName },
): Optimizer<Hyperparams> {
  const params = model.parameters().filter((p) => p.requiresGrad);
  // As transformers: no decay on biases and normalisation weights (the rank-1 tensors).
  const decay = params.filter((p) => p.rank >= 2), rest = params.filter((p) => p.rank < 2);
  const groups = a.weightDecay === 0
    ? [{ params }]
    : [{ params: decay }, { params: rest, weightDecay: 0 }].filter((g) => g.params.length > 0);
  if (a.optim === "rmsprop") {
    return new optim.RMSprop(groups, {
      lr: a.learningRate,
      weightDecay: a.weightDecay,
    }) as unknown as Optimizer<Hyperparams>;
  }
  const opts = {
    lr: a.learningRate,
    betas: a.adamBetas,
    eps: a.adamEpsilon,
    weightDecay: a.weightDecay,
  };
  return new optim.AdamW(groups, opts) as Optimizer<Hyperparams>;
}

/**
 * transformers' schedule `type` as a `LambdaLR` over `totalSteps`.
 *
 * @param optimizer The optimizer whose groups' lr it sets.
 * @param type Schedule name.
 * @param warmupSteps Linear warmup steps.
 * @param totalSteps Steps of the run.
 */
export function makeScheduler(
  optimizer: Optimizer<Hyperparams>,
  type: LrSchedulerType,
  warmupSteps: number,
  totalSteps: number,
): optim.LambdaLR {
  const l = optim.lrLambdas;
  const lambda = type === "linear"
    ? l.linearWithWarmup(warmupSteps, totalSteps)
    : type === "cosine"
    ? l.cosineWithWarmup(warmupSteps, totalSteps)
    : type === "constant_with_warmup"
    ? l.constantWithWarmup(warmupSteps)
    : l.constant();
  return new optim.LambdaLR(optimizer, lambda);
}
