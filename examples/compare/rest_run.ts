/**
 * ReST under a wall-clock budget: rounds of one Grow step (K samples per training prompt from
 * the current policy, scored by the reward model) and I Improve steps (trlX's rising percentile
 * thresholds, one SFT epoch each on what passes), full fine-tune.
 *
 * @module
 */

import { join } from "node:path";
import { ReST } from "../../algorithms/rest/mod.ts";
import type { Budget } from "./budget.ts";
import type { CompareSettings } from "./settings.ts";
import type { TinyTask } from "./task.ts";
import type { TrainedPolicy } from "./trained.ts";

/**
 * Train with ReST until the budget is spent (a round starts only when it should still fit).
 *
 * @param task Models, prompts, reward.
 * @param settings Comparison settings.
 * @param budget The wall-clock budget (not started yet).
 * @param seed Seed of sampling and data order.
 * @param outDir Folder for `metrics.jsonl` and the Grow sets (null: none).
 */
export async function runRest(
  task: TinyTask,
  settings: CompareSettings,
  budget: Budget,
  seed: number,
  outDir: string | null,
): Promise<TrainedPolicy> {
  const s = settings.rest;
  const model = await task.loadPolicy({ seed });
  try {
    const prompts = s.prompts === null ? task.trainPrompts : task.trainPrompts.slice(0, s.prompts);
    const rest = new ReST({
      improveSteps: s.improveSteps,
      samplesPerPrompt: s.samplesPerPrompt,
      includeDataset: false,
      generation: { maxNewTokens: settings.maxNewTokens },
      generationBatchSize: 128,
      sft: { learningRate: s.learningRate, batchSize: s.batchSize, numTrainEpochs: 1 },
      outputDir: outDir ? join(outDir, "rest") : null,
      saveCheckpoints: false,
      seed,
    }, {
      model,
      tokenizer: {
        encode: (text) => task.encodePrompt(text),
        decode: (ids) => task.tokenizer.decode(ids, { skipSpecialTokens: true }),
        eosTokenId: task.tokenizer.eosTokenId,
        padTokenId: task.tokenizer.padTokenId ?? task.tokenizer.eosTokenId,
      },
      reward: task.reward,
      prompts,
    });
    budget.start();
    let kept = 0, sftSteps = 0;
    while (budget.canStart()) {
      await rest.grow();
      for (let i = 0; i < s.improveSteps; i++) {
        const r = await rest.improve();
        kept += r.kept;
        sftSteps = r.sftSteps;
      }
      budget.unitDone();
    }
    model.eval();
    return {
      model,
      steps: budget.units,
      stepUnit: `Grow (${prompts.length} prompts × K=${s.samplesPerPrompt}) + ` +
        `${s.improveSteps} Improve`,
      trainSeconds: budget.elapsed,
      notes: [`${sftSteps} SFT steps on ${kept} kept samples in all`],
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
