/**
 * `DPOTrainer`: Direct Preference Optimization on tokenized (prompt, chosen, rejected) triples,
 * with any loss of `dpoLoss`. Completion log-probs are summed with `sequenceLogps` (chosen and
 * rejected rows run in one forward). The reference is a separate model, the policy with its
 * adapters switched off, or log-probs precomputed once before training.
 *
 * @module
 */

import { concat, mean, noGrad, reshape, slice, type Tensor, tensor, tidy } from "../../core/mod.ts";
import type { TrainingArgs } from "../common/args.ts";
import { allRows, checkTokenRow, padRight, type Rows } from "../common/batching.ts";
import {
  type CausalLM,
  type MicroBatchResult,
  TrainerBase,
  type TrainerParts,
} from "../common/trainer.ts";
import { type AdapterSwitch, Reference } from "../common/reference.ts";
import { LABEL_PAD_TOKEN_ID, sequenceLogps } from "./logps.ts";
import { DPO_LOSS_TYPES, dpoLoss, type DpoLossType, dpoMetrics, type PairLogps } from "./loss.ts";

/** The policy: a causal LM, optionally with adapters that can be switched off. */
export interface DpoPolicy extends CausalLM {
  /** Runs `fn` with LoRA adapters off, so the frozen base serves as the reference model. */
  withAdaptersDisabled?<T>(fn: () => T): T;
}

/** One tokenized preference triple; completions exclude the prompt. */
export interface PreferenceTriple {
  /** Prompt token ids (start with BOS so the first completion token is scored). */
  prompt: number[];
  /** Preferred completion token ids. */
  chosen: number[];
  /** Dispreferred completion token ids. */
  rejected: number[];
}

/** Settings of {@link DPOTrainer}: the shared training args plus DPO's. */
export interface DPOConfig extends Partial<TrainingArgs> {
  /** β, the strength of the implicit KL constraint (default 0.1). */
  beta?: number;
  /** The loss (default `sigmoid`; see `DPO_LOSS_TYPES`). */
  lossType?: DpoLossType;
  /** ε for cDPO / robust / exo_pair (default 0). */
  labelSmoothing?: number;
  /** Ignore the reference (its log-probs count as 0). */
  referenceFree?: boolean;
  /** τ of `discopop` (default 0.05). */
  discopopTau?: number;
  /**
   * The model's context in tokens: completions are cut to fit after their prompt, and a prompt
   * that leaves no room is an error (default: no limit).
   */
  maxLength?: number | null;
  /**
   * Compute the reference log-probs of every pair once before training (from `refModel`, the
   * adapters-off policy, or the untrained policy itself) and keep them, with the checkpoint.
   */
  precomputeRefLogps?: boolean;
}

export type { AdapterSwitch };

/** Models, data and helpers of a {@link DPOTrainer}. */
export interface DPOTrainerParts extends TrainerParts {
  /** The policy being trained. */
  model: DpoPolicy;
  /** A frozen reference; omit it when the policy has adapters, or precompute. */
  refModel?: CausalLM;
  /**
   * The policy's adapters when they live on a separate handle (`applyLora`'s result): the
   * adapters-off policy is then the reference. Default: the policy's own `withAdaptersDisabled`.
   */
  adapters?: AdapterSwitch;
  /** Training triples. */
  trainDataset: Rows<PreferenceTriple>;
  /** Triples for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<PreferenceTriple>;
  /** Pad token id (default: the tokenizer's pad, else EOS, else 0; padding is masked). */
  padTokenId?: number;
  /** Supplies the pad token id. */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null };
}

/** What {@link DPOTrainer.evaluate} reports, averaged over pairs (TRL's names). */
export interface DpoEvalMetrics extends Record<string, number> {
  /** Mean DPO loss. */
  loss: number;
  /** Mean β·(log π − log π_ref) of chosen completions. */
  "rewards/chosen": number;
  /** The same for rejected completions. */
  "rewards/rejected": number;
  /** Fraction of pairs whose chosen reward is strictly larger. */
  "rewards/accuracies": number;
  /** Mean chosen − rejected reward. */
  "rewards/margins": number;
  /** Mean policy log-prob of chosen completions. */
  "logps/chosen": number;
  /** Mean policy log-prob of rejected completions. */
  "logps/rejected": number;
}

