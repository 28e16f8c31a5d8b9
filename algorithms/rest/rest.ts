/**
 * `ReST`: Reinforced Self-Training (Gulcehre et al. 2023, Algorithm 1). G Grow steps, each
 * followed by I Improve steps on the same scored Grow set with rising thresholds; each Improve
 * step fine-tunes the current policy (SFT) on the samples that pass.
 *
 * @module
 */

import { join } from "node:path";
import { Generator } from "../../core/mod.ts";
import { generate as generateTokens, type GenerativeModel } from "../../models/generation.ts";
import type { RewardFunction } from "../common/reward_functions.ts";
import { Progress, type ProgressSink } from "../../common/progress.ts";
import { loadCheckpoint, saveCheckpoint } from "../common/checkpoint.ts";
import { RunWriter, writeRunConfig } from "../../report/run_files.ts";
import { isSampleStep, type SampleRow } from "../../report/samples.ts";
import { acquireRunLock } from "../common/run_dir.ts";
import type { CausalLM } from "../common/trainer.ts";
import { type PromptCompletionExample, tokenizeSftExamples } from "../sft/data.ts";
import { SFTTrainer } from "../sft/trainer.ts";
import { type ResolvedReSTConfig, resolveReSTConfig, type ReSTConfigInput } from "./config.ts";
import {
  growFileName,
  type GrowPrompt,
  type GrowSample,
  growSamples,
  readGrowFile,
  type ReSTGenerateFn,
  type ReSTTokenizer,
  writeGrowFile,
} from "./grow.ts";
import { selectForImprove } from "./improve.ts";
import type { StepThresholds } from "./thresholds.ts";

/** Model, data and helpers of a {@link ReST} run. */
export interface ReSTParts {
  /**
   * The policy: a causal LM SFT can train. Without `generate`, it must also be a model
   * `models/generate` accepts (`backend`, `eosTokenId`, `padTokenId`, a cached forward), as
   * GPT-2 from `loadCausalLM` is.
   */
  model: CausalLM;
  /** Encodes prompts and dataset completions, decodes samples for the reward. */
  tokenizer: ReSTTokenizer;
  /** Scores texts (prompt + completion, or the completion alone; see `rewardInput`). */
  reward: RewardFunction;
  /** Prompts to sample from in each Grow step. */
  prompts?: readonly string[];
  /**
   * The dataset D of (prompt, completion) texts: its prompts join the Grow prompts and, with
   * `includeDataset`, its completions join every Grow set.
   */
  dataset?: readonly { prompt: string; completion: string }[];
  /** Held-out prompts: the policy's mean reward on them is measured after each Improve step. */
  evalPrompts?: readonly string[];
  /** Sampler to use instead of `models/generate` (it must sample from `model`). */
  generate?: ReSTGenerateFn;
  /** Where progress lines go (default: standard error, when `config.progress`). */
  progressSink?: ProgressSink;
}

/** What {@link ReST.grow} returns. */
export interface GrowResult {
  /** 1-based Grow step. */
  growStep: number;
  /** The scored samples, grouped by prompt. */
  samples: GrowSample[];
  /** Mean reward of the samples. */
  rewardMean: number;
  /** The JSONL file written (null without an output folder). */
  file: string | null;
}

/** What {@link ReST.improve} returns (also one line of `metrics.jsonl`). */
export interface ImproveResult {
  /** 1-based Grow step. */
  growStep: number;
  /** 1-based Improve step within the Grow step. */
  improveStep: number;
  /** Thresholds applied. */
  thresholds: StepThresholds;
  /** Samples trained on (after filtering and de-duplication). */
  kept: number;
  /** kept / samples scored. */
  keptFraction: number;
  /** Mean reward of the kept samples. */
  keptRewardMean: number;
  /** Mean SFT training loss of the step. */
  trainLoss: number;
  /** SFT optimizer steps taken over the whole run so far. */
  sftSteps: number;
  /** Mean held-out reward after the step (null without `evalPrompts`). */
  evalRewardMean: number | null;
}

