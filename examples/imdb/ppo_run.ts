/**
 * The IMDB PPO tutorial as one function: reward model check, policy with LoRA, queries, the PPO
 * loop, the side-by-side table on held-out prompts, and the saved adapter. The script
 * `examples/imdb_ppo.ts`, the demo and the pipeline test all run it.
 *
 * @module
 */

import { join } from "node:path";
import { PPOTrainer, trainPPO } from "../../algorithms/ppo/mod.ts";
import { saveLora } from "../../models/mod.ts";
import { type ReportTarget, writeRunConfig } from "../../report/run_files.ts";
import { scoreTexts } from "../../reward/mod.ts";
import { type SideBySideSummary, writeSideBySide } from "../common/side_by_side.ts";
import { compareOnHeldOut, type HeldOutComparison } from "./compare.ts";
import { type ImdbPolicy, type ImdbReward, loadImdbPolicy, loadImdbReward } from "./models.ts";
import type { ImdbPreset } from "./presets.ts";
import { imdbQueries } from "./queries.ts";
import { rewardAccuracyLine, rewardModelAccuracy } from "./reward_check.ts";
import { drawLength, sampleResponses, sampleText } from "./sampling.ts";

/** Weights the optimizer updates (the adapters and the value head, or everything). */
function trainableWeights(model: { parameters(): { requiresGrad: boolean; size: number }[] }) {
  return model.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
}

/** Options of {@link runImdbPpo}. */
export interface RunImdbPpoOptions {
  /** The preset (possibly with overrides). */
  preset: ImdbPreset;
  /** Run folder: metrics.jsonl, checkpoint/, side_by_side.md, adapter/. */
  out: string;
  /** Continue from `out/checkpoint`. */
  resume?: boolean;
  /** Seed of queries, sampling, batch order and fresh weights. */
  seed?: number;
  /** Backend of the weights (default: the current one). */
  backend?: string;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Per-step stats lines (default: on, to standard error). */
  stepLog?: ((line: string) => void) | false;
  /** A progress bar (default: on a terminal). */
  progress?: boolean;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /**
   * The reward model's accuracy when a caller already measured it (the demo's first stage);
   * omitted, it is measured and printed here.
   */
  rewardAccuracy?: { train: number; test: number };
}

/** What a run reached. */
export interface ImdbPpoResult {
  /** Reward model pair accuracy before training. */
  rewardAccuracy: { train: number; test: number };
  /** The `metrics.jsonl` line of each step this call ran. */
  history: Record<string, number>[];
  /** Steps completed (including those before a resume). */
  steps: number;
  /** Held-out comparison of original and tuned samples. */
  heldOut: HeldOutComparison;
  /** Its summary as the side-by-side table states it. */
  table: SideBySideSummary & { path: string };
  /** Where the adapter (PEFT layout) or the full model was saved. */
  savedTo: string;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Run the tutorial's PPO stage end to end.
 *
 * @param o Preset, run folder, seed, backend, logging.
 */
export async function runImdbPpo(o: RunImdbPpoOptions): Promise<ImdbPpoResult> {
  const started = performance.now();
  const { preset } = o;
  const seed = o.seed ?? 0;
  const log = o.log ?? ((line: string) => console.log(line));
  // The policy first: offline without a cached checkpoint, this is where the run stops.
  let policy: ImdbPolicy | null = null;
  let reward: ImdbReward | null = null;
  try {
    policy = await loadImdbPolicy(preset, { backend: o.backend, seed });
    reward = await loadImdbReward(preset, { backend: o.backend });
    let rewardAccuracy = o.rewardAccuracy;
    if (!rewardAccuracy) {
      rewardAccuracy = await rewardModelAccuracy(preset, reward);
      log(rewardAccuracyLine(preset, rewardAccuracy));
    }
    const queries = await imdbQueries(preset, policy.tokenizer, seed);
    log(
      `policy ${preset.policy}: ${
        policy.lora
          ? `LoRA r=${preset.lora!.r} alpha=${
            preset.lora!.alpha
          } on ${policy.lora.targets.length} modules`
          : "full fine-tune"
      }, ${trainableWeights(policy.model)} trainable weights; ` +
        `${queries.train.length} training queries, ${queries.heldOut.length} held-out prompts`,
    );

    const trainer = new PPOTrainer({ ...preset.ppo, seed }, {
      model: policy.model,
      adapters: policy.lora ?? undefined,
      padTokenId: policy.model.padTokenId ?? undefined,
    });
    const p = policy, r = reward;
    await writeRunConfig(o.out, { preset });
    const loop = await trainPPO({
      trainer,
      queries: queries.train,
      steps: preset.steps,
      outputDir: o.out,
      checkpointEvery: preset.checkpointEvery,
      resume: o.resume,
      seed,
      generators: { lora: p.loraGenerator },
      log: o.stepLog,
      progress: o.progress,
      reportTo: o.reportTo,
      decode: (ids) => p.tokenizer.decode(ids, { skipSpecialTokens: true }),
      generate: (qs, ctx) => {
        const maxNew = drawLength(preset.sampling.responseLength, ctx.generator);
        return sampleResponses(p.model, qs, preset.sampling, maxNew, ctx.generator);
      },
      reward: (qs, rs) => scoreTexts(r.score, qs.map((q, i) => sampleText(p.tokenizer, q, rs[i]))),
    });
    if (loop.resumedFrom !== null) log(`resumed from the step-${loop.resumedFrom} checkpoint`);

    const heldOut = await compareOnHeldOut(
      policy,
      trainer.reference,
      reward.score,
      queries.heldOut.map((q) => q.inputIds),
      preset.sampling,
      seed + 7,
    );
    const table = await writeSideBySide(o.out, heldOut.rows, undefined, log);
    log(`mean KL of the tuned samples to the original model: ${heldOut.meanKl.toFixed(3)} nats`);
    const savedTo = join(o.out, policy.lora ? "adapter" : "model");
    if (policy.lora) await saveLora(policy.lora, savedTo, preset.policy);
    else await policy.model.save(savedTo);
    log(`saved the ${policy.lora ? "LoRA adapter (PEFT layout)" : "tuned model"} to ${savedTo}`);
    return {
      rewardAccuracy,
      history: loop.history,
      steps: loop.steps,
      heldOut,
      table,
      savedTo,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    policy?.dispose();
    reward?.model.dispose();
  }
}