/** A pair as one forward sees it: prompt+completion rows with labels −100 on the prompt. */
export interface DpoPairRows {
  /** Prompt + chosen completion ids, and their labels. */
  chosen: { ids: number[]; labels: number[] };
  /** Prompt + rejected completion ids, and their labels. */
  rejected: { ids: number[]; labels: number[] };
}

interface RefLogps {
  chosen: number[];
  rejected: number[];
}

const METRIC_KEYS = [
  "rewards/chosen",
  "rewards/rejected",
  "rewards/accuracies",
  "rewards/margins",
  "logps/chosen",
  "logps/rejected",
] as const;

/**
 * DPO with TRL's loss catalogue and metric names: training logs `train/loss`,
 * `train/rewards/chosen`, `train/rewards/rejected`, `train/rewards/accuracies`,
 * `train/rewards/margins`, `train/logps/chosen`, `train/logps/rejected` (and the learning rate,
 * gradient norm, epoch); evaluation the same names under `eval/`.
 *
 * @example
 * ```ts
 * import { DPOTrainer } from "@tether/rlhf/dpo";
 * const trainer = new DPOTrainer({ beta: 0.1, learningRate: 5e-7, batchSize: 8, maxSteps: 500 }, {
 *   model: policy,
 *   refModel: reference, // or LoRA `adapters`, or precomputeRefLogps: true
 *   trainDataset: triples, // { prompt, chosen, rejected } token ids
 * });
 * await trainer.train();
 * console.log((await trainer.evaluate(heldOut))["rewards/accuracies"]);
 * ```
 */
export class DPOTrainer extends TrainerBase<DpoPairRows, DpoPolicy> {
  /** DPO settings, resolved. */
  readonly dpoConfig: Readonly<{
    beta: number;
    lossType: DpoLossType;
    labelSmoothing: number;
    referenceFree: boolean;
    discopopTau: number;
    maxLength: number | null;
    precomputeRefLogps: boolean;
  }>;
  /** π_ref: the reference model, the adapters-off policy, or (to precompute) the untrained policy. */
  readonly #reference: Reference<CausalLM> | null;
  readonly #padTokenId: number;
  readonly #precomputed = new WeakMap<object, RefLogps>();

  /**
   * Validate settings and every triple (errors name the index and the lengths).
   *
   * @param config Training args and DPO settings.
   * @param parts Policy, reference, datasets and optional optimizer, scheduler, tokenizer.
   */
  constructor(config: DPOConfig, parts: DPOTrainerParts) {
    const {
      beta = 0.1,
      lossType = "sigmoid",
      labelSmoothing = 0,
      referenceFree = false,
      discopopTau = 0.05,
      maxLength = null,
      precomputeRefLogps = false,
      ...args
    } = config;
    if (!(beta > 0 && Number.isFinite(beta))) {
      throw new Error(`DPOTrainer: beta must be a finite number > 0, got ${beta}`);
    }
    if (!DPO_LOSS_TYPES.includes(lossType)) {
      throw new Error(
        `DPOTrainer: unknown lossType '${lossType}'; use one of ${DPO_LOSS_TYPES.join(", ")}`,
      );
    }
    if (maxLength !== null && !(Number.isInteger(maxLength) && maxLength >= 2)) {
      throw new Error(`DPOTrainer: maxLength must be an integer >= 2 or null, got ${maxLength}`);
    }
    if (
      !referenceFree && !precomputeRefLogps && !parts.refModel && !parts.adapters &&
      !parts.model.withAdaptersDisabled
    ) {
      throw new Error(
        "DPOTrainer: no reference: pass refModel (a frozen copy of the starting policy), a policy " +
          "with adapters (withAdaptersDisabled), or precomputeRefLogps: true (the untrained policy " +
          "scores every pair once before training)",
      );
    }
    const build = (name: string, rows: Rows<PreferenceTriple>) =>
      allRows(rows).map((t, i) => pairRows(`DPOTrainer: ${name} pair ${i}`, t, maxLength));
    const train = build("trainDataset", parts.trainDataset);
    const evalRows = parts.evalDataset ? build("evalDataset", parts.evalDataset) : undefined;
    super("DPOTrainer", parts.model, args, train, evalRows, parts, { learningRate: 1e-6 });
    this.dpoConfig = Object.freeze({
      beta,
      lossType,
      labelSmoothing,
      referenceFree,
      discopopTau,
      maxLength,
      precomputeRefLogps,
    });
    const model = parts.model;
    const adapters = parts.adapters ??
      (model.withAdaptersDisabled
        ? { withAdaptersDisabled: <T>(fn: () => T) => model.withAdaptersDisabled!(fn) }
        : undefined);
    this.#reference = parts.refModel
      ? Reference.model(parts.refModel)
      : adapters
      ? Reference.adaptersOff<CausalLM>(model, adapters)
      : precomputeRefLogps
      ? Reference.initial<CausalLM>(model)
      : null;
    this.#padTokenId = parts.padTokenId ?? parts.tokenizer?.padTokenId ??
      parts.tokenizer?.eosTokenId ?? 0;
  }

