/**
 * TRL's `AutoModelForSeq2SeqLMWithValueHead`: any `Seq2SeqLM` plus a value head (`v_head`) on
 * the decoder's last hidden state, one value per decoder position. The wrapper registers the
 * model's children under their own names, so its parameters are the model's (`shared.weight`,
 * `encoder.block.0…`) plus `v_head.summary.weight` / `v_head.summary.bias`: checkpoints, LoRA
 * paths and PEFT files read exactly as TRL writes them.
 *
 * @module
 */

import { Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";
import { saveCheckpoint } from "./io/checkpoint.ts";
import type {
  Seq2SeqEncoderOutput,
  Seq2SeqLM,
  Seq2SeqLMInput,
  Seq2SeqLMOutput,
  TokenMatrix,
} from "./contract.ts";
import type { GenerateOptions, GenerateResult } from "./generation.ts";
import { ValueHead, type ValueHeadOptions } from "./heads.ts";
import { hostWeights } from "./causal_base.ts";
import { adoptChildren } from "./with_value_head.ts";

/**
 * A seq2seq LM with TRL's value head. `forward` returns the model's outputs plus `values`
 * [B, T] over the decoder positions (the critic of seq2seq PPO); generation is the model's.
 * LoRA applies to the wrapper with PEFT's names (`applyLora` keeps `v_head` trainable).
 *
 * @example
 * ```ts
 * import { loadSeq2SeqLM, Seq2SeqLMWithValueHead } from "@tether/rlhf/models";
 * // A tiny T5 of the test fixtures; "google/flan-t5-small" works the same.
 * const policy = new Seq2SeqLMWithValueHead(await loadSeq2SeqLM("tests/fixtures/models/t5-a"));
 * const { logits, values } = policy.forward({
 *   inputIds: [[37, 8, 1]],
 *   decoderInputIds: [[0, 94, 12]],
 * });
 * ```
 */
export class Seq2SeqLMWithValueHead extends Module implements Seq2SeqLM {
  /** TRL's value head (`v_head.summary`). */
  readonly v_head: ValueHead;

  /**
   * Wraps `base` (sharing its weights) and attaches a fresh value head (dropout: `opts.dropout`,
   * else the config's `summary_dropout_prob`, else TRL's 0.1).
   */
  constructor(
    readonly base: Seq2SeqLM,
    opts: ValueHeadOptions & { generator?: Generator } = {},
  ) {
    super();
    adoptChildren(this, base);
    const configured = (base.config as { summary_dropout_prob?: unknown }).summary_dropout_prob;
    this.v_head = this.registerModule(
      "v_head",
      new ValueHead(base.hiddenSize, {
        dropout: typeof configured === "number" ? configured : undefined,
        backend: base.backend,
        ...opts,
      }),
    );
    this.training = base.training;
    this.v_head.train(base.training);
  }

  /** The base model's `model_type`. */
  get modelType(): string {
    return this.base.modelType;
  }
  /** Backend of the weights. */
  get backend(): string {
    return this.base.backend;
  }
  /** Width of the decoder's hidden states (the value head's input). */
  get hiddenSize(): number {
    return this.base.hiddenSize;
  }
  /** Vocabulary size. */
  get vocabSize(): number {
    return this.base.vocabSize;
  }
  /** The base model's stop token. */
  get eosTokenId(): number | null {
    return this.base.eosTokenId;
  }
  /** The base model's padding token. */
  get padTokenId(): number | null {
    return this.base.padTokenId;
  }
  /** The base model's config. */
  get config(): object {
    return this.base.config;
  }
  /** The first decoder token. */
  get decoderStartTokenId(): number {
    return this.base.decoderStartTokenId;
  }

  /** Training mode for the wrapper, the base and the head. */
  override train(on = true): this {
    super.train(on);
    this.base.train(on);
    return this;
  }

  /** The base model's encoder. */
  encode(inputIds: TokenMatrix, attentionMask?: TokenMatrix): Seq2SeqEncoderOutput {
    return this.base.encode(inputIds, attentionMask);
  }

  /** The base model's outputs plus `values` [B, T] from the decoder's last hidden state. */
  forward(input: Seq2SeqLMInput): Seq2SeqLMOutput {
    const out = this.base.forward({ ...input, outputHiddenStates: true });
    const result: Seq2SeqLMOutput = {
      ...out,
      values: this.v_head.forward(out.decoderHiddenStates!),
    };
    if (!input.outputHiddenStates) delete result.decoderHiddenStates;
    return result;
  }

  /** The base model's generation (the value head plays no part in it). */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult> {
    return this.base.generate(prompts, opts);
  }

  /** The base model's `config.json`. */
  configJson(): Record<string, unknown> {
    return this.base.configJson();
  }

  /**
   * Writes the base model's `config.json` and one `model.safetensors` holding its weights and
   * `v_head.summary.*`, as TRL's `save_pretrained` does.
   */
  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, { config: this.configJson(), tensors: await hostWeights(this) });
  }
}
