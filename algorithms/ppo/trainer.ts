/**
 * `PPOTrainer.step(queries, responses, scores)` with TRL 0.7.4's semantics (SPEC A.1–A.9):
 * rollout log-probs and values, per-token KL-penalized rewards, GAE, then `ppoEpochs` passes of
 * clipped-objective minibatch updates, the KL controller update and TRL's statistics.
 */

import {
  concat,
  keep,
  mean,
  mul,
  noGrad,
  reshape,
  slice,
  stack,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { Adam } from "../../core/optim/mod.ts";
import { Generator, type GeneratorState } from "../../core/random.ts";
import { NonFiniteLossError } from "../common/nonfinite.ts";
import { klPenalty } from "../common/kl.ts";
import { runMinibatches, type StepOptimizer } from "../common/online_update.ts";
import { type AdapterSwitch, type Reference, resolveReference } from "../common/reference.ts";
import {
  byChunks,
  gatherRows,
  packRollout,
  type PolicyModel,
  tokenLogprobs,
} from "../common/rollout.ts";
import { computeAdvantages } from "./advantages.ts";
import { makePPOConfig, type PPOConfigInput, type PPOConfigValues } from "./config.ts";
import { AdaptiveKlController, FixedKlController, type KlController } from "./kl_controller.ts";
import { ppoLoss } from "./loss.ts";
import { rewardsFromKl } from "./rewards.ts";
import { RunningMoments } from "./running_moments.ts";
import { scalarStats } from "./stats.ts";

export type { PolicyModel };

/** The optimizer interface PPO drives. */
export type PpoOptimizer = StepOptimizer;

/** Models and helpers of a trainer. */
export interface PPOTrainerParts<M extends PolicyModel = PolicyModel> {
  /**
   * The policy with a value head (forward → `{ logits, values }`). With LoRA, its adapters are
   * the trainable weights and switching them off gives the reference; otherwise every
   * trainable weight is tuned and the trainer keeps a frozen copy as the reference.
   */
  model: M;
  /** A separate frozen reference (default: adapters off, else a frozen copy of the policy). */
  refModel?: M;
  /** The policy's LoRA handle (`applyLora`'s result): adapters off = the reference. */
  adapters?: AdapterSwitch;
  /** Supplies the pad token id (GPT-2 pads with EOS, as TRL does). */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null };
  /** Pad token id, when no tokenizer is given. */
  padTokenId?: number;
  /** Side to pad rows on (TRL pads on the tokenizer's side; right by default). */
  paddingSide?: "left" | "right";
  /** Defaults to Adam(lr = learningRate) over the policy's trainable parameters, as TRL. */
  optimizer?: PpoOptimizer;
  /** Minibatch order per epoch; defaults to a seeded shuffle (replayable permutations in tests). */
  permutation?: (n: number, epoch: number) => number[];
  /** Called with warnings (negative KL, skipped batches); defaults to console.warn. */
  warn?: (message: string) => void;
}

/** Statistics of one step, under TRL's names (scalars, or arrays for distributions). */
export type PPOStats = Record<string, number | number[] | number[][]>;

/** What `PPOTrainer.stateDict()` returns: everything besides weights and optimizer a resume needs. */
export interface PPOTrainerState {
  /** Steps taken. */
  currentStep: number;
  /** The KL coefficient β after the last step. */
  klCoef: number;
  /** Running score moments. */
  runningMoments: { mean: number; var: number; std: number; count: number };
  /** The minibatch-shuffling generator. */
  rng: GeneratorState;
}

/** PPO with TRL 0.7.4's step semantics. */
export class PPOTrainer<M extends PolicyModel = PolicyModel> {
  /** Validated configuration. */
  readonly config: PPOConfigValues;
  /** KL coefficient controller. */
  readonly klCtl: KlController;
  /** Running score moments (score scaling). */
  readonly runningMoments: RunningMoments = new RunningMoments();
  /** Steps taken. */
  currentStep = 0;
  /** The reference π_ref: `refModel`, the adapters-off policy, or a frozen copy. */
  readonly reference: Reference<M>;
  readonly #parts: PPOTrainerParts<M>;
  readonly #trainable: Tensor[];
  readonly #optimizer: PpoOptimizer;
  readonly #ownsOptimizer: boolean;
  readonly #padTokenId: number;
  readonly #rng: Generator;
  readonly #warn: (message: string) => void;
  #lastStats: Record<string, number> = {};