/** What {@link ReST.evaluate} returns. */
export interface EvalResult {
  /** Mean reward over all held-out samples. */
  rewardMean: number;
  /** Each sample's reward, prompt by prompt. */
  rewards: number[];
  /** Each sample's completion text. */
  completions: string[];
}

/** What {@link ReST.run} returns. */
export interface ReSTRunResult {
  /** Held-out mean reward before the first Improve step (null without `evalPrompts`, or when resumed). */
  initialEvalRewardMean: number | null;
  /** Every Improve step this call ran, in order. */
  improveSteps: ImproveResult[];
}

/** Options of {@link ReST.run}. */
export interface ReSTRunOptions {
  /** A checkpoint folder written by a ReST run: continue after its Improve step. */
  resumeFrom?: string;
}

/** Where a run stands; saved with each checkpoint. */
interface ReSTState {
  growStep: number;
  improveStep: number;
  sftSteps: number;
}

const STATE_KEY = "rest";

/**
 * Reinforced Self-Training. `grow()` samples K completions per prompt from the current policy and
 * scores them (saved as `grow_<g>.jsonl`); each `improve()` keeps the samples whose reward passes
 * the step's threshold (fixed τ_1 < … < τ_I with `>`, or trlX's rising percentiles with `>=`)
 * and fine-tunes the policy on them with {@link SFTTrainer}, continuing from the current weights.
 * `run()` does G Grow steps × I Improve steps.
 *
 * Metrics (`metrics.jsonl`, `step` = SFT optimizer steps so far): `rest/grow_step`,
 * `rest/grow_samples`, `rest/grow_reward_mean`, `rest/grow_reward_max` after each Grow step;
 * `rest/improve_step`, `rest/threshold` (mean over prompts), `rest/percentile`, `rest/kept`,
 * `rest/kept_fraction`, `rest/kept_reward_mean`, `train/loss` and `rest/eval_reward_mean` after
 * each Improve step (the last also at step 0, before training).
 *
 * @example
 * ```ts
 * import { ReST } from "@tether/rlhf/rest";
 * import { lengthReward } from "@tether/rlhf/reward";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // One Grow step and one Improve step by hand, on the examples' tiny offline GPT-2.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const rest = new ReST({
 *   n_generations_per_prompt: 4, // trlX's name for samplesPerPrompt
 *   thresholds: { start_percentile: 0.5, end_percentile: 0.9 },
 *   n_improve_steps: 1,
 *   gen_kwargs: { max_new_tokens: 8 },
 *   seed: 0,
 * }, { model, tokenizer, reward: lengthReward({ unit: "words" }), prompts: ["the plot was"] });
 * const grown = await rest.grow();
 * const improved = await rest.improve();
 * console.log(grown.rewardMean, improved.kept, improved.trainLoss);
 * ```
 */
export class ReST {
  /** Resolved settings. */
  readonly config: ResolvedReSTConfig;
  /** The policy being trained. */
  readonly model: CausalLM;
  readonly #parts: ReSTParts;
  readonly #prompts: GrowPrompt[];
  readonly #evalPrompts: GrowPrompt[];
  readonly #datasetCompletions: { promptIndex: number; completionIds: number[] }[];
  readonly #sampler: (seed: number) => ReSTGenerateFn;
  #state: ReSTState = { growStep: 0, improveStep: 0, sftSteps: 0 };
  #growSet: GrowSample[] | null = null;

