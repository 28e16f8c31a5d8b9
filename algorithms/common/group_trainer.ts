/**
 * The trainer GRPO and RLOO share: sample `numGenerations` completions per prompt, score them
 * with reward functions, compare each completion with the others of its prompt, and update in
 * micro-batches, on the one online loop. A subclass supplies only how a scored rollout becomes
 * advantages and how a micro-batch becomes a loss.
 *
 * @module
 */

import {
  concat,
  div,
  keep,
  maximum,
  mul,
  noGrad,
  reshape,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import type { Hyperparams, Optimizer } from "../../core/optim/mod.ts";
import { Generator, type GeneratorState } from "../../core/random.ts";
import type { ProgressSink } from "../../common/progress.ts";
import type { ReportTarget } from "../../report/run_files.ts";
import { allRows, type Rows } from "./batching.ts";
import { type GroupConfigValues, type GroupSizes, groupSizes } from "./group_config.ts";
import { checkScorableGroups, nanMean, nanStd, weightedRewards } from "./groups.ts";
import { NonFiniteLossError } from "./nonfinite.ts";
import {
  type OnlineLoopResult,
  type OnlineQuery,
  onlineStatsLine,
  type OnlineStepContext,
  runOnlineLoop,
  trainableParameters,
} from "./online_loop.ts";
import { type MinibatchLoss, runMinibatches } from "./online_update.ts";
import { type AdapterSwitch, type Reference, resolveReference } from "./reference.ts";
import {
  type NamedRewardFunction,
  nameRewardFunctions,
  type OnlineRewardFunction,
  type ScoredRewards,
  scoreWithRewardFunctions,
} from "./reward_functions.ts";
import { byChunks, gatherRows, packRollout, type PolicyModel, tokenLogprobs } from "./rollout.ts";
import { defaultOptimizer, makeScheduler, type TrainerScheduler } from "./trainer.ts";

/** A policy the group trainers can sample from (any `CausalLM`). */
export interface GroupPolicy extends PolicyModel {
  /** Batched sampling from unpadded prompts (used unless the trainer is given `generate`). */
  generate?(
    prompts: number[][],
    options: {
      doSample: boolean;
      maxNewTokens: number;
      temperature: number;
      topK: number;
      topP: number;
      generator: Generator;
    },
  ): Promise<{ tokens: number[][] }>;
  /** Stop token. */
  readonly eosTokenId?: number | null;
  /** Padding token. */
  readonly padTokenId?: number | null;
  /** Switches gradient checkpointing of the policy's blocks (core `nn.Module`). */
  gradientCheckpointingEnable?(on?: boolean): unknown;
}

/** What the group trainers need of a tokenizer. */
export interface GroupTokenizer {
  /** Token ids → text. */
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Text → token ids (for text prompts). */
  encode?(text: string): number[];
  /** Stop token: a completion ending in it (or in padding) was not truncated. */
  eosTokenId?: number | null;
  /** Padding token. */
  padTokenId?: number | null;
}

/** A prompt of the training set: token ids, a row holding them, or text (encoded once). */
export type GroupPrompt = OnlineQuery | string;

/** Sampling settings handed to a custom `generate`. */
export interface GroupSampling {
  /** Most new tokens. */
  maxNewTokens: number;
  /** Temperature. */
  temperature: number;
  /** Top-k (0: off). */
  topK: number;
  /** Top-p (1: off). */
  topP: number;
  /** The step's generator (a resumed run samples the same tokens). */
  generator: Generator;
}

/** Models, data and helpers of a group trainer. */
export interface GroupTrainerParts<M extends GroupPolicy = GroupPolicy> {
  /** The policy (a causal LM; with LoRA, its adapters are what trains). */
  model: M;
  /** Decodes prompts and completions for the reward functions (and encodes text prompts). */
  tokenizer: GroupTokenizer;
  /**
   * Reward functions (texts = prompt + completion decoded together, plus the context); a
   * function may return `null` for a sample it cannot score. Named by their function name,
   * or `{ name, fn }`.
   */
  rewardFuncs:
    | OnlineRewardFunction
    | NamedRewardFunction
    | readonly (OnlineRewardFunction | NamedRewardFunction)[];
  /** Prompts to train on. */
  trainDataset: Rows<GroupPrompt> | Iterable<GroupPrompt>;
  /** A separate frozen reference (used when β ≠ 0; default: adapters off, else a frozen copy). */
  refModel?: M;
  /** The policy's LoRA handle (`applyLora`'s result): adapters off = the reference. */
  adapters?: AdapterSwitch;
  /** Default: AdamW over the trainable parameters with the config's lr, betas, eps, decay. */
  optimizer?: Optimizer<Hyperparams>;
  /** Default: the config's schedule over the run's optimizer steps. */
  scheduler?: TrainerScheduler;
  /** A sampler to use instead of the model's `generate` (rows in, new tokens out). */
  generate?: (prompts: number[][], sampling: GroupSampling) => Promise<number[][]>;
  /** Padding id (default: the tokenizer's, the model's, else EOS, else 0). */
  padTokenId?: number;
  /** Where the progress bar goes (default: standard error when it is a terminal). */
  progressSink?: ProgressSink;
}

/** Rewards of a generation round: per reward function, one score (or null) per completion. */
export type GroupRewards = ScoredRewards | readonly (readonly (number | null)[])[];

/** A step's statistics under TRL's names (scalars). */
export type GroupStats = Record<string, number>;

/** What a group trainer's checkpoint keeps besides weights, optimizer and scheduler. */
export interface GroupTrainerState {
  /** Generation rounds taken. */
  currentStep: number;
  /** Prompt and completion tokens seen (TRL's `num_tokens`). */
  numTokens: number;
  /** The micro-batch shuffling generator. */
  rng: GeneratorState;
}

/** Options of `train()`. */
export interface GroupTrainOptions {
  /** Continue from `outputDir/checkpoint`. */
  resume?: boolean;
  /** Asked before each round; `true` ends the run there (checkpointed). */
  shouldStop?: (state: { step: number; elapsedSeconds: number }) => boolean;
  /** Receives each round's stats line (default: standard error); `false` for none. */
  log?: ((line: string) => void) | false;
  /** Called after each round. */
  onStep?: (
    info: { step: number; stats: GroupStats; prompts: number[][]; completions: number[][] },
  ) => void | Promise<void>;
  /** Other generators whose state the checkpoint keeps (e.g. LoRA dropout). */
  generators?: Record<string, Generator | undefined>;
  /** A progress bar: `true`, `false`, or a sink (default: the parts' sink, else a TTY check). */
  progress?: boolean | ProgressSink;
  /** Also write TensorBoard event files into `outputDir` (default: the config's `reportTo`). */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /**
   * Log a table of `logSamplesCount` completions with their rewards every this many rounds (and
   * at the first and the last): to `samples.jsonl`, TensorBoard and the stats log. Default 10;
   * 0 turns it off.
   */
  logSamplesEvery?: number;
  /** Rows per sample table (default 4: the round's first completions). */
  logSamplesCount?: number;
  /** Token ids → text for the sample tables (default: the trainer's tokenizer). */
  decode?: (ids: number[]) => string;
}

/** A scored rollout on the device, as a subclass sees it. */
export interface GroupRollout {
  /** Completions in the round. */
  rows: number;
  /** Token ids [rows, L] (prompt ++ completion, right-padded). */
  inputIds: Tensor;
  /** Attention mask [rows, L]. */
  attentionMask: Tensor;
  /** 1 on the completion tokens that count [rows, L − 1] (truncated rows zeroed if asked). */
  mask: Tensor;
  /** Log-probs when sampled [rows, L − 1], when the subclass asked for them. */
  oldLogprobs: Tensor | null;
  /** Reference log-probs [rows, L − 1] (β ≠ 0). */
  refLogprobs: Tensor | null;
  /** Each reward function's scores, NaN for null. */
  perFunction: number[][];
  /** Completion tokens of the whole round that count (`dapo`'s divisor). */
  numItems: number;
}

/** What a subclass's `advantages` returns. */
export interface GroupAdvantages {
  /** One advantage per completion. */
  advantages: number[];
  /** Round-level metrics (e.g. `frac_reward_zero_std`, RLOO's `kl`). */
  metrics: Record<string, number>;
}

/** Base of {@link GroupTrainer} subclasses (GRPO, RLOO). */
export abstract class GroupTrainer<
  M extends GroupPolicy = GroupPolicy,
  Config extends GroupConfigValues = GroupConfigValues,
> {
  /** Validated settings. */
  readonly config: Config;
  /** The policy. */
  readonly model: M;
  /** π_ref (null when β = 0: no reference is loaded). */
  readonly reference: Reference<M> | null;
  /** The optimizer. */
  readonly optimizer: Optimizer<Hyperparams>;
  /** The learning-rate scheduler (stepped per optimizer step). */
  readonly scheduler: TrainerScheduler;
  /** Generation rounds taken. */
  currentStep = 0;
  /** Sizes of a round. */
  readonly sizes: GroupSizes;
  /** The reward functions, named. */
  readonly rewardFuncs: readonly NamedRewardFunction[];
  /** Their weights. */
  readonly rewardWeights: readonly number[];
  readonly #parts: GroupTrainerParts<M>;
  readonly #prompts: number[][];
  readonly #trainable: Tensor[];
  readonly #padTokenId: number;
  readonly #eosTokenId: number | null;
  readonly #rng: Generator;
  readonly #ownsOptimizer: boolean;
  #numTokens = 0;
  #lastStats: GroupStats = {};

  /**
   * Validate and set up; the reference is resolved only when β ≠ 0.
   *
   * @param name Trainer name (messages).
   * @param label Short name (progress, stats lines).
   * @param config Validated settings.
   * @param parts Policy, tokenizer, reward functions, prompts, reference.
   */
  protected constructor(
    readonly name: string,
    readonly label: string,
    config: Config,
    parts: GroupTrainerParts<M>,
  ) {
    this.config = config;
    this.model = parts.model;
    this.#parts = parts;
    this.sizes = groupSizes(config);
    this.rewardFuncs = nameRewardFunctions(name, parts.rewardFuncs);
    const weights = config.rewardWeights ?? this.rewardFuncs.map(() => 1);
    if (weights.length !== this.rewardFuncs.length) {
      throw new Error(
        `${name}: rewardWeights has ${weights.length} weights but there are ` +
          `${this.rewardFuncs.length} reward functions (${
            this.rewardFuncs.map((f) => f.name).join(", ")
          }); give one weight per function, or none for all 1`,
      );
    }
    this.rewardWeights = weights;
    this.#prompts = allRows(toRows(name, parts.trainDataset)).map((p, i) =>
      promptIds(name, p, i, parts.tokenizer)
    );
    if (this.#prompts.length < this.sizes.promptsPerStep) {
      throw new Error(
        `${name}: the training set has ${this.#prompts.length} prompts but a round takes ` +
          `${this.sizes.promptsPerStep} (batchSize × stepsPerGeneration / numGenerations); ` +
          `add prompts or lower batchSize`,
      );
    }
    this.#trainable = parts.model.parameters().filter((p) => p.requiresGrad);
    if (this.#trainable.length === 0) {
      throw new Error(`${name}: the policy has no trainable parameter (requiresGrad)`);
    }
    if (config.gradientCheckpointing) {
      if (!parts.model.gradientCheckpointingEnable) {
        throw new Error(
          `${name}: gradientCheckpointing is true, but the policy has no ` +
            `gradientCheckpointingEnable(); pass an nn.Module policy, or set it to false`,
        );
      }
      parts.model.gradientCheckpointingEnable(true);
    }
    this.reference = config.beta !== 0 ? resolveReference(parts.model, parts) : null;
    const m = parts.model;
    this.#eosTokenId = parts.tokenizer.eosTokenId ?? m.eosTokenId ?? null;
    this.#padTokenId = parts.padTokenId ?? parts.tokenizer.padTokenId ?? m.padTokenId ??
      this.#eosTokenId ?? 0;
    this.#ownsOptimizer = parts.optimizer === undefined;
    this.optimizer = parts.optimizer ?? defaultOptimizer(parts.model, config);
    this.scheduler = parts.scheduler ??
      makeScheduler(
        this.optimizer,
        config.lrSchedulerType,
        config.warmupSteps,
        this.totalSteps * this.sizes.updatesPerStep,
      );
    this.#rng = new Generator(config.seed);
  }

  /** Generation rounds a full `train()` runs: `maxSteps`, else epochs over the prompts. */
  get totalSteps(): number {
    const c = this.config;
    if (c.maxSteps !== null) return c.maxSteps;
    const perEpoch = Math.max(1, Math.floor(this.#prompts.length / this.sizes.promptsPerStep));
    return Math.ceil(c.numTrainEpochs * perEpoch);
  }

  /** The training prompts, tokenized. */
  get prompts(): readonly (readonly number[])[] {
    return this.#prompts;
  }

  /** Frees what the trainer made: a frozen reference copy and its own optimizer's state. */
  dispose(): void {
    this.reference?.dispose();
    if (this.#ownsOptimizer) this.optimizer.dispose();
  }

  /** Step counter, token count and shuffling state, as JSON-safe values. */
  stateDict(): GroupTrainerState {
    return { currentStep: this.currentStep, numTokens: this.#numTokens, rng: this.#rng.getState() };
  }

  /**
   * Restore what `stateDict()` returned.
   *
   * @param state A saved state.
   */
  loadStateDict(state: GroupTrainerState): void {
    if (!(Number.isInteger(state?.currentStep) && state.currentStep >= 0)) {
      throw new Error(
        `${this.name}.loadStateDict: currentStep must be an integer >= 0, got ${state?.currentStep}`,
      );
    }
    this.currentStep = state.currentStep;
    this.#numTokens = state.numTokens;
    this.#rng.setState(state.rng);
    this.#lastStats = {};
  }

  /** Whether the rollout needs the policy's log-probs at sampling time. */
  protected abstract needsOldLogprobs(): boolean;

  /**
   * The advantage of each completion (host-side), and round-level metrics.
   *
   * @param rollout The scored rollout.
   */
  protected abstract advantages(rollout: GroupRollout): Promise<GroupAdvantages>;

  /**
   * The loss of one micro-batch (inside a scope, grads on).
   *
   * @param rollout The rollout.
   * @param rows Its rows in this micro-batch.
   * @param logprobs Current log-probs of those rows [b, L − 1], with gradients.
   * @param advantages Advantages of those rows [b].
   */
  protected abstract loss(
    rollout: GroupRollout,
    rows: readonly number[],
    logprobs: Tensor,
    advantages: Tensor,
  ): MinibatchLoss;

  /**
   * A micro-batch's metrics from its read-back statistics.
   *
   * @param values Each statistic's values (scalars have one).
   */
  protected abstract microBatchMetrics(
    values: Record<string, Float32Array>,
  ): Record<string, number>;

  /**
   * One update from a scored generation round: `prompts[i]` and `completions[i]` for each of
   * the `batchSize × stepsPerGeneration` completions, groups of `numGenerations` consecutive
   * rows sharing a prompt, and `rewards[f][i]` per reward function (`null`: unscorable).
   *
   * A non-finite loss throws `NonFiniteLossError`; on backends that read synchronously (CPU),
   * before any update of the step, with the trainer as after the last good step.
   *
   * @param prompts Prompt token rows (repeated per completion).
   * @param completions Completion token rows (EOS included when produced).
   * @param rewards Per-function scores.
   */
  async step(
    prompts: number[][],
    completions: number[][],
    rewards: GroupRewards,
  ): Promise<GroupStats> {
    const perFunction = this.#checkBatch(prompts, completions, rewards);
    const rngBefore = this.#rng.getState();
    const held: Tensor[] = [];
    let stats: GroupStats;
    try {
      stats = await this.#update(prompts, completions, perFunction, held);
    } catch (error) {
      if (error instanceof NonFiniteLossError && !error.afterUpdate) this.#rng.setState(rngBefore);
      throw error;
    } finally {
      for (const t of held) if (!t.disposed) t.dispose();
    }
    if (!Number.isFinite(stats.loss)) {
      throw new NonFiniteLossError(
        `${this.name} (loss)`,
        this.currentStep + 1,
        stats.loss,
        this.#lastStats,
        true,
      );
    }
    this.currentStep++;
    this.#lastStats = stats;
    return stats;
  }

  /**
   * Train for `totalSteps` generation rounds on the one online loop: draw prompts, sample
   * `numGenerations` completions each, score them, update; metrics to
   * `outputDir/metrics.jsonl`, checkpoints to `outputDir/checkpoint` every `saveSteps` rounds
   * and at the end, exact resume, the non-finite loss stop.
   *
   * @param options Resume, stop, logging.
   */
  async train(options: GroupTrainOptions = {}): Promise<OnlineLoopResult<GroupStats>> {
    const c = this.config;
    const onStep = options.onStep;
    const tok = this.#parts.tokenizer;
    const decode = options.decode ??
      ((ids: number[]) => tok.decode(ids, { skipSpecialTokens: true }));
    return await runOnlineLoop<GroupStats, ScoredRewards>({
      name: this.name,
      label: this.label,
      stateKey: this.label,
      trainer: this,
      batchSize: this.sizes.promptsPerStep,
      batchSizeName: "batchSize × stepsPerGeneration / numGenerations",
      samplesPerQuery: c.numGenerations,
      seed: c.seed,
      queries: this.#prompts,
      generate: (queries, ctx) => this.#sample(queries, ctx),
      reward: (queries, responses) => this.score(queries, responses),
      update: (queries, responses, scored) => this.step(queries, responses, scored),
      metrics: (stats) => stats,
      distributions: (_stats, scored) => ({
        reward_dist: scored.total.filter((r) => !Number.isNaN(r)),
      }),
      samples: (queries, responses, scored, _stats, count) =>
        queries.slice(0, count).map((q, i) => ({
          prompt: decode(q),
          completion: decode(responses[i]),
          reward: scored.total[i],
        })),
      config: { [this.label]: c },
      line: (step, total, m) =>
        onlineStatsLine(
          this.label,
          step,
          total,
          (["reward", "kl", "entropy", "completions/mean_length"] as const).map((
            k,
          ) => [k, m[k]]),
          m["time/step"],
        ),
      progressMetrics: ["reward", "kl"],
      steps: this.totalSteps,
      outputDir: c.outputDir ?? undefined,
      checkpointEvery: c.saveSteps,
      resume: options.resume,
      model: trainableParameters(this.model),
      scheduler: this.scheduler,
      generators: options.generators,
      log: options.log,
      onStep: onStep &&
        ((info) =>
          onStep({
            step: info.step,
            stats: info.stats,
            prompts: info.queries,
            completions: info.responses,
          })),
      shouldStop: options.shouldStop,
      progress: options.progress ?? this.#parts.progressSink,
      reportTo: options.reportTo ?? c.reportTo,
      logSamplesEvery: options.logSamplesEvery,
      logSamplesCount: options.logSamplesCount,
    });
  }

  /**
   * Score completions with the reward functions: each sees the prompt and completion decoded
   * together, and the context (texts and ids apart).
   *
   * @param prompts Prompt token rows.
   * @param completions Completion token rows.
   */
  score(prompts: number[][], completions: number[][]): Promise<ScoredRewards> {
    const tok = this.#parts.tokenizer;
    const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
    return scoreWithRewardFunctions(
      this.rewardFuncs,
      this.rewardWeights,
      prompts.map((p, i) => decode([...p, ...completions[i]])),
      {
        prompts: prompts.map(decode),
        completions: completions.map(decode),
        promptIds: prompts,
        completionIds: completions,
      },
    );
  }

  async #sample(queries: number[][], ctx: OnlineStepContext): Promise<number[][]> {
    const c = this.config;
    const sampling: GroupSampling = {
      maxNewTokens: c.maxCompletionLength,
      temperature: c.temperature,
      topK: c.topK,
      topP: c.topP,
      generator: ctx.generator,
    };
    if (this.#parts.generate) return await this.#parts.generate(queries, sampling);
    if (typeof this.model.generate !== "function") {
      throw new Error(
        `${this.name}: the model has no generate(); pass parts.generate, a sampler of your own`,
      );
    }
    const wasTraining = (this.model as { training?: boolean }).training;
    this.model.eval?.();
    try {
      const { tokens } = await this.model.generate(queries, { doSample: true, ...sampling });
      return tokens;
    } finally {
      if (wasTraining) this.model.train?.();
    }
  }

  #checkBatch(prompts: number[][], completions: number[][], rewards: GroupRewards): number[][] {
    const n = this.sizes.generationBatchSize;
    for (const [what, list] of [["prompts", prompts], ["completions", completions]] as const) {
      if (list.length !== n) {
        throw new Error(
          `${this.name}.step: ${what} has ${list.length} rows but a generation round has ` +
            `batchSize × stepsPerGeneration = ${n}`,
        );
      }
    }
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new Error(`${this.name}.step: prompt ${i} is empty`);
    });
    completions.forEach((r, i) => {
      if (r.length === 0) {
        throw new Error(`${this.name}.step: completion ${i} is empty; a completion needs a token`);
      }
    });
    const perFunction = "perFunction" in rewards
      ? rewards.perFunction
      : rewards.map((scores) => scores.map((s) => (s === null ? NaN : s)));
    if (perFunction.length !== this.rewardFuncs.length) {
      throw new Error(
        `${this.name}.step: rewards for ${perFunction.length} reward functions, but the trainer ` +
          `has ${this.rewardFuncs.length}`,
      );
    }
    perFunction.forEach((scores, f) => {
      if (scores.length !== n) {
        throw new Error(
          `${this.name}.step: reward function ${f} has ${scores.length} scores for ${n} completions`,
        );
      }
      scores.forEach((s, i) => {
        if (!(Number.isFinite(s) || Number.isNaN(s))) {
          throw new Error(`${this.name}.step: reward ${f} of completion ${i} is ${s}`);
        }
      });
    });
    checkScorableGroups(
      this.name,
      weightedRewards(perFunction, this.rewardWeights),
      this.config.numGenerations,
    );
    return perFunction;
  }

  async #update(
    prompts: number[][],
    completions: number[][],
    perFunction: number[][],
    held: Tensor[],
  ): Promise<GroupStats> {
    const c = this.config;
    const n = prompts.length;
    const backend = this.#trainable[0].backend.name;
    const packed = packRollout(prompts, completions, this.#padTokenId);
    const truncated = completions.map((r) => {
      const last = r[r.length - 1];
      return last !== this.#eosTokenId && last !== this.#padTokenId;
    });
    const maskRows = packed.responseMask.map((row, i) =>
      c.maskTruncatedCompletions && truncated[i] ? row.map(() => 0) : row
    );
    const numItems = maskRows.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    const ids = keep(tensor(packed.inputIds, undefined, { backend }));
    const att = keep(tensor(packed.attentionMask, undefined, { backend }));
    const mask = keep(tensor(maskRows, undefined, { backend }));
    held.push(ids, att, mask);

    // The rollout's constants: log-probs at sampling time and under the reference.
    this.model.train?.();
    const needOld = this.needsOldLogprobs();
    const reference = this.reference;
    const temperature = { temperature: c.temperature };
    let oldLogprobs: Tensor | null = null, refLogprobs: Tensor | null = null;
    if (needOld || reference) {
      const parts = noGrad(() =>
        byChunks(n, c.batchSize, (start, count) => {
          const take = (t: Tensor) => slice(t, [start, 0], [count, t.shape[1]]);
          const out: Record<string, Tensor> = {};
          if (needOld) {
            out.old = tokenLogprobs(this.model, take(ids), take(att), temperature).logprobs;
          }
          if (reference) out.ref = reference.logprobs(take(ids), take(att), temperature);
          return out;
        })
      );
      oldLogprobs = parts.old ? keep(parts.old) : null;
      refLogprobs = parts.ref ? keep(parts.ref) : null;
      for (const t of [oldLogprobs, refLogprobs]) if (t) held.push(t);
      this.model.train?.();
    }
    const rollout: GroupRollout = {
      rows: n,
      inputIds: ids,
      attentionMask: att,
      mask,
      oldLogprobs,
      refLogprobs,
      perFunction,
      numItems,
    };
    const { advantages, metrics: roundMetrics } = await this.advantages(rollout);
    const adv = keep(tensor(advantages, [n], { backend }));
    held.push(adv);

    // TRL shuffles a round's completions once, and every pass reuses that order.
    const order = this.#rng.permutation(n);
    const lr = Number(this.optimizer.paramGroups[0].lr);
    const result = await runMinibatches({
      rows: n,
      epochs: c.numIterations,
      miniBatchSize: c.batchSize,
      gradientAccumulationSteps: c.gradientAccumulationSteps,
      order: () => order,
      maxGradNorm: c.maxGradNorm,
    }, {
      where: `${this.name} (loss)`,
      step: this.currentStep + 1,
      lastStats: this.#lastStats,
      params: this.#trainable,
      optimizer: this.optimizer,
      scheduler: this.scheduler,
      loss: (rows) => {
        const take = (t: Tensor) => gatherRows(t, rows);
        const current = tokenLogprobs(this.model, take(ids), take(att), {
          ...temperature,
          entropy: true,
        });
        const out = this.loss(rollout, rows, current.logprobs, take(adv));
        const m = take(mask);
        // TRL logs the entropy of the sampling distribution over the completion tokens.
        const entropy = noGrad(() => div(sum(mul(current.entropy!, m)), maximum(sum(m), 1)));
        return { loss: out.loss, stats: { ...out.stats, loss: out.loss, entropy } };
      },
    }, held);

    // One readback for every statistic of the step.
    const tensors = [...result.stats.flatMap((s) => Object.values(s)), ...result.gradNorms];
    const values = await readBack(tensors);
    let k = 0;
    const perMicroBatch = result.stats.map((s) => {
      const read: Record<string, Float32Array> = {};
      for (const key of Object.keys(s)) read[key] = values[k++];
      return read;
    });
    const gradNorms = result.gradNorms.map(() => values[k++][0]);

    const accum = c.gradientAccumulationSteps;
    const stepLosses: number[] = [];
    perMicroBatch.forEach((v, i) => {
      if (i % accum === 0) stepLosses.push(0);
      stepLosses[stepLosses.length - 1] += v.loss[0];
    });
    const micro: Record<string, number>[] = perMicroBatch.map((v) => ({
      entropy: v.entropy[0],
      ...this.microBatchMetrics(v),
    }));
    const averaged: Record<string, number> = {};
    for (const key of Object.keys(micro[0])) {
      averaged[key] = nanMean(micro.map((m) => m[key]));
    }
    const lengths = completions.map((r) => r.length);
    const terminated = lengths.filter((_, i) => !truncated[i]);
    const promptTokens = prompts.reduce((s, p) => s + p.length, 0);
    this.#numTokens += promptTokens + lengths.reduce((a, b) => a + b, 0);
    const weighted = weightedRewards(perFunction, this.rewardWeights);
    const stats: GroupStats = {
      loss: stepLosses.reduce((a, b) => a + b, 0) / stepLosses.length,
      ...(gradNorms.length > 0
        ? { grad_norm: gradNorms.reduce((a, b) => a + b, 0) / gradNorms.length }
        : {}),
      learning_rate: lr,
      num_tokens: this.#numTokens,
      "completions/mean_length": mean(lengths),
      "completions/min_length": Math.min(...lengths),
      "completions/max_length": Math.max(...lengths),
      "completions/clipped_ratio": truncated.filter(Boolean).length / n,
      "completions/mean_terminated_length": terminated.length ? mean(terminated) : 0,
      "completions/min_terminated_length": terminated.length ? Math.min(...terminated) : 0,
      "completions/max_terminated_length": terminated.length ? Math.max(...terminated) : 0,
    };
    this.rewardFuncs.forEach(({ name }, f) => {
      stats[`rewards/${name}/mean`] = nanMean(perFunction[f]);
      stats[`rewards/${name}/std`] = nanStd(perFunction[f]);
    });
    stats.reward = nanMean(weighted);
    stats.reward_std = nanStd(weighted);
    Object.assign(stats, roundMetrics, averaged);
    return stats;
  }
}

/**
 * Read tensors back in one transfer; each comes back as its own array.
 *
 * @param tensors Tensors on one backend.
 */
export async function readBack(tensors: readonly Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const packed = tidy(() => concat(tensors.map((t) => reshape(t, [-1]))));
  const flat = await packed.toArray();
  packed.dispose();
  const out: Float32Array[] = [];
  let at = 0;
  for (const t of tensors) {
    out.push(flat.subarray(at, at + t.size));
    at += t.size;
  }
  return out;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function toRows(name: string, data: Rows<GroupPrompt> | Iterable<GroupPrompt>): Rows<GroupPrompt> {
  if (Array.isArray(data)) return data;
  const indexed = data as { length?: unknown; get?: unknown };
  if (typeof indexed.length === "number" && typeof indexed.get === "function") {
    return data as Rows<GroupPrompt>;
  }
  if (Symbol.iterator in Object(data)) return Array.from(data as Iterable<GroupPrompt>);
  throw new Error(`${name}: trainDataset must be an array, a Dataset or an iterable of prompts`);
}

function promptIds(name: string, p: GroupPrompt, i: number, tokenizer: GroupTokenizer): number[] {
  if (typeof p === "string") {
    if (!tokenizer.encode) {
      throw new Error(`${name}: prompt ${i} is text but the tokenizer has no encode()`);
    }
    const ids = tokenizer.encode(p);
    if (ids.length === 0) {
      throw new Error(`${name}: prompt ${i} (${JSON.stringify(p)}) has no tokens`);
    }
    return ids;
  }
  const ids = Array.isArray(p) ? p : (p as { inputIds?: unknown })?.inputIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((t) => Number.isInteger(t) && t >= 0)) {
    throw new Error(`${name}: prompt ${i} must be non-empty token ids, { inputIds } or text`);
  }
  return [...ids];
}