  /** Summed (IPO: averaged) completion log-probs of chosen and rejected rows, [B] each. */
  #logps(model: CausalLM, batch: readonly DpoPairRows[]): { chosen: Tensor; rejected: Tensor } {
    const B = batch.length;
    const rows = [...batch.map((p) => p.chosen), ...batch.map((p) => p.rejected)];
    const padded = padRight(rows.map((r) => r.ids), this.#padTokenId);
    const L = padded.length;
    const labels = rows.flatMap((r) => [
      ...r.labels,
      ...Array(L - r.labels.length).fill(LABEL_PAD_TOKEN_ID),
    ]);
    const backend = this.model.parameters()[0]?.backend.name;
    const { logits } = model.forward({
      inputIds: tensor(padded.ids, [2 * B, L], { backend }),
      attentionMask: tensor(padded.mask, [2 * B, L], { backend }),
    });
    if (logits.rank !== 3 || logits.shape[0] !== 2 * B || logits.shape[1] !== L) {
      throw new Error(
        `DPOTrainer: the model returned logits [${logits.shape}] for input [${2 * B}, ${L}]; a ` +
          `causal LM must return [batch, length, vocab]`,
      );
    }
    const all = sequenceLogps(
      logits,
      tensor(labels, [2 * B, L], { backend }),
      this.dpoConfig.lossType === "ipo",
    );
    return { chosen: slice(all, [0], [B]), rejected: slice(all, [B], [B]) };
  }

  /** Reference log-probs of a batch (the untrained policy only while precomputing). */
  #refLogps(batch: readonly DpoPairRows[]): { chosen: Tensor; rejected: Tensor } {
    return noGrad(() => this.#reference!.run((m) => this.#logps(m, batch)));
  }

