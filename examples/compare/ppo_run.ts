/**
 * PPO under a wall-clock budget, through the PPO loop helper (`trainPPO`): batches of training
 * prompts → sampled responses → reward-model scores → `PPOTrainer.step`, full fine-tune with a
 * fresh value head, the untouched policy as the frozen reference.
 *
 * @module
 */

import { join } from "node:path";
import { Adam } from "../../core/optim/mod.ts";
import { PPOTrainer, trainPPO } from "../../algorithms/ppo/mod.ts";
import { scoreTexts } from "../../reward/mod.ts";
import type { Budget } from "./budget.ts";
import { sampleResponses } from "./held_out.ts";
import type { CompareSettings } from "./settings.ts";
import type { TinyTask } from "./task.ts";
import type { TrainedPolicy } from "./trained.ts";

/**
 * Train with PPO until the budget is spent (a step starts only when it should still fit).
 *
 * @param task Models, prompts, reward.
 * @param settings Comparison settings.
 * @param budget The wall-clock budget (not started yet).
 * @param seed Seed of weights, batch order and sampling.
 * @param outDir Folder for `metrics.jsonl` (null: none).
 * @param log Where PPO's warnings go.
 */
export async function runPpo(
  task: TinyTask,
  settings: CompareSettings,
  budget: Budget,
  seed: number,
  outDir: string | null,
  log: (line: string) => void,
): Promise<TrainedPolicy> {
  const s = settings.ppo;
  const model = await task.loadPolicy({ valueHead: true, seed });
  const pad = model.padTokenId ?? model.eosTokenId ?? 0;
  const notes: string[] = [];
  let negativeKl = 0;
  // TRL's optimizer, made here so that its moments can be freed after the run.
  const optimizer = new Adam(model.parameters(), { lr: s.learningRate });
  try {
    const trainer = new PPOTrainer({ ...s, seed }, {
      model,
      optimizer,
      refModel: task.reference,
      padTokenId: pad,
      warn: (m) => {
        if (/negative/i.test(m)) negativeKl++;
        else log(`ppo: ${m}`);
      },
    });
    budget.start();
    await trainPPO({
      trainer,
      queries: task.trainPrompts.map((p) => task.encodePrompt(p)),
      // The budget ends the run (shouldStop), so the step count is only a ceiling.
      steps: Number.MAX_SAFE_INTEGER,
      outputDir: outDir ? join(outDir, "ppo") : undefined,
      checkpointEvery: Number.MAX_SAFE_INTEGER,
      seed,
      log: false,
      progress: false,
      decode: (ids) => task.tokenizer.decode(ids, { skipSpecialTokens: true }),
      generate: (queries, { generator }) =>
        sampleResponses(model, queries, { maxNewTokens: settings.maxNewTokens }, generator),
      reward: (queries, responses) =>
        scoreTexts(task.reward, queries.map((q, i) => task.text(q, responses[i]))),
      shouldStop: ({ step }) => budget.exhausted(step),
    });
    if (negativeKl > 0) notes.push(`PPO warned of a negative KL estimate ${negativeKl} times`);
    return {
      model,
      steps: trainer.currentStep,
      stepUnit: `PPO step (${s.batchSize} rollouts, ${s.ppoEpochs} epochs)`,
      trainSeconds: budget.elapsed,
      notes,
    };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
}