  /**
   * Validate settings and data; prompts are tokenized once here.
   *
   * @param config ReST settings (see {@link ReSTConfig}).
   * @param parts Model, tokenizer, reward, prompts and/or dataset, held-out prompts.
   */
  constructor(config: ReSTConfigInput, parts: ReSTParts) {
    this.config = resolveReSTConfig(config);
    this.model = parts.model;
    this.#parts = parts;
    const { tokenizer } = parts;
    if (typeof parts.reward !== "function") {
      throw new Error("ReST: parts.reward must be a reward function (texts → scores)");
    }
    const encodePrompt = (field: string) => (text: string, i: number): GrowPrompt => {
      if (typeof text !== "string") {
        throw new Error(`ReST: ${field}[${i}] must be a string, got ${typeof text}`);
      }
      const ids = tokenizer.encode(text);
      if (ids.length === 0) {
        throw new Error(`ReST: ${field}[${i}] (${JSON.stringify(text)}) has no tokens`);
      }
      return { text, ids };
    };
    this.#prompts = (parts.prompts ?? []).map(encodePrompt("prompts"));
    const index = new Map(this.#prompts.map((p, i) => [p.text, i]));
    const rows = parts.dataset ?? [];
    rows.forEach((row, i) => {
      if (typeof row?.prompt !== "string" || typeof row?.completion !== "string") {
        throw new Error(`ReST: dataset[${i}] must be { prompt, completion } strings`);
      }
      // Dataset prompts are Grow prompts too: the paper samples for every x in D.
      if (!index.has(row.prompt)) {
        index.set(row.prompt, this.#prompts.length);
        this.#prompts.push(encodePrompt("dataset prompt")(row.prompt, i));
      }
    });
    const tokenized = tokenizeSftExamples(rows, tokenizer) as PromptCompletionExample[];
    this.#datasetCompletions = !this.config.includeDataset ? [] : tokenized.map((ex, i) => {
      if (ex.completion.length === 0) {
        throw new Error(`ReST: dataset[${i}] has an empty completion`);
      }
      return { promptIndex: index.get(rows[i].prompt)!, completionIds: ex.completion };
    });
    if (this.#prompts.length === 0) {
      throw new Error("ReST: no prompts; pass parts.prompts and/or parts.dataset");
    }
    this.#evalPrompts = (parts.evalPrompts ?? []).map(encodePrompt("evalPrompts"));
    this.#sampler = samplerBySeed(parts, this.config);
  }

  /** Grow steps completed. */
  get growStep(): number {
    return this.#state.growStep;
  }

  /** Improve steps completed within the current Grow step. */
  get improveStep(): number {
    return this.#state.improveStep;
  }

  /** The current Grow set (null before the first `grow()`). */
  get growSet(): readonly GrowSample[] | null {
    return this.#growSet;
  }

