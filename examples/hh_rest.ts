/**
 * ReST (Reinforced Self-Training, Gulcehre et al. 2023) on hh-rlhf prompts: a Grow step samples
 * K replies per prompt from GPT-2 and scores them with the reward; each Improve step keeps the
 * samples above a rising threshold and fine-tunes on them. Prints the held-out mean reward before
 * and after each Improve step, writes `metrics.jsonl` (ReST's `rest/*` names), the Grow set,
 * checkpoints, the tuned model and a side-by-side table of samples before and after.
 *
 *   deno run -A examples/hh_rest.ts                 # full: gpt2 + Anthropic/hh-rlhf from the Hub
 *   deno run -A examples/hh_rest.ts --preset tiny   # offline: tiny GPT-2 + tiny reward model
 *
 * Flags: --preset full|tiny, --backend, --out (default runs/hh_rest-<preset>), --resume, --seed,
 * --samples-per-prompt (K), --improve-steps (I), --thresholds (comma-separated rising fixed
 * thresholds, one per Improve step; default: ReST's rising percentiles), --grow-prompts,
 * --learning-rate, --batch-size, --epochs (SFT passes per Improve step), --train-examples,
 * --test-examples, --samples (held-out prompts), --reward-model (folder or Hub id of a 1-label
 * classifier; the full preset scores with the model `hh_reward_model.ts` saves), --lora-r.
 *
 * Grow sets hold the policy's own samples only (ReST's `includeDataset` is off): the reward
 * decides what is learned, not the dataset's replies.
 *
 * @module
 */

import { join } from "node:path";
import { type ImproveResult, ReST, type ReSTTokenizer } from "../algorithms/rest/mod.ts";
import { intFlag, numberFlag, runAsScript } from "./common/cli.ts";
import type { SideBySideSummary } from "./common/side_by_side.ts";
import { parseHhArgs } from "./hh/args.ts";
import { loadHhPairs } from "./hh/data.ts";
import { promptIds, saveHhPolicy } from "./hh/policy.ts";
import type { HhPreset, HhRestSettings } from "./hh/presets.ts";
import { startHhRun } from "./hh/run.ts";
import { HeldOutSamples, logRunFiles } from "./hh/samples.ts";
import type { Tokenizer } from "../models/mod.ts";

const NAME = "hh_rest";

/** A parsed run of the ReST example. */
export interface HhRestOptions {
  /** The preset, with flag overrides applied. */
  preset: HhPreset;
  /** ReST settings, with flag overrides applied. */
  rest: HhRestSettings;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from `<out>/checkpoint` (after its Improve step). */
  resume: boolean;
  /** Seed of data, sampling and order. */
  seed: number;
  /** Reward model folder or Hub id. */
  rewardModel: string | null;
  /** Where lines go (default console.log); the table is printed by `writeSideBySide`. */
  log?: (line: string) => void;
  /** Draw progress bars (default true). */
  progress?: boolean;
}

