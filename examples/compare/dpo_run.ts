/**
 * DPO under a wall-clock budget on the SYNTHETIC preference pairs of the training prompts
 * (chosen = a positive continuation, rejected = a negative one), full fine-tune, the untouched
 * policy as the frozen reference.
 *
 * @module
 */

import { join } from "node:path";
import { DPOTrainer } from "../../algorithms/dpo/mod.ts";
import type { Budget } from "./budget.ts";
import type { CompareSettings } from "./settings.ts";
import type { TinyTask } from "./task.ts";
import type { TrainedPolicy } from "./trained.ts";

/**
 * Train with DPO until the budget is spent.
 *
 * @param task Models, pairs.
 * @param settings Comparison settings.
 * @param budget The wall-clock budget (not started yet).
 * @param seed Seed of the data order.
 * @param outDir Folder for `metrics.jsonl` (null: none).
 */
export async function runDpo(
  task: TinyTask,
  settings: CompareSettings,
  budget: Budget,
  seed: number,
  outDir: string | null,
): Promise<TrainedPolicy> {
  const s = settings.dpo;
  const model = await task.loadPolicy({ seed });
  try {
    const trainer = new DPOTrainer({
      beta: s.beta,
      learningRate: s.learningRate,
      batchSize: s.batchSize,
      // The budget ends the run; a constant rate keeps every step as the first ones.
      maxSteps: Number.MAX_SAFE_INTEGER,
      lrSchedulerType: "constant",
      loggingSteps: 10,
      outputDir: outDir ? join(outDir, "dpo") : null,
      seed,
    }, {
      model,
      refModel: task.reference,
      trainDataset: task.pairs,
      padTokenId: model.padTokenId ?? model.eosTokenId ?? 0,
    });
    budget.start();
    try {
      await trainer.train({ shouldStop: ({ step }) => budget.exhausted(step) });
    } finally {
      trainer.optimizer.dispose();
    }
    model.eval();
    return {
      model,
      steps: trainer.globalStep,
      stepUnit: `optimizer step (${s.batchSize} pairs)`,
      trainSeconds: budget.elapsed,
      notes: [`${task.pairs.length} SYNTHETIC preference pairs`],
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