  /**
   * One Grow step: K samples per prompt from the current policy (plus the dataset's completions
   * when configured), scored, written to `<outputDir>/grow_<g>.jsonl`. Resets the Improve count.
   */
  async grow(): Promise<GrowResult> {
    const c = this.config;
    const growStep = this.#state.growStep + 1;
    const progress = this.#progress(
      `rest grow ${growStep}`,
      this.#prompts.length * c.samplesPerPrompt,
    );
    let samples: GrowSample[];
    try {
      samples = await growSamples({
        growStep,
        prompts: this.#prompts,
        samplesPerPrompt: c.samplesPerPrompt,
        datasetCompletions: this.#datasetCompletions,
        generate: this.#sampler(growSeed(c.seed, growStep)),
        maxNewTokens: c.generation.maxNewTokens,
        batchSize: c.generationBatchSize,
        reward: this.#parts.reward,
        rewardInput: c.rewardInput,
        tokenizer: this.#parts.tokenizer,
        onProgress: (done, _total, mean) =>
          progress?.update(done, { "rest/grow_reward_mean": mean }),
      });
    } finally {
      progress?.finish();
    }
    const file = c.outputDir ? await writeGrowFile(c.outputDir, growStep, samples) : null;
    this.#growSet = samples;
    this.#state = { ...this.#state, growStep, improveStep: 0 };
    const rewards = samples.map((s) => s.reward);
    const rewardMean = mean(rewards);
    await this.#log({
      "rest/grow_step": growStep,
      "rest/grow_samples": samples.length,
      "rest/grow_reward_mean": rewardMean,
      "rest/grow_reward_max": Math.max(...rewards),
    });
    await this.#write((w) =>
      w.writeDistribution(this.#state.sftSteps, "rest/grow_rewards", rewards)
    );
    if (isSampleStep(growStep, c.growSteps, c.logSamples)) {
      // The first policy sample of each of the first prompts: a spread, not K of one prompt.
      const firsts = samples.filter((s, i) =>
        s.source === "policy" && (i === 0 || samples[i - 1].promptIndex !== s.promptIndex)
      );
      const rows = firsts.slice(0, c.logSamples.count).map((s) => ({
        prompt: s.prompt,
        completion: s.completion,
        reward: s.reward,
      }));
      await this.#write((w) => w.writeSamples(this.#state.sftSteps, rows));
    }
    return { growStep, samples, rewardMean, file };
  }

  /**
   * One Improve step on the current Grow set: the next threshold, the samples that pass
   * (de-duplicated), one SFT run on them continuing from the current weights, then the
   * held-out evaluation and a checkpoint when configured.
   */
  async improve(): Promise<ImproveResult> {
    const c = this.config;
    const { growStep } = this.#state;
    if (!this.#growSet) throw new Error("ReST.improve: no Grow set yet; call grow() first");
    if (this.#state.improveStep >= c.improveSteps) {
      throw new Error(
        `ReST.improve: all ${c.improveSteps} Improve steps of Grow step ${growStep} are done; ` +
          `call grow() for new samples (or raise improveSteps)`,
      );
    }
    const improveStep = this.#state.improveStep + 1;
    const selection = selectForImprove(
      this.#growSet,
      this.#prompts.length,
      c.thresholds,
      c.improveSteps,
      improveStep,
      growStep,
    );
    const trainer = new SFTTrainer({
      progress: c.progress,
      reportTo: c.reportTo,
      ...c.sft,
      outputDir: c.outputDir
        ? join(c.outputDir, "sft", `grow_${growStep}_improve_${improveStep}`)
        : null,
      seed: sftSeed(c.seed, growStep, improveStep),
    }, {
      model: this.model,
      trainDataset: selection.kept.map((s) => ({
        prompt: s.promptIds,
        completion: s.completionIds,
      })),
      tokenizer: this.#parts.tokenizer,
      progressSink: this.#parts.progressSink,
    });
    let trainLoss: number, steps: number;
    try {
      const out = await trainer.train();
      trainLoss = out.trainingLoss;
      steps = out.globalStep;
    } finally {
      // Each Improve step is a fresh fine-tuning run; its optimizer state is not carried over.
      trainer.optimizer.dispose();
    }
    this.#state = { ...this.#state, improveStep, sftSteps: this.#state.sftSteps + steps };
    const evalRewardMean = this.#evalPrompts.length > 0
      ? (await this.#evaluateAndLog()).rewardMean
      : null;
    const result: ImproveResult = {
      growStep,
      improveStep,
      thresholds: selection.thresholds,
      kept: selection.kept.length,
      keptFraction: selection.kept.length / selection.scored,
      keptRewardMean: mean(selection.kept.map((s) => s.reward)),
      trainLoss,
      sftSteps: this.#state.sftSteps,
      evalRewardMean,
    };
    await this.#log({
      "rest/grow_step": growStep,
      "rest/improve_step": improveStep,
      "rest/threshold": mean(selection.thresholds.thresholds),
      ...(selection.thresholds.percentile === null
        ? {}
        : { "rest/percentile": selection.thresholds.percentile }),
      "rest/kept": result.kept,
      "rest/kept_fraction": result.keptFraction,
      "rest/kept_reward_mean": result.keptRewardMean,
      "train/loss": trainLoss,
      ...(evalRewardMean === null ? {} : { "rest/eval_reward_mean": evalRewardMean }),
    });
    if (c.saveCheckpoints) await this.saveCheckpoint();
    return result;
  }

  /**
   * The policy's mean reward on the held-out prompts: `evalSamplesPerPrompt` samples each, with
   * the Grow sampling settings and the same seed every time, so evaluations differ only by the
   * policy.
   */
  async evaluate(): Promise<EvalResult> {
    if (this.#evalPrompts.length === 0) {
      throw new Error("ReST.evaluate: no held-out prompts; pass parts.evalPrompts");
    }
    const c = this.config;
    const samples = await growSamples({
      growStep: 0,
      prompts: this.#evalPrompts,
      samplesPerPrompt: c.evalSamplesPerPrompt,
      datasetCompletions: [],
      generate: this.#sampler(evalSeed(c.seed)),
      maxNewTokens: c.generation.maxNewTokens,
      batchSize: c.generationBatchSize,
      reward: this.#parts.reward,
      rewardInput: c.rewardInput,
      tokenizer: this.#parts.tokenizer,
    });
    const rewards = samples.map((s) => s.reward);
    return { rewardMean: mean(rewards), rewards, completions: samples.map((s) => s.completion) };
  }

  /**
   * Algorithm 1: G Grow steps, each followed by its I Improve steps; with `resumeFrom`, continue
   * after the checkpoint's Improve step (the Grow set is read back from `grow_<g>.jsonl`).
   *
   * @param options Resume from a checkpoint folder.
   */
  async run(options: ReSTRunOptions = {}): Promise<ReSTRunResult> {
    const c = this.config;
    // One writer per output folder: a second process training into it is refused at once.
    await using _lock = c.outputDir ? await acquireRunLock(c.outputDir, "ReST") : null;
    let initialEvalRewardMean: number | null = null;
    if (c.outputDir) await writeRunConfig(c.outputDir, { rest: c });
    if (options.resumeFrom) {
      await this.loadCheckpoint(options.resumeFrom);
    } else if (this.#evalPrompts.length > 0 && this.#state.sftSteps === 0) {
      initialEvalRewardMean = (await this.#evaluateAndLog()).rewardMean;
      await this.#log({ "rest/improve_step": 0, "rest/eval_reward_mean": initialEvalRewardMean });
    }
    const improveSteps: ImproveResult[] = [];
    for (;;) {
      if (this.#growSet && this.#state.improveStep < c.improveSteps) {
        improveSteps.push(await this.improve());
      } else if (this.#state.growStep < c.growSteps) {
        await this.grow();
      } else {
        break;
      }
    }
    return { initialEvalRewardMean, improveSteps };
  }

  /**
   * Save the policy's weights and where the run stands, atomically (common `saveCheckpoint`).
   * There is no optimizer state to save: each Improve step starts a fresh SFT run.
   *
   * @param dir Folder (default `<outputDir>/checkpoint`).
   */
  async saveCheckpoint(dir?: string): Promise<string> {
    const target = dir ?? join(this.#outputDir("saveCheckpoint"), "checkpoint");
    await saveCheckpoint(target, {
      model: this.model,
      step: this.#state.sftSteps,
      extra: {
        [STATE_KEY]: {
          ...this.#state,
          growFile: growFileName(this.#state.growStep),
          growSteps: this.config.growSteps,
          improveSteps: this.config.improveSteps,
          seed: this.config.seed,
        },
      },
    });
    return target;
  }

  /**
   * Restore weights and run state from a checkpoint folder, and the Grow set from
   * `<outputDir>/grow_<g>.jsonl`.
   *
   * @param dir Checkpoint folder written by {@link ReST.saveCheckpoint}.
   */
  async loadCheckpoint(dir: string): Promise<void> {
    const loaded = await loadCheckpoint(dir, { model: this.model });
    const saved = loaded.extra[STATE_KEY] as
      | (ReSTState & { growFile: string; seed: number })
      | undefined;
    if (!saved) throw new Error(`ReST: ${loaded.dir} is not a ReST checkpoint (no run state)`);
    if (saved.seed !== this.config.seed) {
      throw new Error(
        `ReST: cannot resume from ${loaded.dir}: it was saved with seed ${saved.seed}, this run ` +
          `has ${this.config.seed} (the samples depend on it); use the saved seed`,
      );
    }
    if (saved.improveStep > this.config.improveSteps) {
      throw new Error(
        `ReST: cannot resume from ${loaded.dir}: it is at Improve step ${saved.improveStep}, ` +
          `beyond improveSteps = ${this.config.improveSteps}`,
      );
    }
    this.#state = {
      growStep: saved.growStep,
      improveStep: saved.improveStep,
      sftSteps: saved.sftSteps,
    };
    this.#growSet = saved.growStep > 0
      ? await readGrowFile(join(this.#outputDir("resume"), saved.growFile))
      : null;
    if (this.config.outputDir) {
      // Lines logged after the checkpoint belong to steps about to be redone.
      (await RunWriter.open(this.config.outputDir, {
        resumeStep: saved.sftSteps,
        reportTo: this.config.reportTo,
      })).close();
    }
  }

  #outputDir(what: string): string {
    if (!this.config.outputDir) throw new Error(`ReST: ${what} needs config.outputDir`);
    return this.config.outputDir;
  }

  async #log(metrics: Record<string, number>): Promise<void> {
    await this.#write((w) => w.write(this.#state.sftSteps, metrics));
  }

  /** Run `what` on the run folder's writer (nothing without an output folder). */
  async #write(what: (writer: RunWriter) => Promise<void>): Promise<void> {
    if (!this.config.outputDir) return;
    const writer = await RunWriter.open(this.config.outputDir, { reportTo: this.config.reportTo });
    try {
      await what(writer);
    } finally {
      writer.close();
    }
  }

  /** `evaluate()`, with its samples logged as the `eval/completions` table. */
  async #evaluateAndLog(): Promise<EvalResult> {
    const result = await this.evaluate();
    const step = this.#state.sftSteps;
    await this.#write((w) => w.writeDistribution(step, "rest/eval_rewards", result.rewards));
    if (this.config.logSamples.every > 0) {
      const k = this.config.evalSamplesPerPrompt;
      const rows: SampleRow[] = this.#evalPrompts.slice(0, this.config.logSamples.count).map(
        (p, i) => ({
          prompt: p.text,
          completion: result.completions[i * k],
          reward: result.rewards[i * k],
        }),
      );
      await this.#write((w) => w.writeSamples(step, rows, "eval/completions"));
    }
    return result;
  }

  #progress(label: string, total: number): Progress | null {
    if (!this.config.progress && !this.#parts.progressSink) return null;
    return new Progress({
      label,
      total,
      every: this.config.generationBatchSize,
      sink: this.#parts.progressSink,
    });
  }
}