  /**
   * Creates a trainer; the config is validated (errors name the field and value). The
   * reference is `refModel` when given, else the policy with its LoRA adapters off (`adapters`,
   * or the policy's own `withAdaptersDisabled`), else a frozen copy of the policy's trainable
   * weights taken here, before any update (TRL's `create_reference_model`).
   */
  constructor(config: PPOConfigInput | PPOConfigValues, parts: PPOTrainerParts<M>) {
    this.config = makePPOConfig({ ...config });
    const pad = parts.padTokenId ?? parts.tokenizer?.padTokenId ?? parts.tokenizer?.eosTokenId;
    if (pad === undefined || pad === null) {
      throw new Error("PPOTrainer: no pad token id: pass padTokenId or a tokenizer with one");
    }
    this.#padTokenId = pad;
    this.#parts = parts;
    this.#trainable = parts.model.parameters().filter((p) => p.requiresGrad);
    if (this.#trainable.length === 0) {
      throw new Error("PPOTrainer: the policy has no trainable parameter (requiresGrad)");
    }
    this.reference = resolveReference(parts.model, parts);
    this.klCtl = this.config.adapKlCtrl
      ? new AdaptiveKlController(this.config.initKlCoef, this.config.target, this.config.horizon)
      : new FixedKlController(this.config.initKlCoef);
    this.#ownsOptimizer = parts.optimizer === undefined;
    this.#optimizer = parts.optimizer ??
      new Adam(this.#trainable, { lr: this.config.learningRate });
    this.#rng = new Generator(this.config.seed);
    this.#warn = parts.warn ?? ((m) => console.warn(m));
  }

  /** The policy being trained. */
  get model(): M {
    return this.#parts.model;
  }

  /** The optimizer (the one passed in, or the Adam the trainer made), e.g. to checkpoint it. */
  get optimizer(): PpoOptimizer {
    return this.#optimizer;
  }

  /** Frees what the trainer made: a frozen reference copy and its own Adam's state. */
  dispose(): void {
    this.reference.dispose();
    if (this.#ownsOptimizer) (this.#optimizer as Adam).dispose();
  }

  /** Step counter, KL coefficient, running moments and shuffling state, as JSON-safe values. */
  stateDict(): PPOTrainerState {
    return {
      currentStep: this.currentStep,
      klCoef: this.klCtl.value,
      runningMoments: this.runningMoments.stateDict(),
      rng: this.#rng.getState(),
    };
  }

  /**
   * Restores what `stateDict()` returned, so the next `step()` is the one the saved run would
   * have taken (given the same weights and optimizer state).
   */
  loadStateDict(state: PPOTrainerState): void {
    if (!(Number.isInteger(state?.currentStep) && state.currentStep >= 0)) {
      throw new Error(
        `PPOTrainer.loadStateDict: currentStep must be an integer >= 0, got ${state?.currentStep}`,
      );
    }
    if (this.klCtl instanceof AdaptiveKlController) {
      this.klCtl.value = state.klCoef;
    } else if (state.klCoef !== this.klCtl.value) {
      throw new Error(
        `PPOTrainer.loadStateDict: the saved KL coefficient is ${state.klCoef} but this trainer's ` +
          `fixed coefficient is ${this.klCtl.value}; use the saved initKlCoef or adapKlCtrl`,
      );
    }
    this.#rng.setState(state.rng);
    this.runningMoments.loadStateDict(state.runningMoments);
    this.currentStep = state.currentStep;
    this.#lastStats = {};
  }

  /**
   * One PPO step on a batch of `batchSize` (query, response, score) triples.
   *
   * A non-finite loss or `objective/kl` throws {@link NonFiniteLossError}, and the KL controller
   * and `currentStep` are left as they were. Backends that read synchronously (CPU) check each
   * minibatch's loss before its backward pass: when no update of the step has been applied yet,
   * the running moments and shuffling state are restored too and the trainer is as after the
   * last good step (`afterUpdate` false). Otherwise the step's single readback finds it after its
   * optimizer updates (`afterUpdate` true): reload a checkpoint.
   */
  async step(
    queries: number[][],
    responses: number[][],
    scores: number[],
  ): Promise<PPOStats> {
    this.#checkBatch(queries, responses, scores);
    const before = { moments: this.runningMoments.stateDict(), rng: this.#rng.getState() };
    const held: Tensor[] = [];
    let stats: PPOStats;
    try {
      stats = await this.#update(queries, responses, scores, held);
    } catch (error) {
      if (error instanceof NonFiniteLossError && !error.afterUpdate) {
        this.runningMoments.loadStateDict(before.moments);
        this.#rng.setState(before.rng);
      }
      throw error;
    } finally {
      for (const t of held) if (!t.disposed) t.dispose();
    }
    for (const name of ["ppo/loss/total", "objective/kl"]) {
      const value = stats[name] as number;
      if (!Number.isFinite(value)) {
        throw new NonFiniteLossError(
          `PPOTrainer (${name})`,
          this.currentStep + 1,
          value,
          this.#lastStats,
          true,
        );
      }
    }
    this.klCtl.update(stats["objective/kl"] as number, queries.length);
    this.currentStep++;
    this.#lastStats = scalarStats(stats);
    return stats;
  }

  /**
   * The step's rollout, epochs and statistics. Tensors that outlive a scope go into `held`
   * (freed by the caller, also on failure).
   */
  async #update(
    queries: number[][],
    responses: number[][],
    scores: number[],
    held: Tensor[],
  ): Promise<PPOStats> {
    const cfg = this.config;
    const scaled = this.#scaleScores(scores);
    const backend = this.#trainable[0].backend.name;
    const packed = packRollout(
      queries,
      responses,
      this.#padTokenId,
      this.#parts.paddingSide ?? "right",
    );
    const B = queries.length;
    const klCoef = this.klCtl.value;
    const ids = tensor(packed.inputIds, undefined, { backend });
    const att = tensor(packed.attentionMask, undefined, { backend });
    const mask = keep(tensor(packed.responseMask, undefined, { backend }));
    held.push(ids, att, mask);

    // Rollout: old log-probs, values, reference log-probs; all constants for the epochs below.
    // Forward passes run in chunks of miniBatchSize rows, as TRL does, so full-vocabulary logits
    // never exist for the whole batch at once; only [rows, T] pieces outlive a chunk.
    this.#parts.model.eval?.();
    const rollout = noGrad(() =>
      tidy(() => {
        const chunk = byChunks(B, cfg.miniBatchSize, (start, rows) => {
          const take = (t: Tensor) => slice(t, [start, 0], [rows, t.shape[1]]);
          return this.#rolloutChunk(take(ids), take(att));
        });
        const { rewards, nonScoreReward } = rewardsFromKl(
          tensor(scaled, [B], { backend }),
          chunk.k,
          packed.lastIndex,
          klCoef,
        );
        const adv = computeAdvantages(chunk.values, rewards, mask, {
          gamma: cfg.gamma,
          lam: cfg.lam,
          whitenRewards: cfg.whitenRewards,
        });
        return {
          logprobs: chunk.logprobs,
          refLogprobs: chunk.refLogprobs,
          values: adv.values,
          advantages: adv.advantages,
          returns: adv.returns,
          nonScoreReward,
          klPerSeq: sum(mul(sub(chunk.logprobs, chunk.refLogprobs), mask), { axis: 1 }),
        };
      })
    );
    for (const t of Object.values(rollout)) held.push(keep(t));

    // PPO epochs over minibatches of the fixed rollout.
    const accum = cfg.gradientAccumulationSteps;
    const updates = await runMinibatches({
      rows: B,
      epochs: cfg.ppoEpochs,
      miniBatchSize: cfg.miniBatchSize,
      gradientAccumulationSteps: accum,
      order: (epoch) => this.#parts.permutation?.(B, epoch) ?? this.#rng.permutation(B),
      maxGradNorm: cfg.maxGradNorm,
    }, {
      where: "PPOTrainer (ppo/loss/total)",
      step: this.currentStep + 1,
      lastStats: this.#lastStats,
      params: this.#trainable,
      optimizer: this.#optimizer,
      loss: (rows) => {
        const take = (t: Tensor) => gatherRows(t, rows);
        const pol = tokenLogprobs(this.#parts.model, take(ids), take(att), { entropy: true });
        const out = ppoLoss({
          oldLogprobs: take(rollout.logprobs),
          values: take(rollout.values),
          entropy: pol.entropy!,
          vpreds: this.#valuesOf(pol.values),
          logprobs: pol.logprobs,
          mask: take(mask),
          advantages: take(rollout.advantages),
          returns: take(rollout.returns),
        }, {
          cliprange: cfg.cliprange,
          cliprangeValue: cfg.cliprangeValue,
          vfCoef: cfg.vfCoef,
          ratioThreshold: cfg.ratioThreshold,
        });
        return { loss: accum > 1 ? mul(out.loss, 1 / accum) : out.loss, stats: out.stats };
      },
      stopAfterEpoch: cfg.earlyStopping
        ? async (last) => (await last["policy/policykl"].item()) > 1.5 * cfg.targetKl
        : undefined,
    }, held);

    // One readback for everything the statistics need.
    return await this.#recordStats({
      queries,
      responses,
      scaled,
      klCoef,
      rollout,
      mask,
      statRows: updates.stats,
    });
  }

  /** Policy and reference passes over some rows: the small per-token results. */
  #rolloutChunk(ids: Tensor, att: Tensor) {
    const mode = this.config.klPenalty;
    // Only the `full` estimator needs whole distributions; the rest score through the fused head.
    const logits = mode === "full";
    const pol = tokenLogprobs(this.#parts.model, ids, att, { logits });
    const ref = this.reference.run((m) => tokenLogprobs(m, ids, att, { logits }));
    const full = logits ? { logits: pol.logits!, refLogits: ref.logits! } : undefined;
    return {
      logprobs: pol.logprobs,
      refLogprobs: ref.logprobs,
      values: this.#valuesOf(pol.values),
      k: klPenalty(pol.logprobs, ref.logprobs, mode, full),
    };
  }

  #valuesOf(values: Tensor | null): Tensor {
    if (!values) {
      throw new Error("PPOTrainer: the policy's forward returned no values; it needs a value head");
    }
    return values;
  }

