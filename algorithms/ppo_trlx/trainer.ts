/**
 * trlX's PPO trainer (TRLX `trlx/trainer/accelerate_ppo_trainer.py` and the `learn` loop of
 * `accelerate_base_trainer.py`) on the policy of `./policy.ts`:
 *
 * 1. `addChunk` (make_experience, once per rollout chunk): policy and reference log-probs and
 *    values of the sampled tokens; scores clipped and scaled (`TrlxScoreScaler`); per-token
 *    rewards −β·log-ratio with the score on trlX's slice (`trlxTokenRewards`); stored elements.
 * 2. `learn` (once the collection holds `num_rollouts`): `ppo_epochs` passes, each over a fresh
 *    shuffle of the store in minibatches of `batch_size` (microbatches of `minibatch_size`): GAE
 *    and whitening per microbatch, trlX's loss, one optimizer and scheduler step per minibatch
 *    (one trlX step, `iter_count`); after each pass the KL controller is updated with the
 *    collection's mean KL and n_steps = `batch_size`. It stops at `total_steps`.
 *
 * @module
 */

import { detach, mul, slice, stack, type Tensor, tensor, tidy } from "../../core/mod.ts";
import type { Hyperparams, LambdaLR, Optimizer } from "../../core/optim/mod.ts";
import { Generator, type GeneratorState } from "../../core/random.ts";
import { NonFiniteLossError } from "../common/nonfinite.ts";
import { type AdapterSwitch, Reference } from "../common/reference.ts";
import { getAdvantagesAndReturns } from "./advantages.ts";
import {
  disposeTrlxBatch,
  hostLogprobsAndValues,
  padRows,
  trlxBatch,
  trlxLogprobsAndValues,
} from "./batch.ts";
import type { TrlxConfig } from "./config.ts";
import { AdaptiveKlController, type KlController, trlxKlController } from "./kl_controller.ts";
import { trlxPpoLoss } from "./loss.ts";
import { trlxOptimizer, trlxScheduler } from "./optim.ts";
import type { TrlxPolicy } from "./policy.ts";
import { type TrlxSampleScore, TrlxScoreScaler, type TrlxScoreScalerState } from "./scores.ts";
import { trlxKlStats, trlxRolloutStats, trlxSliceRows, trlxTokenRewards } from "./token_rewards.ts";

/** One stored rollout (trlX's `PPORLElement`). */
export interface TrlxElement {
  /** The prompt row as its chunk padded it. */
  query: number[];
  /** The response row as its chunk padded it (seq2seq: `[pad] ++ output`). */
  response: number[];
  /** Log-probs at sampling time, on the reward slice. */
  logprobs: number[];
  /** Values at sampling time, on the reward slice. */
  values: number[];
  /** Per-token rewards. */
  rewards: number[];
}

/** What a resume needs besides weights, optimizer and scheduler. */
export interface TrlxTrainerState {
  /** Rollout collections completed (the online loop's steps). */
  collections: number;
  /** trlX's `iter_count`: optimizer steps taken. */
  iterCount: number;
  /** β. */
  klCoef: number;
  /** Score scaling statistics. */
  scores: TrlxScoreScalerState;
  /** The minibatch-shuffling generator. */
  rng: GeneratorState;
}

/** Statistics of one trlX step (an optimizer step), under trlX's names, with `step`. */
export type TrlxStepRecord = Record<string, number>;

/** Called after each optimizer step, e.g. to evaluate; may add to the record. */
export type TrlxAfterStep = (record: TrlxStepRecord) => Promise<void> | void;

