/**
 * `SFTTrainer`: causal-LM fine-tuning. The loss is the mean next-token cross-entropy over
 * positions whose label is not −100: completion tokens only (prompt masked) or the whole text,
 * optionally with short examples packed into fixed-length blocks. A model with
 * `outputEmbeddings()` is scored through the fused, chunked LM head (no [B, L, V] logits, forward
 * or backward); others through their logits.
 *
 * @module
 */

import {
  argmax,
  concat,
  crossEntropy,
  div,
  equal,
  mul,
  neg,
  noGrad,
  reshape,
  slice,
  sub,
  sum,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { z } from "zod";
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
  type TrainCallOptions,
  TrainerBase,
  type TrainerParts,
  type TrainOutput,
} from "../common/trainer.ts";
import { RunWriter } from "../../report/run_files.ts";
import { nextTokenLogProbs, outputHead } from "../../models/next_token_logprobs.ts";
import { IGNORE_INDEX, type LmRow, packRows, type SftRow, sftRows } from "./data.ts";
import {
  checkGenerationEval,
  evaluateGeneration,
  type GeneratingModel,
  type GenerationEvalResult,
  type SftGenerationEval,
} from "./generation_eval.ts";

/**
 * Settings of {@link SFTTrainer}: the shared training args plus the SFT-specific ones (TRL's
 * `SFTConfig`, camelCased). Every field is also accepted under its snake_case spelling
 * (`max_length`, `completion_only_loss`, `dataset_text_field`).
 */
export interface SFTConfig extends Partial<TrainingArgs> {
  /**
   * Tokens kept per example (truncated from the end), or the block length when packing (examples
   * are then not truncated one by one); default 1024, TRL's.
   */
  maxLength?: number | null;
  /** Train only on completion tokens of prompt–completion examples (default true, as TRL). */
  completionOnlyLoss?: boolean;
  /** Pack examples into blocks of `maxLength` tokens (default false). */
  packing?: boolean;
  /** The field of text rows that holds the text (default `text`). */
  datasetTextField?: string;
}

/** What {@link SFTTrainer} accepts: {@link SFTConfig} under Tether's, snake_case or TRL's names. */
export type SFTConfigInput = TrainerConfigInput<SFTConfig>;

/** Validates {@link SFTConfig}s (the shared training args plus SFT's fields). */
export const SFT_CONFIG: ConfigParser<SFTConfig> = TRAINING_ARGS_CONFIG.extend<SFTConfig>(
  "SFTTrainer",
  {
    maxLength: z.number().int().min(2).nullable()
      .describe("an integer >= 2, or null for no limit").optional(),
    completionOnlyLoss: z.boolean().nullable()
      .describe("true, false, or null (TRL's auto: true)").optional(),
    packing: z.boolean().describe("true or false").optional(),
    datasetTextField: z.string().min(1).describe("a field name").optional(),
  },
  {
    unsupported: {
      assistant_only_loss: {
        reason: "the loss covers every token of a messages row (or the completion only)",
        accepts: [false],
      },
      packing_strategy: {
        reason: "packing concatenates rows and cuts blocks (TRL's wrapped strategy)",
        accepts: ["wrapped"],
      },
      eval_packing: { reason: "evaluation never packs", accepts: [false, null] },
      shuffle_dataset: { reason: "each epoch is shuffled from the seed", accepts: [false] },
      loss_type: { reason: "the loss is the token NLL", accepts: ["nll"] },
      eos_token: { reason: "the tokenizer's EOS ends each text", accepts: [null] },
      pad_token: {
        reason: "pass parts.padTokenId or a tokenizer with a pad token",
        accepts: [null],
      },
      chat_template_path: { reason: "the tokenizer's own chat template renders messages rows" },
      dataset_kwargs: { reason: "rows are read as given", accepts: [null] },
      pad_to_multiple_of: { reason: "batches pad to their longest row", accepts: [null] },
      activation_offloading: { reason: "activations stay in memory", accepts: [false] },
    },
  },
);