  /** Reference log-probs of every pair of `rows`, computed once and kept under `key`. */
  async #precompute(key: object, rows: readonly DpoPairRows[]): Promise<RefLogps> {
    const cached = this.#precomputed.get(key);
    if (cached) return cached;
    if (this.#reference?.kind === "initial" && this.globalStep > 0) {
      throw new Error(
        "DPOTrainer: reference log-probs for these pairs were not precomputed, and the policy has " +
          `been trained for ${this.globalStep} steps, so it no longer is the reference; pass them ` +
          "as the evalDataset (precomputed before training) or give a refModel",
      );
    }
    const out: RefLogps = { chosen: [], rejected: [] };
    const size = this.args.evalBatchSize;
    const wasTraining = (this.model as { training?: boolean }).training;
    this.model.eval?.();
    try {
      for (let start = 0; start < rows.length; start += size) {
        const batch = rows.slice(start, start + size);
        const packed = tidy(() => {
          const r = this.#refLogps(batch);
          return concat([r.chosen, r.rejected]);
        });
        const values = packed.backend.bytesPerElement === 8 && packed.backend.readSync
          ? packed.toFloat64ArraySync()
          : await packed.toArray();
        packed.dispose();
        out.chosen.push(...values.subarray(0, batch.length));
        out.rejected.push(...values.subarray(batch.length));
      }
    } finally {
      if (wasTraining !== false) this.model.train?.();
    }
    this.#precomputed.set(key, out);
    return out;
  }

  /** Precomputes the reference log-probs of the training and eval sets when asked to. */
  protected override async beforeTrain(): Promise<void> {
    if (!this.dpoConfig.precomputeRefLogps || this.dpoConfig.referenceFree) return;
    await this.#precompute(this.trainRows, this.trainRows as DpoPairRows[]);
    if (this.evalRows) await this.#precompute(this.evalRows, this.evalRows as DpoPairRows[]);
  }

  /** Precomputed reference log-probs travel with the checkpoint (the policy has moved on). */
  protected override trainerState(): Record<string, unknown> {
    const train = this.#precomputed.get(this.trainRows as DpoPairRows[]);
    const evalSet = this.evalRows
      ? this.#precomputed.get(this.evalRows as DpoPairRows[])
      : undefined;
    return { refLogps: train ? { train, eval: evalSet ?? null } : null };
  }

  /** Restores precomputed reference log-probs saved with a checkpoint. */
  protected override loadTrainerState(state: Record<string, unknown>): void {
    const saved = state.refLogps as { train: RefLogps; eval: RefLogps | null } | null | undefined;
    if (!saved) return;
    const check = (what: string, ref: RefLogps, n: number) => {
      if (ref.chosen.length !== n || ref.rejected.length !== n) {
        throw new Error(
          `DPOTrainer: the checkpoint's precomputed ${what} reference log-probs cover ` +
            `${ref.chosen.length} pairs, the ${what} set has ${n}`,
        );
      }
    };
    check("train", saved.train, this.trainRows.length);
    this.#precomputed.set(this.trainRows as DpoPairRows[], saved.train);
    if (saved.eval && this.evalRows) {
      check("eval", saved.eval, this.evalRows.length);
      this.#precomputed.set(this.evalRows as DpoPairRows[], saved.eval);
    }
  }

  /** Loss and metrics of one batch; `ref` gives reference log-probs when they are stored. */
  #lossAndMetrics(batch: readonly DpoPairRows[], ref: RefLogps | null, indices: readonly number[]) {
    const policy = this.#logps(this.model, batch);
    const backend = policy.chosen.backend.name;
    let refs: { chosen: Tensor; rejected: Tensor };
    if (this.dpoConfig.referenceFree) {
      refs = {
        chosen: tensor(batch.map(() => 0), [batch.length], { backend }),
        rejected: tensor(batch.map(() => 0), [batch.length], { backend }),
      };
    } else if (ref) {
      refs = {
        chosen: tensor(indices.map((i) => ref.chosen[i]), [batch.length], { backend }),
        rejected: tensor(indices.map((i) => ref.rejected[i]), [batch.length], { backend }),
      };
    } else refs = this.#refLogps(batch);
    const x: PairLogps = {
      chosen: policy.chosen,
      rejected: policy.rejected,
      refChosen: refs.chosen,
      refRejected: refs.rejected,
    };
    const out = dpoLoss(x, {
      beta: this.dpoConfig.beta,
      lossType: this.dpoConfig.lossType,
      labelSmoothing: this.dpoConfig.labelSmoothing,
      referenceFree: this.dpoConfig.referenceFree,
      discopopTau: this.dpoConfig.discopopTau,
    });
    return { loss: mean(out.losses), metrics: dpoMetrics(x, out) };
  }

  /** DPO loss of one micro-batch with TRL's metrics. */
  protected computeLoss(batch: DpoPairRows[], indices: number[]): MicroBatchResult {
    const ref = this.#precomputed.get(this.trainRows as DpoPairRows[]) ?? null;
    const { loss, metrics } = this.#lossAndMetrics(batch, ref, indices);
    return { loss, stats: metrics };
  }

  /**
   * TRL's DPO metrics and loss over `triples`, averaged over pairs, without gradients.
   *
   * @param triples Tokenized triples (default: the eval dataset).
   */
  async evaluate(triples?: Rows<PreferenceTriple>): Promise<DpoEvalMetrics> {
    const rows = triples
      ? allRows(triples).map((t, i) =>
        pairRows(`DPOTrainer.evaluate pair ${i}`, t, this.dpoConfig.maxLength)
      )
      : (this.evalRows as DpoPairRows[] | undefined);
    if (!rows || rows.length === 0) {
      throw new Error("DPOTrainer.evaluate: no pairs (pass some, or an evalDataset)");
    }
    const useStored = this.dpoConfig.precomputeRefLogps && !this.dpoConfig.referenceFree;
    const ref = useStored ? await this.#precompute(triples ?? rows, rows) : null;
    const size = this.args.evalBatchSize;
    const sums = new Map<string, number>();
    this.model.eval?.();
    try {
      for (let start = 0; start < rows.length; start += size) {
        const batch = rows.slice(start, start + size);
        const indices = batch.map((_, k) => start + k);
        const packed = noGrad(() =>
          tidy(() => {
            const { loss, metrics } = this.#lossAndMetrics(batch, ref, indices);
            return concat(
              [loss, ...METRIC_KEYS.map((k) => metrics[k])].map((t) => reshape(t, [1])),
            );
          })
        );
        const values = await packed.toArray();
        packed.dispose();
        ["loss", ...METRIC_KEYS].forEach((k, j) =>
          sums.set(k, (sums.get(k) ?? 0) + values[j] * batch.length)
        );
      }
    } finally {
      this.model.train?.();
    }
    const out: Record<string, number> = {};
    for (const [k, v] of sums) out[k] = v / rows.length;
    return out as DpoEvalMetrics;
  }
}

