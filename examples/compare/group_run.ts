/**
 * GRPO and RLOO under a wall-clock budget: rounds of training prompts × `numGenerations`
 * sampled completions, scored by the reward model, each compared with the others of its prompt;
 * full fine-tune, the trainer's frozen copy of the untouched policy as the reference of the KL
 * term.
 *
 * @module
 */

import { join } from "node:path";
import { GRPOTrainer } from "../../algorithms/grpo/mod.ts";
import { RLOOTrainer } from "../../algorithms/rloo/mod.ts";
import type { Budget } from "./budget.ts";
import type { CompareSettings } from "./settings.ts";
import type { TinyTask } from "./task.ts";
import type { TrainedPolicy } from "./trained.ts";

/**
 * Train with GRPO or RLOO until the budget is spent (a round starts only when it should still
 * fit).
 *
 * @param algorithm Which.
 * @param task Models, prompts, reward.
 * @param settings Comparison settings.
 * @param budget The wall-clock budget (not started yet).
 * @param seed Seed of weights, prompt order and sampling.
 * @param outDir Folder for `metrics.jsonl` (null: none).
 */
export async function runGroup(
  algorithm: "GRPO" | "RLOO",
  task: TinyTask,
  settings: CompareSettings,
  budget: Budget,
  seed: number,
  outDir: string | null,
): Promise<TrainedPolicy> {
  const s = algorithm === "GRPO" ? settings.grpo : settings.rloo;
  const model = await task.loadPolicy({ seed });
  const Trainer = algorithm === "GRPO" ? GRPOTrainer : RLOOTrainer;
  const trainer = new Trainer({
    learningRate: s.learningRate,
    batchSize: s.batchSize,
    numGenerations: s.numGenerations,
    beta: s.beta,
    maxCompletionLength: settings.maxNewTokens,
    // The budget ends the run; a constant rate keeps every round as the first ones.
    maxSteps: Number.MAX_SAFE_INTEGER,
    lrSchedulerType: "constant",
    saveSteps: Number.MAX_SAFE_INTEGER,
    outputDir: outDir ? join(outDir, algorithm.toLowerCase()) : null,
    seed,
  }, {
    model,
    tokenizer: task.tokenizer,
    rewardFuncs: { name: "reward_model", fn: task.reward },
    trainDataset: task.trainPrompts.map((p) => task.encodePrompt(p)),
  });
  try {
    budget.start();
    await trainer.train({
      log: false,
      progress: false,
      shouldStop: ({ step }) => budget.exhausted(step),
    });
    model.eval();
    return {
      model,
      steps: trainer.currentStep,
      stepUnit: `${algorithm} round (${trainer.sizes.promptsPerStep} prompts × ` +
        `${s.numGenerations})`,
      trainSeconds: budget.elapsed,
      notes: [
        `β ${s.beta} (the KL ${
          algorithm === "GRPO" ? "term of the loss" : "penalty of the reward"
        })`,
      ],
    };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    trainer.dispose();
  }
}