/** Model, data and helpers of an {@link SFTTrainer}. */
export interface SFTTrainerParts extends TrainerParts {
  /** The language model. */
  model: CausalLM;
  /**
   * Training examples: token ids (`{ inputIds }`, `{ prompt, completion }`), or text rows
   * (`{ text }`, `{ prompt, completion }` strings, `{ messages }`) tokenized with `tokenizer`.
   */
  trainDataset: Rows<SftRow>;
  /** Examples for `evalSteps` and `evaluate()`. */
  evalDataset?: Rows<SftRow>;
  /** Pad token id (default: the tokenizer's pad, else EOS, else 0; padding never takes loss). */
  padTokenId?: number;
  /**
   * Supplies the pad token id, and tokenizes text rows (`encode`, `eosTokenId`, and
   * `applyChatTemplate` for `messages`).
   */
  tokenizer?: { padTokenId?: number | null; eosTokenId?: number | null } | TextTokenizer;
  /**
   * Generation-based evaluation: at every evaluation (each `evalSteps` and the end of
   * `train()`), completions of these prompts are scored with ROUGE and logged as
   * `eval_rouge1`, `eval_rouge2`, `eval_rougeL`, `eval_rougeLsum`, `eval_gen_len` (the Hugging
   * Face Trainer's names). The model must have `generate`.
   */
  generationEval?: SftGenerationEval;
}

/**
 * What {@link SFTTrainer.evaluate} measures over all trained tokens of a set; with a
 * `generationEval`, also `eval_rouge1`, `eval_rouge2`, `eval_rougeL`, `eval_rougeLsum` and
 * `eval_gen_len` of generated completions. A generation-only evaluation (no eval set) has
 * `num_tokens` 0 and NaN loss, perplexity and accuracy.
 */
export interface SftEvalMetrics extends Record<string, number> {
  /** Mean next-token negative log-likelihood per trained token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Fraction of trained tokens where the argmax prediction is the label. */
  mean_token_accuracy: number;
  /** Trained tokens counted. */
  num_tokens: number;
}

/**
 * Supervised fine-tuning of a causal LM. Training metrics: `train/loss`,
 * `train/mean_token_accuracy`, `train/learning_rate`, `train/grad_norm`, `train/epoch`;
 * evaluation: `eval/loss`, `eval/perplexity`, `eval/mean_token_accuracy`, `eval/num_tokens`, and
 * with `generationEval` the ROUGE of generated completions as `eval_rouge1`, `eval_rouge2`,
 * `eval_rougeL`, `eval_rougeLsum`, `eval_gen_len` (logged every `evalSteps` and at the end).
 *
 * @example
 * ```ts
 * import { SFTTrainer } from "@tether/rlhf/sft";
 * import { loadCausalLM, loadTokenizer } from "@tether/rlhf/models";
 *
 * // The examples' tiny offline GPT-2 (SYNTHETIC reviews); any causal LM or Hub id works.
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy");
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const rows = [
 *   { prompt: "the plot was", completion: " great fun." },
 *   { prompt: "the acting was", completion: " superb." },
 * ];
 * const trainer = new SFTTrainer(
 *   { learning_rate: 1e-3, num_train_epochs: 2, per_device_train_batch_size: 2, max_length: 64 },
 *   { model, trainDataset: rows, evalDataset: rows, tokenizer },
 * );
 * const before = await trainer.evaluate();
 * await trainer.train();
 * const after = await trainer.evaluate();
 * console.log(before.loss.toFixed(3), "->", after.loss.toFixed(3)); // { loss, perplexity, ... }
 * ```
 */
export class SFTTrainer extends TrainerBase<LmRow, CausalLM> {
  /** SFT-specific settings, resolved. */
  readonly sftConfig: {
    maxLength: number | null;
    completionOnlyLoss: boolean;
    packing: boolean;
    datasetTextField: string;
  };
  readonly #padTokenId: number;
  readonly #tokenizer: SFTTrainerParts["tokenizer"];
  readonly #generationEval: SftGenerationEval | undefined;
  /** Completions written by the last generation-based evaluation (prompt order). */
  lastPredictions: string[] = [];
  /** What the last `evaluate()` of the eval set returned (null before any). */
  lastEvalMetrics: SftEvalMetrics | null = null;

