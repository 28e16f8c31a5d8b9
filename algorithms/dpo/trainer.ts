/**
 * `DPOTrainer`: Direct Preference Optimization on (prompt, chosen, rejected) rows, as text,
 * conversations or token ids (see `data.ts`), with any loss of `dpoLoss`. Completion log-probs
 * are summed with `modelSequenceLogps` (chosen and rejected rows run in one forward; a model with
 * `outputEmbeddings()` is scored through the fused, chunked LM head, so no [rows, L, V] logits
 * exist for the policy or the reference). The reference is a separate model, the policy with its
 * adapters switched off, or log-probs precomputed once before training.
 *
 * @module
 */

import { z } from "zod";
import { concat, mean, noGrad, reshape, slice, type Tensor, tensor, tidy } from "../../core/mod.ts";
import {
  type TrainerConfigInput,
  TRAINING_ARGS_CONFIG,
  type TrainingArgs,
} from "../common/args.ts";
import type { ConfigParser } from "../common/config_schema.ts";
import { padRight, type Rows } from "../common/batching.ts";
import { requireRows, type TextTokenizer } from "../common/text_rows.ts";
import {
  type CausalLM,
  type MicroBatchResult,
  TrainerBase,
  type TrainerParts,
} from "../common/trainer.ts";
import { type AdapterSwitch, Reference } from "../common/reference.ts";
import { LABEL_PAD_TOKEN_ID, modelSequenceLogps } from "./logps.ts";
import { DPO_LOSS_TYPES, dpoLoss, type DpoLossType, dpoMetrics, type PairLogps } from "./loss.ts";
import {
  DPO_LENGTH_DEFAULTS,
  type DpoLengthLimits,
  type DpoPairRows,
  preferencePairs,
  type PreferenceRow,
  type TruncationMode,
} from "./data.ts";

/** The policy: a causal LM, optionally with adapters that can be switched off. */
export interface DpoPolicy extends CausalLM {
  /** Runs `fn` with LoRA adapters off, so the frozen base serves as the reference model. */
  withAdaptersDisabled?<T>(fn: () => T): T;
}

/**
 * Settings of {@link DPOTrainer}: the shared training args plus DPO's (TRL 0.28's `DPOConfig`,
 * camelCased). Every field is also accepted under its snake_case spelling (`loss_type`,
 * `max_prompt_length`) and TRL's name where that differs (`precompute_ref_log_probs`).
 */
export interface DPOConfig extends Partial<TrainingArgs> {
  /** β, the strength of the implicit KL constraint (default 0.1). */
  beta?: number;
  /** The loss (default `sigmoid`; see `DPO_LOSS_TYPES`); TRL's one-element list is accepted. */
  lossType?: DpoLossType;
  /** ε for cDPO / robust / exo_pair, in [0, 0.5) (default 0). */
  labelSmoothing?: number;
  /** Ignore the reference (its log-probs count as 0). */
  referenceFree?: boolean;
  /** τ of `discopop` (default 0.05). */
  discopopTau?: number;
  /**
   * Tokens of prompt + completion per row, cut by `truncationMode` (default 1024, TRL's; null:
   * no limit). A pair left without a completion token is dropped and counted.
   */
  maxLength?: number | null;
  /** Tokens of the prompt, its last ones kept (default 512, TRL 0.28's; null: no limit). */
  maxPromptLength?: number | null;
  /** Tokens of each completion, its first ones kept (default: no limit). */
  maxCompletionLength?: number | null;
  /** `keep_end` (default, TRL's) cuts a long row's start; `keep_start` its end. */
  truncationMode?: TruncationMode;
  /**
   * Compute the reference log-probs of every pair once before training (from `refModel`, the
   * adapters-off policy, or the untrained policy itself) and keep them, with the checkpoint.
   */
  precomputeRefLogps?: boolean;
}

export type { AdapterSwitch };

const nullableInt = (min: number) =>
  z.number().int().min(min).nullable().describe(`an integer >= ${min}, or null for no limit`)
    .optional();

