/**
 * TRL's `AutoModelForSeq2SeqLMWithValueHead`: any `Seq2SeqLM` plus a value head (`v_head`) on
 * the decoder's last hidden state, one value per decoder position. The model is held as
 * `pretrained_model` (TRL's attribute); checkpoints carry the model's own names plus
 * `v_head.summary.weight` / `v_head.summary.bias`, as TRL saves them.
 *
 * @module
 */

import { Module } from "../core/nn/mod.ts";
import { saveCheckpoint } from "./io/checkpoint.ts";
import type { HostArray } from "./io/host.ts";
import type {
  Seq2SeqEncoderOutput,
  Seq2SeqLM,
  Seq2SeqLMInput,
  Seq2SeqLMOutput,
  TokenMatrix,
} from "./contract.ts";
import type { GenerateOptions, GenerateResult } from "./generation.ts";
import { ValueHead, type ValueHeadOptions } from "./heads.ts";

/**
 * A seq2seq LM with TRL's value head. `forward` returns the model's outputs plus `values`
 * [B, T] over the decoder positions (the critic of seq2seq PPO); generation is the model's.
 * LoRA goes on `pretrained_model` (as PEFT wraps the model before TRL does), so adapter names
 * match PEFT's; the value head stays trainable beside the adapters.
 *
 * @example
 * ```ts
 * const policy = new Seq2SeqLMWithValueHead(await loadSeq2SeqLM("google/flan-t5-small"));
 * const { logits, values } = policy.forward({
 *   inputIds: [[37, 8, 1]],
 *   decoderInputIds: [[0, 94, 12]],
 * });
 * ```
 */
export class Seq2SeqLMWithValueHead<M extends Seq2SeqLM = Seq2SeqLM> extends Module
  implements Seq2SeqLM {
  /** The wrapped language model. */
  readonly pretrained_model: M;
  /** The value head over the decoder's last hidden state. */
  readonly v_head: ValueHead;

  /**
   * Wraps `model` with a fresh value head (dropout: `opts.dropout`, else the config's
   * `summary_dropout_prob`, else TRL's 0.1).
   */
  constructor(model: M, opts: ValueHeadOptions = {}) {
    super();
    this.pretrained_model = this.registerModule("pretrained_model", model);
    const configured = (model.config as { summary_dropout_prob?: number | null })
      .summary_dropout_prob;
    this.v_head = this.registerModule(
      "v_head",
      new ValueHead(model.hiddenSize, {
        dropout: configured ?? undefined,
        backend: model.backend,
        ...opts,
      }),
    );
    this.training = model.training;
    this.v_head.train(model.training);
  }

  /** The wrapped model's `model_type`. */
  get modelType(): string {
    return this.pretrained_model.modelType;
  }
  /** Backend of the weights. */
  get backend(): string {
    return this.pretrained_model.backend;
  }
  /** Width of the decoder's hidden states (the value head's input). */
  get hiddenSize(): number {
    return this.pretrained_model.hiddenSize;
  }
  /** Vocabulary size. */
  get vocabSize(): number {
    return this.pretrained_model.vocabSize;
  }
  /** Stop token. */
  get eosTokenId(): number | null {
    return this.pretrained_model.eosTokenId;
  }
  /** Padding token. */
  get padTokenId(): number | null {
    return this.pretrained_model.padTokenId;
  }
  /** The wrapped model's config. */
  get config(): object {
    return this.pretrained_model.config;
  }
  /** First decoder token. */
  get decoderStartTokenId(): number {
    return this.pretrained_model.decoderStartTokenId;
  }

  /** The wrapped model's encoder. */
  encode(inputIds: TokenMatrix, attentionMask?: TokenMatrix): Seq2SeqEncoderOutput {
    return this.pretrained_model.encode(inputIds, attentionMask);
  }

  /** The model's outputs plus `values` [B, T] from the decoder's last hidden state. */
  forward(input: Seq2SeqLMInput): Seq2SeqLMOutput {
    const out = this.pretrained_model.forward({ ...input, outputHiddenStates: true });
    out.values = this.v_head.forward(out.decoderHiddenStates!);
    if (!input.outputHiddenStates) delete out.decoderHiddenStates;
    return out;
  }

  /** The wrapped model's generation (the value head plays no part). */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult> {
    return this.pretrained_model.generate(prompts, opts);
  }

  /** The model's tensors plus `v_head.summary.weight` / `v_head.summary.bias`. */
  async checkpointTensors(): Promise<Map<string, HostArray>> {
    const out = await this.pretrained_model.checkpointTensors();
    for (const [name, t] of this.v_head.stateDict()) {
      out.set(`v_head.${name}`, { shape: [...t.shape], data: await t.toArray() });
    }
    return out;
  }

  /** The wrapped model's config. */
  checkpointConfig(): Record<string, unknown> {
    return this.pretrained_model.checkpointConfig();
  }

  /**
   * Writes `config.json` + `model.safetensors` (the model's tensors and TRL's `v_head.*`), so
   * TRL's `AutoModelForSeq2SeqLMWithValueHead.from_pretrained(dir)` loads the value head too.
   */
  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, {
      config: this.checkpointConfig(),
      tensors: await this.checkpointTensors(),
    });
  }
}