/** What a run measured. */
export interface HhRestResult {
  /** Held-out mean reward before the first Improve step (null when resumed). */
  initialRewardMean: number | null;
  /** Held-out mean reward after each Improve step this run took, in order. */
  improveRewardMeans: number[];
  /** ReST's report of each Improve step. */
  improveSteps: ImproveResult[];
  /** Side-by-side means and wins. */
  sideBySide: SideBySideSummary;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhRestArgs(argv: readonly string[]): HhRestOptions {
  const a = parseHhArgs(NAME, argv, {
    "samples-per-prompt": { type: "string" },
    "improve-steps": { type: "string" },
    "thresholds": { type: "string" },
    "grow-prompts": { type: "string" },
    "learning-rate": { type: "string" },
    "batch-size": { type: "string" },
    "epochs": { type: "string" },
  });
  const x = a.extra, base = a.preset.rest;
  const rest: HhRestSettings = {
    samplesPerPrompt: intFlag(
      NAME,
      "samples-per-prompt",
      x["samples-per-prompt"],
      1,
      base.samplesPerPrompt,
    ),
    improveSteps: intFlag(NAME, "improve-steps", x["improve-steps"], 1, base.improveSteps),
    thresholds: base.thresholds,
    growPrompts: intFlag(NAME, "grow-prompts", x["grow-prompts"], 1, base.growPrompts),
    learningRate: numberFlag(NAME, "learning-rate", x["learning-rate"], 0, base.learningRate),
    batchSize: intFlag(NAME, "batch-size", x["batch-size"], 1, base.batchSize),
    epochs: numberFlag(NAME, "epochs", x.epochs, Number.MIN_VALUE, base.epochs),
  };
  if (x.thresholds !== undefined) {
    const raw = String(x.thresholds);
    const values = raw.split(",").map((s) => Number(s.trim()));
    const rising = values.every((v, i) => Number.isFinite(v) && (i === 0 || v > values[i - 1]));
    if (raw.trim() === "" || !rising) {
      throw new Error(
        `${NAME}: --thresholds must be comma-separated rising numbers (one per Improve step), ` +
          `got '${raw}'`,
      );
    }
    if (x["improve-steps"] !== undefined && values.length !== rest.improveSteps) {
      throw new Error(
        `${NAME}: --thresholds has ${values.length} values but --improve-steps is ` +
          `${rest.improveSteps}; give one threshold per Improve step`,
      );
    }
    rest.thresholds = values;
    rest.improveSteps = values.length;
  }
  return {
    preset: a.preset,
    rest,
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    seed: a.seed,
    rewardModel: a.rewardModel,
  };
}

/** ReST encodes prompts only (no dataset replies): BOS + text, as the other hh examples. */
function restTokenizer(tokenizer: Tokenizer): ReSTTokenizer {
  return {
    encode: (text) => promptIds(tokenizer, text),
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    eosTokenId: tokenizer.eosTokenId,
    padTokenId: tokenizer.padTokenId,
  };
}

/** The first `count` distinct prompts. */
function distinctPrompts(prompts: readonly string[], count: number): string[] {
  return [...new Set(prompts)].slice(0, count);
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhRest(o: HhRestOptions): Promise<HhRestResult> {
  const t0 = performance.now();
  const { preset, rest } = o;
  const run = await startHhRun(NAME, preset, o);
  const { log, policy, reward } = run;
  try {
    log(`reward: ${reward.description}`);
    const pairs = await loadHhPairs(preset, o.seed);
    const fits = (p: { prompt: string }) =>
      promptIds(policy.tokenizer, p.prompt).length + preset.sampling.maxNewTokens <=
        preset.maxLength;
    const growPrompts = distinctPrompts(
      pairs.train.filter(fits).map((p) => p.prompt),
      rest.growPrompts,
    );
    const evalPrompts = distinctPrompts(
      pairs.test.filter(fits).map((p) => p.prompt),
      preset.sideBySidePrompts,
    );
    if (growPrompts.length === 0 || evalPrompts.length === 0) {
      throw new Error(
        `${NAME}: no prompt leaves room for ${preset.sampling.maxNewTokens} new tokens within ` +
          `maxLength ${preset.maxLength}; read more with --train-examples / --test-examples`,
      );
    }
    const thresholds = rest.thresholds ?? undefined;
    log(
      `Grow: ${rest.samplesPerPrompt} samples for each of ${growPrompts.length} prompts; ` +
        `${rest.improveSteps} Improve steps, thresholds ${
          thresholds ? thresholds.join(" < ") : "rising per-prompt percentiles (ReST's default)"
        }; held out: ${evalPrompts.length} prompts`,
    );
    const heldOut = await HeldOutSamples.take(
      policy,
      evalPrompts,
      preset.sampling,
      reward,
      o.seed + 7919,
    );
    const trainer = new ReST({
      growSteps: 1,
      improveSteps: rest.improveSteps,
      samplesPerPrompt: rest.samplesPerPrompt,
      thresholds,
      includeDataset: false,
      rewardInput: reward.input,
      generation: {
        maxNewTokens: preset.sampling.maxNewTokens,
        topK: preset.sampling.topK,
        topP: preset.sampling.topP,
        temperature: preset.sampling.temperature,
      },
      generationBatchSize: 64,
      evalSamplesPerPrompt: 4,
      sft: {
        learningRate: rest.learningRate,
        batchSize: rest.batchSize,
        numTrainEpochs: rest.epochs,
        maxLength: preset.maxLength,
      },
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
    }, {
      model: policy.model,
      tokenizer: restTokenizer(policy.tokenizer),
      reward: reward.fn,
      prompts: growPrompts,
      evalPrompts,
    });
    const run = await trainer.run({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    if (run.initialEvalRewardMean !== null) {
      log(`held-out mean reward before Improve: ${run.initialEvalRewardMean.toFixed(4)}`);
    }
    for (const s of run.improveSteps) {
      log(
        `Improve step ${s.improveStep}: kept ${s.kept} (${(100 * s.keptFraction).toFixed(0)}%, ` +
          `mean reward ${s.keptRewardMean.toFixed(4)}), SFT loss ${s.trainLoss.toFixed(4)}; ` +
          `held-out mean reward ${s.evalRewardMean!.toFixed(4)}`,
      );
    }
    const sideBySide = await heldOut.compare(o.out, "ReST", log);
    const saved = await saveHhPolicy(policy, preset.policy, join(o.out, "model"));
    logRunFiles(o.out, saved, sideBySide.path, log);
    return {
      initialRewardMean: run.initialEvalRewardMean,
      improveRewardMeans: run.improveSteps.map((s) => s.evalRewardMean!),
      improveSteps: run.improveSteps,
      sideBySide,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    run.dispose();
  }
}

/**
 * Parse and run.
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<HhRestResult> {
  return runHhRest(parseHhRestArgs(argv));
}

if (import.meta.main) await runAsScript(NAME, () => main(Deno.args));