/**
 * Samplers by seed: `models/generate` with the configured sampling settings (in eval mode) and
 * a fresh seeded generator per call, or the user's sampler, which seeds itself.
 */
function samplerBySeed(
  parts: ReSTParts,
  config: ResolvedReSTConfig,
): (seed: number) => ReSTGenerateFn {
  if (parts.generate) return () => parts.generate!;
  const model = parts.model;
  const m = model as Partial<GenerativeModel>;
  if (typeof m.backend !== "string" || m.eosTokenId === undefined) {
    throw new Error(
      "ReST: parts.model cannot be sampled by models/generate (it needs backend, eosTokenId, " +
        "padTokenId and a forward with a KV cache, as GPT-2 from loadCausalLM has); pass " +
        "parts.generate, a sampler of your own",
    );
  }
  return (seed) => {
    const generator = new Generator(seed);
    return async (rows, maxNewTokens) => {
      model.eval?.();
      const { tokens } = await generateTokens(model as unknown as GenerativeModel, rows, {
        ...config.generation,
        maxNewTokens,
        generator,
      });
      return rows.map((row, i) => [...row, ...tokens[i]]);
    };
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

// Independent streams per Grow step, per Improve step and for evaluation.
function growSeed(seed: number, growStep: number): number {
  return (Math.imul(seed, 0x2545f491) ^ Math.imul(growStep, 0x9e3779b1)) | 0;
}

function sftSeed(seed: number, growStep: number, improveStep: number): number {
  return (seed + Math.imul(growStep, 1000) + improveStep) | 0;
}

function evalSeed(seed: number): number {
  return (Math.imul(seed, 0x2545f491) ^ 0x5bd1e995) | 0;
}