/** TRL's names of DPO settings that are not a field's snake_case spelling. */
export const DPO_TRL_NAMES = { precompute_ref_log_probs: "precomputeRefLogps" } as const;

/** What {@link DPOTrainer} accepts: {@link DPOConfig} under Tether's, snake_case or TRL's names. */
export type DPOConfigInput = TrainerConfigInput<DPOConfig, typeof DPO_TRL_NAMES>;

/** Validates {@link DPOConfig}s (the shared training args plus DPO's fields). */
export const DPO_CONFIG: ConfigParser<DPOConfig> = TRAINING_ARGS_CONFIG.extend<DPOConfig>(
  "DPOTrainer",
  {
    beta: z.number().gt(0).describe("a finite number > 0").optional(),
    lossType: z.union([
      z.enum(DPO_LOSS_TYPES),
      z.tuple([z.enum(DPO_LOSS_TYPES)]).transform(([t]) => t),
    ]).describe(
      `one of ${DPO_LOSS_TYPES.join(", ")} (one loss; combining several is not supported)`,
    )
      .optional(),
    labelSmoothing: z.number().min(0).lt(0.5).describe("a number in [0, 0.5)").optional(),
    referenceFree: z.boolean().describe("true or false").optional(),
    discopopTau: z.number().gt(0).describe("a number > 0").optional(),
    maxLength: nullableInt(2),
    maxPromptLength: nullableInt(1),
    maxCompletionLength: nullableInt(1),
    truncationMode: z.enum(["keep_end", "keep_start"]).describe(`"keep_end" or "keep_start"`)
      .optional(),
    precomputeRefLogps: z.boolean().describe("true or false").optional(),
  },
  {
    trlNames: DPO_TRL_NAMES,
    unsupported: {
      loss_weights: { reason: "one loss type per run", accepts: [null] },
      sync_ref_model: { reason: "the reference stays fixed (no TR-DPO sync)", accepts: [false] },
      rpo_alpha: { reason: "no RPO NLL term", accepts: [null] },
      use_weighting: { reason: "no WPO weighting", accepts: [false] },
      ld_alpha: { reason: "no LD-DPO length weighting", accepts: [null] },
      f_divergence_type: { reason: "the reverse KL of DPO only", accepts: ["reverse_kl"] },
      precompute_ref_batch_size: {
        reason: "precomputing uses evalBatchSize (per_device_eval_batch_size)",
        accepts: [null],
      },
      label_pad_token_id: { reason: "prompt and padding labels are -100", accepts: [-100] },
      padding_value: { reason: "pass parts.padTokenId", accepts: [null] },
      pad_token: {
        reason: "pass parts.padTokenId or a tokenizer with a pad token",
        accepts: [null],
      },
      generate_during_eval: { reason: "evaluation logs DPO's metrics only", accepts: [false] },
      disable_dropout: {
        reason: "dropout follows the model's train()/eval() mode; load the model with dropout 0 " +
          "to train without it",
        accepts: [false],
      },
      force_use_ref_model: { reason: "pass parts.refModel and it is used" },
      model_adapter_name: { reason: "pass the adapters as parts.adapters" },
      ref_adapter_name: { reason: "the reference is the adapters-off policy or parts.refModel" },
      ref_model_init_kwargs: {
        reason: "load the reference yourself and pass it as parts.refModel",
      },
      tools: { reason: "conversations are rendered without tools", accepts: [null] },
      use_logits_to_keep: { reason: "logits cover every position", accepts: [false] },
      pad_to_multiple_of: { reason: "batches pad to their longest row", accepts: [null] },
    },
  },
);

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
  /**
   * Training rows: token triples, or text rows (`prompt` / `chosen` / `rejected` strings or
   * conversations; without `prompt`, the shared start is the prompt) tokenized with
   * `tokenizer`.
   */
  trainDataset: Rows<PreferenceRow>;
  /** Rows for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<PreferenceRow>;
  /** Pad token id (default: the tokenizer's pad, else EOS, else 0; padding is masked). */
  padTokenId?: number;
  /**
   * Supplies the pad token id, and tokenizes text rows (`encode`, `eosTokenId`, and
   * `applyChatTemplate` for conversations).
   */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null } | TextTokenizer;
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
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const path = "examples/assets/tiny-imdb/policy";
 * const model = await loadCausalLM(path);
 * const refModel = await loadCausalLM(path); // or LoRA adapters, or precompute_ref_log_probs
 * const tokenizer = await loadTokenizer(path);
 * const pairs = [
 *   { prompt: "the plot was", chosen: " great fun.", rejected: " a mess." },
 *   { prompt: "the acting was", chosen: " superb.", rejected: " dull." },
 * ];
 * // TRL's names work as they are (TrainingArguments' and DPOConfig's).
 * const trainer = new DPOTrainer({
 *   beta: 0.1,
 *   loss_type: "sigmoid",
 *   learning_rate: 1e-4,
 *   per_device_train_batch_size: 2,
 *   max_steps: 3,
 * }, { model, refModel, trainDataset: pairs, tokenizer });
 * await trainer.train();
 * const metrics = await trainer.evaluate(pairs);
 * console.log(metrics["rewards/accuracies"], metrics["rewards/margins"]);
 * ```
 */
export class DPOTrainer extends TrainerBase<DpoPairRows, DpoPolicy> {
  /** DPO settings, resolved. */
  readonly dpoConfig: Readonly<
    {
      beta: number;
      lossType: DpoLossType;
      labelSmoothing: number;
      referenceFree: boolean;
      discopopTau: number;
      precomputeRefLogps: boolean;
    } & DpoLengthLimits
  >;
  readonly #tokenizer: DPOTrainerParts["tokenizer"];
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
  constructor(config: DPOConfigInput, parts: DPOTrainerParts) {
    const {
      beta = 0.1,
      lossType = "sigmoid",
      labelSmoothing = 0,
      referenceFree = false,
      discopopTau = 0.05,
      maxLength = DPO_LENGTH_DEFAULTS.maxLength,
      maxPromptLength = DPO_LENGTH_DEFAULTS.maxPromptLength,
      maxCompletionLength = DPO_LENGTH_DEFAULTS.maxCompletionLength,
      truncationMode = DPO_LENGTH_DEFAULTS.truncationMode,
      precomputeRefLogps = false,
      ...args
    } = DPO_CONFIG.parse(config);
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
    const limits = { maxLength, maxPromptLength, maxCompletionLength, truncationMode };
    const build = (name: string, rows: Rows<PreferenceRow>) => {
      const { pairs, report } = preferencePairs("DPOTrainer", name, rows, limits, parts.tokenizer);
      return { pairs: requireRows(`DPOTrainer: ${name}`, pairs, report), report };
    };
    const train = build("trainDataset", parts.trainDataset);
    const evalSet = parts.evalDataset ? build("evalDataset", parts.evalDataset) : undefined;
    super("DPOTrainer", parts.model, args, train.pairs, evalSet?.pairs, parts, {
      learningRate: 1e-6,
    });
    this.recordData([train.report, ...(evalSet ? [evalSet.report] : [])]);
    this.dpoConfig = Object.freeze({
      beta,
      lossType,
      labelSmoothing,
      referenceFree,
      discopopTau,
      ...limits,
      precomputeRefLogps,
    });
    this.#tokenizer = parts.tokenizer;
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
    const all = modelSequenceLogps(
      model,
      tensor(padded.ids, [2 * B, L], { backend }),
      tensor(padded.mask, [2 * B, L], { backend }),
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
   * @param triples Rows as `trainDataset` takes them (default: the eval dataset); pairs the
   *   length limits drop are left out.
   */
  async evaluate(triples?: Rows<PreferenceRow>): Promise<DpoEvalMetrics> {
    const rows = triples
      ? preferencePairs("DPOTrainer.evaluate", "pairs", triples, this.dpoConfig, this.#tokenizer)
        .pairs
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