  #checkBatch(queries: number[][], responses: number[][], scores: number[]): void {
    const B = this.config.batchSize;
    for (
      const [name, list] of [["queries", queries], ["responses", responses], [
        "scores",
        scores,
      ]] as const
    ) {
      if (list.length !== B) {
        throw new Error(
          `PPOTrainer.step: ${name} has ${list.length} entries but config.batchSize is ${B}; ` +
            `drop the last incomplete batch or change batchSize`,
        );
      }
    }
    queries.forEach((q, i) => {
      if (q.length === 0) throw new Error(`PPOTrainer.step: query ${i} is empty`);
    });
    responses.forEach((r, i) => {
      if (r.length === 0) {
        throw new Error(`PPOTrainer.step: response ${i} is empty; PPO needs at least one token`);
      }
    });
    scores.forEach((s, i) => {
      if (!Number.isFinite(s)) {
        throw new Error(`PPOTrainer.step: score ${i} is ${s}; scores must be finite numbers`);
      }
    });
  }

  #scaleScores(scores: number[]): number[] {
    const cfg = this.config;
    let s = scores.map(Math.fround);
    if (cfg.useScoreScaling) {
      this.runningMoments.update(s);
      const eps = 1.1920928955078125e-7;
      const { mean: mu, std } = this.runningMoments;
      s = s.map((x) =>
        Math.fround(
          cfg.useScoreNorm ? (x - mu) / Math.fround(std + eps) : x / Math.fround(std + eps),
        )
      );
    }
    if (cfg.scoreClip !== null) {
      const c = cfg.scoreClip;
      s = s.map((x) => Math.min(Math.max(x, -c), c));
    }
    return s;
  }

  async #recordStats(x: {
    queries: number[][];
    responses: number[][];
    scaled: number[];
    klCoef: number;
    rollout: Record<string, Tensor>;
    mask: Tensor;
    statRows: Record<string, Tensor>[];
  }): Promise<PPOStats> {
    const { rollout, mask } = x;
    const B = x.queries.length;
    const keys = Object.keys(x.statRows[0]);
    const packedStats = tidy(() => {
      const perKey = keys.map((k) => mean(stack(x.statRows.map((r) => r[k]))));
      const nsr = sum(mul(rollout.nonScoreReward, mask));
      const maskSum = sum(mask);
      const entropy = mean(sum(mul(rollout.logprobs, mask), { axis: 1 }));
      return concat([
        stack(perKey),
        stack([nsr, maskSum, entropy]),
        rollout.klPerSeq,
        reshape(rollout.logprobs, [-1]),
        reshape(rollout.refLogprobs, [-1]),
      ]);
    });
    // The one readback of the step: every statistic, packed into one vector.
    const v = await packedStats.toArray();
    packedStats.dispose();
    const T = mask.shape[1];
    const lpStart = keys.length + 3 + B;
    const logprobs = v.subarray(lpStart, lpStart + B * T);
    const refLogprobs = v.subarray(lpStart + B * T, lpStart + 2 * B * T);
    const rowsOf = (a: Float32Array) =>
      Array.from({ length: B }, (_, b) => Array.from(a.subarray(b * T, (b + 1) * T)));
    const stats: PPOStats = {};
    const klDist = Array.from(v.subarray(keys.length + 3, keys.length + 3 + B));
    const kl = klDist.reduce((a, b) => a + b, 0) / B;
    if (kl < -1) {
      this.#warn(
        `KL divergence is starting to become negative: ${kl.toFixed(2)} - this might be a ` +
          `precursor for failed training. Sometimes this happens because the generation kwargs ` +
          `are not correctly set. Please make sure that the generation kwargs are set correctly, ` +
          `or review your training hyperparameters.`,
      );
    }
    stats["objective/kl"] = kl;
    stats["objective/kl_dist"] = klDist;
    stats["objective/logprobs"] = rowsOf(logprobs);
    stats["objective/ref_logprobs"] = rowsOf(refLogprobs);
    stats["objective/kl_coef"] = x.klCoef;
    stats["objective/entropy"] = -v[keys.length + 2];
    stats["ppo/mean_non_score_reward"] = v[keys.length] / v[keys.length + 1];
    stats["ppo/mean_scores"] = meanOf(x.scaled);
    stats["ppo/std_scores"] = stdOf(x.scaled);
    const qLens = x.queries.map((q) => q.length), rLens = x.responses.map((r) => r.length);
    stats["tokens/queries_len_mean"] = meanOf(qLens);
    stats["tokens/queries_len_std"] = stdOf(qLens);
    stats["tokens/queries_dist"] = qLens;
    stats["tokens/responses_len_mean"] = meanOf(rLens);
    stats["tokens/responses_len_std"] = stdOf(rLens);
    stats["tokens/responses_dist"] = rLens;
    keys.forEach((k, i) => (stats[`ppo/${k}`] = v[i]));
    stats["ppo/val/var_explained"] = 1 - (stats["ppo/val/error"] as number) /
        (stats["ppo/returns/var"] as number);
    stats["ppo/learning_rate"] = this.config.learningRate;
    return stats;
  }
}

function meanOf(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Unbiased std, as torch.std. */
function stdOf(xs: readonly number[]): number {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