/** Checks one triple and builds its two rows (completions cut to fit `maxLength`). */
function pairRows(where: string, t: PreferenceTriple, maxLength: number | null): DpoPairRows {
  if (!t || typeof t !== "object") {
    throw new Error(`${where}: expected { prompt, chosen, rejected }`);
  }
  for (const field of ["prompt", "chosen", "rejected"] as const) {
    checkTokenRow(`${where} ${field}`, t[field]);
  }
  if (t.prompt.length === 0) {
    throw new Error(
      `${where}: the prompt is empty, so the first completion token would have no context to be ` +
        `scored from; start prompts with the BOS token`,
    );
  }
  for (const side of ["chosen", "rejected"] as const) {
    if (t[side].length === 0) throw new Error(`${where}: the ${side} completion is empty`);
  }
  if (maxLength !== null && t.prompt.length >= maxLength) {
    throw new Error(
      `${where}: the prompt has ${t.prompt.length} tokens but the model's context (maxLength) is ` +
        `${maxLength}, leaving no room for a completion; shorten or filter long prompts`,
    );
  }
  const room = maxLength === null ? Infinity : maxLength - t.prompt.length;
  const chosen = t.chosen.slice(0, room), rejected = t.rejected.slice(0, room);
  if (chosen.length === rejected.length && chosen.every((v, k) => v === rejected[k])) {
    const cut = chosen.length < t.chosen.length || rejected.length < t.rejected.length;
    throw new Error(
      `${where}: the chosen and rejected completions are identical (${chosen.length} tokens` +
        `${
          cut ? ` after cutting them to fit maxLength ${maxLength}` : ""
        }); DPO needs them to differ`,
    );
  }
  const row = (completion: number[]) => ({
    ids: [...t.prompt, ...completion],
    labels: [...t.prompt.map(() => LABEL_PAD_TOKEN_ID), ...completion],
  });
  return { chosen: row(chosen), rejected: row(rejected) };
}