/** trlX's PPO on a {@link TrlxPolicy}. */
export class TrlxPpoTrainer {
  /** Rollout collections completed. */
  collections = 0;
  /** trlX's `iter_count`. */
  iterCount = 0;
  /** The KL controller. */
  readonly klCtl: KlController;
  /** Score clipping and scaling. */
  readonly scores: TrlxScoreScaler;
  /** The optimizer named in the config. */
  readonly optimizer: Optimizer<Hyperparams>;
  /** The scheduler named in the config (stepped after each optimizer step). */
  readonly scheduler: LambdaLR;
  /** The reference: the frozen layers plus a frozen copy of the trained ones (or adapters off). */
  readonly reference: Reference<TrlxPolicy>;
  /** Rollouts of the current collection. */
  store: TrlxElement[] = [];
  /** Per-chunk statistics of the current collection. */
  #chunkStats: Record<string, number>[] = [];
  readonly #rng: Generator;
  readonly #trainable: Tensor[];
  #meanKl = 0;
  #lastRecord: TrlxStepRecord = {};

  /**
   * Sets up the reference copy, KL controller, score scaler, optimizer and scheduler.
   *
   * @param policy The policy (frozen layers already marked).
   * @param config The parsed config.
   * @param padTokenId The tokenizer's pad id (trlX's masks are `ids != pad`).
   * @param paddingSide The prompts' padding side.
   * @param adapters The policy's LoRA adapters (`model.peft_config`): with them off the policy is
   *   the reference, as trlX's `forward_hydra` under PEFT.
   */
  constructor(
    readonly policy: TrlxPolicy,
    readonly config: TrlxConfig,
    readonly padTokenId: number,
    readonly paddingSide: "left" | "right",
    adapters?: AdapterSwitch,
  ) {
    this.#trainable = policy.parameters().filter((p) => p.requiresGrad);
    if (this.#trainable.length === 0) {
      throw new Error("trlX PPO: the policy has no trainable parameter");
    }
    this.reference = adapters
      ? Reference.adaptersOff(policy, adapters)
      : Reference.frozenCopy(policy);
    this.klCtl = trlxKlController(config.method);
    this.scores = new TrlxScoreScaler(config.method);
    this.optimizer = trlxOptimizer(this.#trainable, config.optimizer);
    this.scheduler = trlxScheduler(this.optimizer, config.scheduler);
    this.#rng = new Generator(config.train.seed);
  }

  /** Collections completed (what the online loop counts as steps). */
  get currentStep(): number {
    return this.collections;
  }

  /** Frees the reference copy and the optimizer state. */
  dispose(): void {
    this.reference.dispose();
    (this.optimizer as { dispose?: () => void }).dispose?.();
  }

  /**
   * make_experience for one chunk: stores one element per sample and returns the chunk's
   * statistics (`rollout_scores/*`, `policy/sqrt_kl`, `policy/kl_per_token`).
   *
   * @param prompts Prompt rows (unpadded).
   * @param outputs Generated rows (unpadded, EOS included when generated).
   * @param rawScores The reward function's score per sample.
   */
  async addChunk(
    prompts: readonly (readonly number[])[],
    outputs: readonly (readonly number[])[],
    rawScores: readonly TrlxSampleScore[],
  ): Promise<Record<string, number>> {
    const pad = this.padTokenId;
    const arch = this.policy.arch;
    const queries = padRows(prompts, pad, this.paddingSide);
    const responses = padRows(
      outputs.map((o) => (arch === "seq2seq" ? [pad, ...o] : [...o])),
      pad,
      "right",
    );
    const processed = this.scores.process(rawScores);
    // The chunk is padded as one (trlX's layout), then run through the models in slices of
    // `minibatch_size` (else `batch_size`) rows: the same numbers, a bounded logits tensor.
    const step = this.config.train.minibatch_size ?? this.config.train.batch_size;
    const policy = { logprobs: [] as number[][], values: [] as number[][] };
    const ref = { logprobs: [] as number[][] };
    let mask: number[][] = [], start = 0;
    for (let i = 0; i < queries.length; i += step) {
      const batch = trlxBatch(
        arch,
        queries.slice(i, i + step),
        responses.slice(i, i + step),
        pad,
        this.policy.backend,
      );
      try {
        const p = await hostLogprobsAndValues(this.policy, batch);
        const r = await this.reference.run((m) => hostLogprobsAndValues(m, batch));
        policy.logprobs.push(...p.logprobs);
        policy.values.push(...p.values);
        ref.logprobs.push(...r.logprobs);
        mask = mask.concat(batch.mask);
        start = batch.start;
      } finally {
        disposeTrlxBatch(batch);
      }
    }
    const r = trlxTokenRewards({
      logprobs: policy.logprobs,
      refLogprobs: ref.logprobs,
      attentionMask: mask,
      start,
      klCoef: this.klCtl.value,
      scores: processed,
    });
    const lps = trlxSliceRows(policy.logprobs, start, r.ends);
    const vs = trlxSliceRows(policy.values, start, r.ends);
    queries.forEach((query, b) =>
      this.store.push({
        query,
        response: responses[b],
        logprobs: lps[b],
        values: vs[b],
        rewards: r.rewards[b],
      })
    );
    const stats = { ...processed.stats, ...trlxKlStats(r) };
    this.#chunkStats.push(stats);
    return stats;
  }

  /**
   * Closes the collection: averages the chunks' statistics (trlX's `make_experience` log, with
   * `kl_ctl_value`) and fixes the mean KL the controller will see.
   */
  finishCollection(): Record<string, number> {
    const { stats, meanKl } = trlxRolloutStats(this.#chunkStats);
    this.#chunkStats = [];
    this.#meanKl = meanKl;
    return { ...stats, kl_ctl_value: this.klCtl.value };
  }

  /** Optimizer steps one full collection takes (trlX's `ppo_epochs · len(train_dataloader)`). */
  stepsPerCollection(rollouts: number): number {
    return this.config.method.ppo_epochs * Math.ceil(rollouts / this.config.train.batch_size);
  }

  /**
   * The PPO passes over the stored collection (see the module notes), up to `totalSteps`
   * optimizer steps in all; the store is cleared afterwards.
   *
   * @param totalSteps trlX's `total_steps` (already capped as trlX caps it).
   * @param afterStep Called with each step's record (evaluation adds `reward/mean` there).
   * @returns The records of the steps taken.
   */
  async learn(totalSteps: number, afterStep?: TrlxAfterStep): Promise<TrlxStepRecord[]> {
    const { batch_size: batchSize } = this.config.train;
    const micro = this.config.train.minibatch_size ?? batchSize;
    const records: TrlxStepRecord[] = [];
    const n = this.store.length;
    try {
      for (let epoch = 0; epoch < this.config.method.ppo_epochs; epoch++) {
        const order = this.#rng.permutation(n);
        for (let start = 0; start < n; start += batchSize) {
          if (this.iterCount >= totalSteps) return records;
          const rows = order.slice(start, start + batchSize);
          const record = this.#update(rows, micro);
          this.iterCount++;
          record.step = this.iterCount;
          await afterStep?.(record);
          this.#lastRecord = record;
          records.push(record);
          // trlX returns at total_steps at once, before the pass's KL update.
          if (this.iterCount >= totalSteps) return records;
        }
        this.klCtl.update(this.#meanKl, batchSize);
      }
      return records;
    } finally {
      this.store = [];
      this.collections++;
    }
  }

  /** One optimizer step on the store's `rows`, in microbatches; returns its statistics. */
  #update(rows: readonly number[], micro: number): TrlxStepRecord {
    const numMb = Math.ceil(rows.length / micro);
    let forward = 0, backward = 0;
    const sums: Record<string, number> = {};
    const method = this.config.method;
    try {
      for (let m = 0; m < numMb; m++) {
        const elems = rows.slice(m * micro, (m + 1) * micro).map((i) => this.store[i]);
        const t0 = performance.now();
        const stats = tidy(() => {
          const b = this.#collate(elems);
          const { logprobs, values } = trlxLogprobsAndValues(this.policy, b.batch);
          const [B] = logprobs.shape;
          const T = b.width;
          const cut = (t: Tensor) => slice(t, [0, b.batch.start], [B, T]);
          const { advantages, returns } = getAdvantagesAndReturns(b.oldValues, b.rewards, {
            gamma: method.gamma,
            lam: method.lam,
          });
          const out = trlxPpoLoss({
            logprobs: cut(logprobs),
            values: cut(values),
            oldLogprobs: b.oldLogprobs,
            oldValues: b.oldValues,
            advantages,
            returns,
            mask: b.mask,
          }, {
            cliprange: method.cliprange,
            cliprangeValue: method.cliprange_value,
            vfCoef: method.vf_coef,
          });
          // One readback for the loss and every statistic, not one each.
          const names = Object.keys(out.stats);
          const read = stack([out.loss, ...names.map((k) => out.stats[k])].map(detach))
            .toFloat64ArraySync();
          const loss = read[0];
          if (!Number.isFinite(loss)) {
            throw new NonFiniteLossError(
              "trlX PPO",
              this.iterCount + 1,
              loss,
              this.#lastRecord,
              false,
            );
          }
          const t1 = performance.now();
          forward += t1 - t0;
          // Accelerate divides each microbatch's loss by the accumulation steps.
          (numMb > 1 ? mul(out.loss, 1 / numMb) : out.loss).backward();
          backward += performance.now() - t1;
          disposeTrlxBatch(b.batch);
          return Object.fromEntries(names.map((k, i) => [k, read[i + 1]]));
        });
        for (const [k, v] of Object.entries(stats)) sums[k] = (sums[k] ?? 0) + v / numMb;
      }
      this.optimizer.step();
      this.scheduler.step();
    } finally {
      this.optimizer.zeroGrad();
    }
    const record: TrlxStepRecord = { ...sums };
    record["time/forward"] = forward / numMb / 1000;
    record["time/backward"] = backward / numMb / 1000;
    this.scheduler.lastLr().forEach((lr, i) => record[`learning_rate_group_${i}`] = lr);
    return record;
  }

  /** trlX's `PPORolloutStorage.collate` and the loss's slicing, as tensors. */
  #collate(elems: readonly TrlxElement[]) {
    const pad = this.padTokenId;
    const backend = this.policy.backend;
    const queries = padRows(elems.map((e) => e.query), pad, this.paddingSide);
    const responses = padRows(elems.map((e) => e.response), pad, "right");
    const width = Math.max(...elems.map((e) => e.rewards.length));
    const B = elems.length;
    const floats = (pick: (e: TrlxElement) => number[]) =>
      tensor(padRows(elems.map(pick), 0, "right", width).flat(), [B, width], { backend });
    const batch = trlxBatch(this.policy.arch, queries, responses, pad, backend);
    const s = batch.start;
    const mask = batch.mask.map((row) => row.slice(s + 1, s + 1 + width));
    return {
      batch,
      width,
      oldLogprobs: floats((e) => e.logprobs),
      oldValues: floats((e) => e.values),
      rewards: floats((e) => e.rewards),
      mask: tensor(mask.flat(), [B, width], { backend }),
    };
  }

  /** Collections, steps, β, score statistics and the shuffling generator. */
  stateDict(): TrlxTrainerState {
    return {
      collections: this.collections,
      iterCount: this.iterCount,
      klCoef: this.klCtl.value,
      scores: this.scores.stateDict(),
      rng: this.#rng.getState(),
    };
  }

  /**
   * Restores what {@link stateDict} returned.
   *
   * @param state A saved state.
   */
  loadStateDict(state: TrlxTrainerState): void {
    this.collections = state.collections;
    this.iterCount = state.iterCount;
    if (this.klCtl instanceof AdaptiveKlController) this.klCtl.value = state.klCoef;
    else if (state.klCoef !== this.klCtl.value) {
      throw new Error(
        `trlX PPO: the checkpoint's KL coefficient is ${state.klCoef} but method.init_kl_coef ` +
          `is ${this.klCtl.value} with target null (fixed); resume with the saved config`,
      );
    }
    this.scores.loadStateDict(state.scores);
    this.#rng.setState(state.rng);
    this.store = [];
    this.#chunkStats = [];
  }
}