  /**
   * Tokenized examples become rows (masked, truncated, packed); errors name the example.
   *
   * @param config Training args and SFT settings.
   * @param parts Model, datasets and optional optimizer, scheduler, tokenizer.
   */
  constructor(config: SFTConfigInput, parts: SFTTrainerParts) {
    const {
      maxLength = 1024,
      completionOnlyLoss = true,
      packing = false,
      datasetTextField = "text",
      ...args
    } = SFT_CONFIG.parse(config);
    if (packing && maxLength === null) {
      throw new Error("SFTTrainer: packing needs maxLength (the block length)");
    }
    // TRL's null means "auto": completion-only for prompt-completion rows.
    const options = { maxLength, completionOnlyLoss: completionOnlyLoss ?? true, datasetTextField };
    const prepare = (name: string, rows: Rows<SftRow>, pack: boolean) => {
      // Packed examples are cut by the blocks, not one by one.
      const opts = pack ? { ...options, maxLength: null } : options;
      const out = sftRows("SFTTrainer", name, rows, opts, parts.tokenizer);
      requireRows(`SFTTrainer: ${name}`, out.rows, out.report);
      return { rows: pack ? packRows(out.rows, maxLength!) : out.rows, report: out.report };
    };
    const train = prepare("trainDataset", parts.trainDataset, packing);
    const evalSet = parts.evalDataset
      ? prepare("evalDataset", parts.evalDataset, false)
      : undefined;
    super("SFTTrainer", parts.model, args, train.rows, evalSet?.rows, parts, {
      learningRate: 2e-5,
    });
    this.recordData([train.report, ...(evalSet ? [evalSet.report] : [])]);
    this.sftConfig = { ...options, packing };
    this.#tokenizer = parts.tokenizer;
    this.#padTokenId = parts.padTokenId ?? parts.tokenizer?.padTokenId ??
      parts.tokenizer?.eosTokenId ?? 0;
    if (parts.generationEval) {
      checkGenerationEval("SFTTrainer", parts.generationEval);
      if (typeof (parts.model as Partial<GeneratingModel>).generate !== "function") {
        throw new Error("SFTTrainer: generationEval needs a model with generate(prompts, options)");
      }
    }
    this.#generationEval = parts.generationEval;
  }

  /**
   * Completions of the generation-eval prompts and their ROUGE (`eval_rouge1`, …), in eval mode.
   *
   * @param generationEval Prompts and settings (default: the trainer's `generationEval`).
   */
  async evaluateGeneration(
    generationEval: SftGenerationEval | undefined = this.#generationEval,
  ): Promise<GenerationEvalResult> {
    if (!generationEval) {
      throw new Error("SFTTrainer.evaluateGeneration: no generationEval (pass one to the trainer)");
    }
    if (generationEval !== this.#generationEval) {
      checkGenerationEval("SFTTrainer.evaluateGeneration", generationEval);
    }
    const result = await evaluateGeneration(
      this.model as unknown as GeneratingModel,
      generationEval,
    );
    this.lastPredictions = result.predictions;
    return result;
  }

  /** An eval set or a generation eval. */
  protected override hasEvaluation(): boolean {
    return this.evalRows !== undefined || this.#generationEval !== undefined;
  }

  /**
   * Loss metrics as `eval/<name>` (left out when there was no eval set to take them on); the
   * ROUGE metrics keep the Trainer's `eval_` names.
   */
  protected override evalLogRecord(metrics: Record<string, number>): Record<string, number> {
    const lossless = metrics.num_tokens === 0;
    return Object.fromEntries(
      Object.entries(metrics).filter(([k]) => !lossless || k.startsWith("eval_")).map((
        [k, v],
      ) => [k.startsWith("eval_") ? k : `eval/${k}`, v]),
    );
  }

  /**
   * Train as the shared loop does; with `generationEval`, also evaluate (and log) at the end
   * when the last step was not an evaluation step.
   *
   * @param options Resume from a checkpoint; stop early.
   */
  override async train(options: TrainCallOptions = {}): Promise<TrainOutput> {
    const out = await super.train(options);
    const every = this.args.evalSteps;
    const evaluatedLast = every !== null && out.globalStep % every === 0;
    if (this.#generationEval && !evaluatedLast && out.globalStep > 0) {
      const metrics = this.evalLogRecord(await this.evaluate());
      if (this.args.outputDir) {
        // The end-of-run evaluation reaches TensorBoard too when the run reports there.
        const writer = await RunWriter.open(this.args.outputDir, { reportTo: this.args.reportTo });
        try {
          await writer.write(out.globalStep, metrics);
        } finally {
          writer.close();
        }
      }
    }
    return out;
  }

  /** The rows training runs over (after masking, truncation and packing). */
  get trainingRows(): readonly LmRow[] {
    return this.trainRows as readonly LmRow[];
  }

