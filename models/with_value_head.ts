/**
 * `CausalLMWithValueHead`: TRL's `AutoModelForCausalLMWithValueHead` over any `CausalLM`. The
 * value head reads the base model's final hidden states (the input of its LM head) and gives
 * one value per position; the wrapper is itself a `CausalLM` whose parameters are the base's,
 * under the same names, plus `v_head.summary.weight` / `v_head.summary.bias`, so checkpoints,
 * LoRA paths and PEFT files read exactly as TRL writes them.
 *
 * @module
 */

import { Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";
import { type HasConfigJson, saveModel } from "./causal_base.ts";
import type { CausalLM, CausalLMInput, CausalLMOutput } from "./contract.ts";
import type { GenerateOptions, GenerateResult } from "./generation.ts";
import { ValueHead, type ValueHeadOptions } from "./heads.ts";

/**
 * Registers `base`'s children on `owner` under their own names, so `owner`'s parameter names
 * are the base's (`transformer.h.0...`, `model.layers.0...`) and heads sit beside them.
 * `skip` leaves children out (a classifier drops the LM head).
 */
export function adoptChildren(owner: Module, base: Module, skip: readonly string[] = []): void {
  const own = base.namedParameters().filter(([name]) => !name.includes("."));
  if (own.length > 0) {
    throw new Error(
      `${owner.constructor.name}: ${base.constructor.name} registers parameters on itself ` +
        `(${own.map(([n]) => n).join(", ")}); a wrapped model must keep them in child modules`,
    );
  }
  for (const [name, child] of base.children()) {
    if (!skip.includes(name)) owner.registerModule(name, child);
  }
}

/** `config.json` contents of a model: its own description, else its config and type. */
export function configJsonOf(model: CausalLM): Record<string, unknown> {
  const described = model as Partial<HasConfigJson>;
  return typeof described.configJson === "function"
    ? described.configJson()
    : { ...model.config, model_type: model.modelType };
}

/**
 * TRL's `AutoModelForCausalLMWithValueHead`: a causal LM plus `v_head`, whose forward also
 * returns `values` [B, T] computed from the final hidden states. Dropout before the head
 * defaults to the config's `summary_dropout_prob`, else TRL's 0.1.
 *
 * @example
 * ```ts
 * import { CausalLMWithValueHead, loadCausalLM } from "@tether/rlhf/models";
 * // A tiny Llama of the test fixtures; a Hub id such as "HuggingFaceTB/SmolLM2-135M" works too.
 * const policy = new CausalLMWithValueHead(await loadCausalLM("tests/fixtures/models/llama-a"));
 * const { logits, values } = policy.forward({ inputIds: [[1, 2, 3]] });
 * console.log(logits.shape, values!.shape); // [1, 3, 96] [1, 3]
 * ```
 */
export class CausalLMWithValueHead extends Module implements CausalLM, HasConfigJson {
  /** TRL's value head (`v_head.summary`). */
  readonly v_head: ValueHead;

  /**
   * Wraps `base` (sharing its weights) and attaches a fresh value head.
   * @param base The language model.
   * @param opts Dropout, and the generator of the head's initial weights and dropout masks.
   */
  constructor(
    readonly base: CausalLM,
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
  }

  /** The base model's `model_type`. */
  get modelType(): string {
    return this.base.modelType;
  }
  /** Backend of the weights. */
  get backend(): string {
    return this.base.backend;
  }
  /** Width of the hidden states the value head reads. */
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

  /** Training mode for the wrapper, the base and the head. */
  override train(on = true): this {
    super.train(on);
    this.base.train(on);
    return this;
  }

  /** The base model's outputs plus `values` [B, T] from its final hidden states. */
  forward(input: CausalLMInput): CausalLMOutput {
    const out = this.base.forward({ ...input, outputHiddenStates: true });
    const values = this.v_head.forward(out.hiddenStates!);
    const result: CausalLMOutput = { ...out, values };
    if (!input.outputHiddenStates) delete result.hiddenStates;
    return result;
  }

  /** The base model's generation (the value head plays no part in it). */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult> {
    return this.base.generate(prompts, opts);
  }

  /** The base model's `config.json`. */
  configJson(): Record<string, unknown> {
    return configJsonOf(this.base);
  }

  /**
   * Writes the base model's `config.json` and one `model.safetensors` holding its weights and
   * `v_head.summary.*`, as TRL's `save_pretrained` does.
   */
  save(dir: string): Promise<void> {
    return saveModel(this, dir, this.configJson());
  }
}
