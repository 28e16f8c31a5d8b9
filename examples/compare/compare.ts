/**
 * The comparison as one function: load the tiny task, give PPO, GRPO, RLOO, DPO and ReST the same
 * wall-clock training budget each, run best-of-n at inference only, and measure every result
 * the same way on the held-out prompts (same prompts, same sampling seed): mean reward before and
 * after, KL of the tuned samples to the untouched policy, reward gain per training second, and
 * the sampling cost per prompt.
 *
 * @module
 */

import { Progress, type ProgressSink, stderrSink } from "../../common/progress.ts";
import { runBestOfN } from "./best_of_n_run.ts";
import { Budget } from "./budget.ts";
import { runDpo } from "./dpo_run.ts";
import { runGroup } from "./group_run.ts";
import { mean, sampleHeldOut, sequenceKl } from "./held_out.ts";
import { runPpo } from "./ppo_run.ts";
import { runRest } from "./rest_run.ts";
import {
  type AlgorithmName,
  ALGORITHMS,
  type CompareSettings,
  compareSettings,
} from "./settings.ts";
import { loadTinyTask, type LoadTinyTaskOptions, type TinyTask } from "./task.ts";
import type { TrainedPolicy } from "./trained.ts";

/** Options of {@link compareAlgorithms}. */
export interface CompareOptions {
  /** Training seconds each algorithm gets (best-of-n trains for 0). */
  budgetSeconds: number;
  /** Seed of weights, data order, sampling; the evaluation seed derives from it (default 0). */
  seed?: number;
  /** Backend of every model (default: the current one). */
  backend?: string;
  /** Folder for each trainer's `metrics.jsonl` (null: none; the table files are written by the caller). */
  out?: string | null;
  /** Settings (default {@link compareSettings}()). */
  settings?: CompareSettings;
  /** Which algorithms, in table order (default all six). */
  algorithms?: readonly AlgorithmName[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * A progress bar per training run: `true`, `false`, or a sink (default: on when standard
   * error is a terminal).
   */
  progress?: boolean | ProgressSink;
  /** Other model folders (tests). */
  task?: Pick<LoadTinyTaskOptions, "policyDir" | "rewardDir">;
}

/** One row of the table. */
export interface CompareRow {
  /** The algorithm. */
  algorithm: AlgorithmName;
  /** Units of training done within the budget (0 for best-of-n). */
  steps: number;
  /** What one unit is. */
  stepUnit: string;
  /** Training wall-clock seconds (0 for best-of-n). */
  trainSeconds: number;
  /** Mean held-out reward of the untouched policy's samples. */
  rewardBefore: number;
  /** Mean held-out reward after training (best-of-n: of its picks). */
  rewardAfter: number;
  /**
   * Mean over held-out samples of Σ_t log π(y_t) − log π_ref(y_t) on the tuned policy's samples
   * (nats); 0 for best-of-n, whose policy is untouched.
   */
  kl: number;
  /** (after − before) / training seconds; null for best-of-n (no training). */
  rewardGainPerSecond: number | null;
  /** Milliseconds to sample and score one held-out query row (n candidates for best-of-n). */
  inferenceMsPerPrompt: number;
  /** Anything a reader should know. */
  notes: string[];
}

/** What {@link compareAlgorithms} returns. */
export interface CompareResult {
  /** Training budget per algorithm, seconds. */
  budgetSeconds: number;
  /** Seed. */
  seed: number;
  /** Backend the models ran on. */
  backend: string;
  /** Settings used. */
  settings: CompareSettings;
  /** Held-out prompts and samples per prompt. */
  heldOut: { prompts: number; samplesPerPrompt: number };
  /** One row per algorithm. */
  rows: CompareRow[];
  /** Wall-clock seconds of the whole comparison. */
  seconds: number;
}

/**
 * Run the comparison.
 *
 * @param options Budget, seed, backend, settings.
 */
export async function compareAlgorithms(options: CompareOptions): Promise<CompareResult> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const settings = options.settings ?? compareSettings();
  const algorithms = options.algorithms ?? ALGORITHMS;
  const log = options.log ?? (() => {});
  const out = options.out ?? null;
  const progressSink = options.progress === true
    ? stderrSink
    : options.progress === false
    ? undefined
    : options.progress ?? (stderrSink.isTerminal() ? stderrSink : undefined);
  if (!(options.budgetSeconds > 0 && Number.isFinite(options.budgetSeconds))) {
    throw new Error(
      `compareAlgorithms: budgetSeconds must be a finite number > 0, got ${options.budgetSeconds}`,
    );
  }
  for (const a of algorithms) {
    if (!ALGORITHMS.includes(a)) {
      throw new Error(`compareAlgorithms: unknown algorithm '${a}'; use ${ALGORITHMS.join(", ")}`);
    }
  }
  const evalSeed = seed + 7919;
  const task = await loadTinyTask({
    ...options.task,
    backend: options.backend,
    seed,
    heldOutPrompts: settings.heldOutPrompts,
    preferencePairs: settings.preferencePairs,
  });
  try {
    const k = settings.evalSamplesPerPrompt;
    log(
      `tiny task: ${task.trainPrompts.length} training prompts, ${task.heldOutPrompts.length} ` +
        `held-out prompts × ${k} samples, ${task.pairs.length} preference pairs; ` +
        `${options.budgetSeconds} s of training per algorithm`,
    );
    const before = await sampleHeldOut(task.reference, task, settings, k, evalSeed);
    const rewardBefore = mean(before.rewards);
    log(`untouched policy: held-out reward ${rewardBefore.toFixed(3)}`);

    const rows: CompareRow[] = [];
    for (const algorithm of algorithms) {
      const row = algorithm === "best-of-n"
        ? await bestOfNRow(task, settings, evalSeed, rewardBefore)
        : await trainedRow(
          algorithm,
          await train(algorithm, task, settings, {
            seconds: options.budgetSeconds,
            seed,
            out,
            log,
            progressSink,
          }),
          task,
          settings,
          evalSeed,
          rewardBefore,
        );
      rows.push(row);
      const work = row.steps === 0
        ? row.stepUnit
        : `${row.steps} × ${row.stepUnit} in ${row.trainSeconds.toFixed(1)} s`;
      log(
        `${algorithm}: ${work}; held-out reward ${rewardBefore.toFixed(3)} → ` +
          `${row.rewardAfter.toFixed(3)}, KL ${row.kl.toFixed(3)}`,
      );
    }
    return {
      budgetSeconds: options.budgetSeconds,
      seed,
      backend: task.reference.backend,
      settings,
      heldOut: { prompts: task.heldOutPrompts.length, samplesPerPrompt: k },
      rows,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    task.dispose();
  }
}

async function train(
  algorithm: Exclude<AlgorithmName, "best-of-n">,
  task: TinyTask,
  settings: CompareSettings,
  run: {
    seconds: number;
    seed: number;
    out: string | null;
    log: (line: string) => void;
    progressSink: ProgressSink | undefined;
  },
): Promise<TrainedPolicy> {
  run.log(`${algorithm}: training for ${run.seconds} s`);
  const progress = run.progressSink
    ? new Progress({ label: algorithm, sink: run.progressSink })
    : null;
  const budget = new Budget(run.seconds, { progress });
  try {
    switch (algorithm) {
      case "PPO":
        return await runPpo(task, settings, budget, run.seed, run.out, run.log);
      case "GRPO":
      case "RLOO":
        return await runGroup(algorithm, task, settings, budget, run.seed, run.out);
      case "DPO":
        return await runDpo(task, settings, budget, run.seed, run.out);
      case "ReST":
        return await runRest(task, settings, budget, run.seed, run.out);
    }
  } finally {
    budget.finish();
  }
}

async function trainedRow(
  algorithm: AlgorithmName,
  run: TrainedPolicy,
  task: TinyTask,
  settings: CompareSettings,
  evalSeed: number,
  rewardBefore: number,
): Promise<CompareRow> {
  try {
    const t0 = performance.now();
    const after = await sampleHeldOut(
      run.model,
      task,
      settings,
      settings.evalSamplesPerPrompt,
      evalSeed,
    );
    const ms = (performance.now() - t0) / after.queries.length;
    const kl = await sequenceKl(run.model, task.reference, after.queries, after.responses);
    const rewardAfter = mean(after.rewards);
    return {
      algorithm,
      steps: run.steps,
      stepUnit: run.stepUnit,
      trainSeconds: run.trainSeconds,
      rewardBefore,
      rewardAfter,
      kl: mean(kl),
      rewardGainPerSecond: (rewardAfter - rewardBefore) / run.trainSeconds,
      inferenceMsPerPrompt: ms,
      notes: run.notes,
    };
  } finally {
    run.model.dispose();
  }
}

async function bestOfNRow(
  task: TinyTask,
  settings: CompareSettings,
  evalSeed: number,
  rewardBefore: number,
): Promise<CompareRow> {
  const n = settings.bestOfN.n;
  const picks = await runBestOfN(task, settings, evalSeed);
  // The policy is the reference itself: measured, this is exactly 0.
  const kl = await sequenceKl(task.reference, task.reference, picks.queries, picks.responses);
  return {
    algorithm: "best-of-n",
    steps: 0,
    stepUnit: `no training; n=${n} candidates per prompt`,
    trainSeconds: 0,
    rewardBefore,
    rewardAfter: mean(picks.rewards),
    kl: mean(kl),
    rewardGainPerSecond: null,
    inferenceMsPerPrompt: (picks.seconds * 1000) / picks.queries.length,
    notes: [
      `the policy is untouched (KL 0); the best-of-${n} distribution itself is at most ` +
      `log n − (n−1)/n = ${(Math.log(n) - (n - 1) / n).toFixed(2)} nats from it`,
    ],
  };
}