  /** Summed token NLL, trained-token count and correct argmax count of a batch of rows. */
  #tokenLoss(rows: readonly LmRow[], reduction: "mean" | "sum") {
    const B = rows.length;
    const padded = padRight(rows.map((r) => r.ids), this.#padTokenId);
    const L = padded.length;
    const labels = rows.flatMap((r) => [
      ...r.labels,
      ...Array(L - r.labels.length).fill(IGNORE_INDEX),
    ]);
    const backend = this.model.parameters()[0]?.backend.name;
    const inputIds = tensor(padded.ids, [B, L], { backend });
    const attentionMask = tensor(padded.mask, [B, L], { backend });
    const target = tensor(labels, [B, L], { backend });
    const next = slice(target, [0, 1], [B, L - 1]);
    const counted = noGrad(() => sub(1, equal(next, IGNORE_INDEX)));
    const tokens = noGrad(() => sum(counted));
    if (outputHead(this.model)) {
      // The fused, chunked LM head: no [B, L, V] logits, forward or backward.
      const r = nextTokenLogProbs(this.model, inputIds, attentionMask, {
        labels: target,
        ignoreIndex: IGNORE_INDEX,
        argmax: true,
      });
      const total = neg(sum(r.logprobs));
      return {
        loss: reduction === "sum" ? total : div(total, tokens),
        tokens,
        correct: noGrad(() => sum(mul(equal(r.argmax!, next), counted))),
      };
    }
    const { logits } = this.model.forward({ inputIds, attentionMask });
    if (logits.rank !== 3 || logits.shape[0] !== B || logits.shape[1] !== L) {
      throw new Error(
        `SFTTrainer: the model returned logits [${logits.shape}] for input [${B}, ${L}]; a causal ` +
          `LM must return [batch, length, vocab]`,
      );
    }
    const V = logits.shape[2];
    const cut = slice(logits, [0, 0, 0], [B, L - 1, V]);
    const loss = crossEntropy(cut, next, { ignoreIndex: IGNORE_INDEX, reduction });
    const correct = noGrad(() => sum(mul(equal(argmax(cut, -1), next), counted)));
    return { loss, tokens, correct };
  }

  /** Mean token cross-entropy of one micro-batch, with token accuracy. */
  protected computeLoss(batch: LmRow[]): MicroBatchResult {
    const { loss, tokens, correct } = this.#tokenLoss(batch, "mean");
    return {
      loss,
      stats: { mean_token_accuracy: noGrad(() => div(correct, tokens)) },
    };
  }

  /**
   * Token-weighted loss, perplexity and accuracy over `examples`, in eval mode without
   * gradients. Examples are masked and truncated as for training (never packed). Without
   * `examples`, the eval dataset, plus the ROUGE of generated completions when the trainer has
   * a `generationEval` (either may be absent, not both).
   *
   * @param examples Examples as `trainDataset` takes them (default: the eval dataset).
   */
  async evaluate(examples?: Rows<SftRow>): Promise<SftEvalMetrics> {
    const rows = examples
      ? sftRows("SFTTrainer.evaluate", "examples", examples, this.sftConfig, this.#tokenizer).rows
      : (this.evalRows as LmRow[] | undefined);
    const generation = !examples && this.#generationEval
      ? (await this.evaluateGeneration()).metrics
      : {};
    if (!rows || rows.length === 0) {
      if (Object.keys(generation).length > 0) {
        this.lastEvalMetrics = {
          loss: NaN,
          perplexity: NaN,
          mean_token_accuracy: NaN,
          num_tokens: 0,
          ...generation,
        };
        return this.lastEvalMetrics;
      }
      throw new Error("SFTTrainer.evaluate: no examples (pass some, or an evalDataset)");
    }
    const size = this.args.evalBatchSize;
    let nll = 0, tokens = 0, correct = 0;
    this.model.eval?.();
    try {
      for (let start = 0; start < rows.length; start += size) {
        const batch = rows.slice(start, start + size);
        const packed = noGrad(() =>
          tidy(() => {
            const r = this.#tokenLoss(batch, "sum");
            return concat([reshape(r.loss, [1]), reshape(r.tokens, [1]), reshape(r.correct, [1])]);
          })
        );
        const [s, n, c] = await packed.toArray();
        packed.dispose();
        nll += s;
        tokens += n;
        correct += c;
      }
    } finally {
      this.model.train?.();
    }
    const loss = nll / tokens;
    const metrics = {
      loss,
      perplexity: Math.exp(loss),
      mean_token_accuracy: correct / tokens,
      num_tokens: tokens,
      ...generation,
    };
    if (!examples) this.lastEvalMetrics = metrics;
    return metrics;
  }
}
