/**
 * `CausalLMForSequenceClassification`: transformers' `*ForSequenceClassification` for causal
 * LMs (GPT-2, Llama, Qwen2, OPT) over any `CausalLM`: a bias-free `score` head on the final
 * hidden states, read at each row's last real token; the usual shape of a reward model. The
 * parameters are the base model's trunk under its own names plus `score.weight` (the LM head
 * is not part of it), as transformers saves these models.
 *
 * @module
 */

import { equal, ones, sub, type Tensor } from "../core/mod.ts";
import { Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";
import { saveModel } from "./causal_base.ts";
import type { CausalLM, TokenMatrix } from "./contract.ts";
import { lastTokenScores, ScoreHead } from "./heads.ts";
import { onBackend } from "./inputs.ts";
import { adoptChildren, configJsonOf } from "./with_value_head.ts";

/** Inputs of a sequence-classification forward pass. */
export interface ClassifierInput {
  /** Token ids [B, T]. */
  inputIds: TokenMatrix;
  /**
   * [B, T], 1 for real tokens. Scores are read at each row's last 1 (left or right padding
   * both work). Without it, the last token that is not the config's `pad_token_id` is used
   * (transformers' rule), or the final position when the config has no pad token.
   */
  attentionMask?: TokenMatrix;
}

/** What a sequence classifier returns. */
export interface ClassifierOutput {
  /** [B, numLabels] scores at each row's last real token (the reward when numLabels = 1). */
  logits: Tensor;
}

/** Options of `CausalLMForSequenceClassification`. */
export interface SequenceClassificationOptions {
  /** Outputs of the head (default: the config's `num_labels`, else 2). */
  numLabels?: number;
  /** Generator of the head's initial weights, N(0, initializer_range²). */
  generator?: Generator;
  /** Name of the base model's LM-head child, left out of the classifier (default `lm_head`). */
  lmHead?: string;
  /**
   * The Python class recorded on save (default: the base's class with `ForCausalLM` /
   * `LMHeadModel` replaced by `ForSequenceClassification`).
   */
  className?: string;
}

function classifierClass(base: CausalLM): string {
  const json = configJsonOf(base);
  const lm = Array.isArray(json.architectures) ? String(json.architectures[0]) : undefined;
  if (lm && /(ForCausalLM|LMHeadModel)$/.test(lm)) {
    return lm.replace(/(ForCausalLM|LMHeadModel)$/, "ForSequenceClassification");
  }
  return `${base.modelType}ForSequenceClassification`;
}

/**
 * A causal LM's trunk with transformers' sequence-classification `score` head, pooled at each
 * row's last real token.
 *
 * @example
 * ```ts
 * import { loadCausalLMForSequenceClassification } from "@tether/rlhf/models";
 * // A tiny Qwen2 checkpoint of the test fixtures; a Hub id such as "Qwen/Qwen2.5-0.5B" works too.
 * const rm = await loadCausalLMForSequenceClassification("tests/fixtures/models/qwen2-a", {
 *   numLabels: 1,
 * });
 * const { logits } = rm.forward({ inputIds: [[1, 2, 3]], attentionMask: [[1, 1, 1]] });
 * console.log(logits.shape); // [1, 1]: one score per row (a fresh score head)
 * ```
 */
export class CausalLMForSequenceClassification extends Module {
  /** [numLabels, hidden] bias-free projection. */
  readonly score: ScoreHead;
  /** Outputs of the head. */
  readonly numLabels: number;
  readonly #className: string;

  /**
   * Wraps `base`'s trunk (sharing its weights) with a fresh `score` head.
   * @param base The language model whose hidden states are scored.
   */
  constructor(readonly base: CausalLM, opts: SequenceClassificationOptions = {}) {
    super();
    const config = base.config as { num_labels?: unknown; initializer_range?: unknown };
    const numLabels = opts.numLabels ??
      (typeof config.num_labels === "number" ? config.num_labels : 2);
    this.numLabels = numLabels;
    this.#className = opts.className ?? classifierClass(base);
    adoptChildren(this, base, [opts.lmHead ?? "lm_head"]);
    const std = typeof config.initializer_range === "number" ? config.initializer_range : 0.02;
    this.score = this.registerModule(
      "score",
      new ScoreHead(base.hiddenSize, numLabels, {
        std,
        backend: base.backend,
        generator: opts.generator,
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

  /** Training mode for the wrapper, the trunk and the head. */
  override train(on = true): this {
    super.train(on);
    this.base.train(on);
    return this;
  }

  /** Frees the trunk, the base model's LM head and the score head. */
  override dispose(): void {
    this.score.dispose();
    this.base.dispose();
  }

  /** Scores [B, numLabels] read at each row's last real token. */
  forward(input: ClassifierInput): ClassifierOutput {
    const who = this.#className;
    const ids = onBackend(input.inputIds, this.backend, "inputIds", who);
    const mask = input.attentionMask === undefined
      ? undefined
      : onBackend(input.attentionMask, this.backend, "attentionMask", who);
    const { hiddenStates } = this.base.forward({
      inputIds: ids,
      attentionMask: mask,
      outputHiddenStates: true,
      logitsToKeep: 1,
    });
    const scores = this.score.forward(hiddenStates!);
    const pad = (this.base.config as { pad_token_id?: unknown }).pad_token_id;
    const [b, t] = ids.shape;
    const poolMask = mask ??
      (typeof pad === "number" ? sub(1, equal(ids, pad)) : ones([b, t], { backend: this.backend }));
    return { logits: lastTokenScores(scores, poolMask) };
  }

  /** `config.json` contents: the base's, with `num_labels` and this class. */
  configJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {
      ...configJsonOf(this.base),
      num_labels: this.numLabels,
      architectures: [this.#className],
    };
    const labels = json.id2label;
    if (labels && typeof labels === "object" && Object.keys(labels).length !== this.numLabels) {
      delete json.id2label;
      delete json.label2id;
    }
    return json;
  }

  /** Writes `config.json` + `model.safetensors` that transformers loads as this class. */
  save(dir: string): Promise<void> {
    return saveModel(this, dir, this.configJson());
  }
}
