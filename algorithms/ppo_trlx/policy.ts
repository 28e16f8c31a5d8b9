/**
 * trlX's PPO policy (`AutoModelForCausalLMWithHydraValueHead` and
 * `AutoModelForSeq2SeqLMWithHydraValueHead`, TRLX `trlx/models/modeling_ppo.py`): a causal or
 * seq2seq LM from the model table with trlX's value head, an MLP H → 2H → 1 (`make_head`) on the
 * last hidden state (the decoder's, for seq2seq), and trlX's layer freezing
 * (`freeze_bottom_causal_layers`, `freeze_bottom_seq2seq_layers`).
 *
 * The reference model is the policy's frozen layers plus a frozen copy of only what is trained
 * (`Reference.frozenCopy`): with `num_layers_unfrozen` N > 0 that is trlX's hydra head (the top
 * N blocks, final norm and head copied, the trunk shared); with −1 it is a whole second copy, as
 * trlX's separate `ref_model`.
 *
 * @module
 */

import { squeeze, type Tensor } from "../../core/mod.ts";
import { Linear, Module, ReLU, Sequential } from "../../core/nn/mod.ts";
import { Generator } from "../../core/random.ts";
import type { CausalLM, Seq2SeqLM } from "../../models/contract.ts";
import { CAUSAL_LM_ARCHITECTURES, loadCausalLM } from "../../models/causal_lm.ts";
import { loadSeq2SeqLM } from "../../models/seq2seq_lm.ts";
import { hostWeights } from "../../models/causal_base.ts";
import { saveCheckpoint } from "../../models/io/checkpoint.ts";
import { adoptChildren, configJsonOf } from "../../models/with_value_head.ts";
import { outputHead } from "../../models/next_token_logprobs.ts";
import { openModel } from "../../models/hub/repo.ts";
import type { GenerateOptions, GenerateResult } from "../../models/generation.ts";

/** `causal` (GPT-2, Llama family, OPT) or `seq2seq` (T5). */
export type TrlxArch = "causal" | "seq2seq";

/** Inputs of {@link TrlxPolicy.forward}: padded token rows as tensors. */
export interface TrlxForwardInput {
  /** Causal: prompt ++ response [B, L]; seq2seq: the encoder's prompt ids [B, S]. */
  inputIds: Tensor;
  /** `inputIds != pad` (trlX's masks). */
  attentionMask: Tensor;
  /** Causal only: `cumsum(mask) − 1`, with 1 on padding (trlX's position ids). */
  positionIds?: Tensor;
  /** Seq2seq only: `[pad] ++ output`, right padded [B, T]. */
  decoderInputIds?: Tensor;
  /** Seq2seq only: `decoderInputIds != pad` with column 0 set to 1. */
  decoderAttentionMask?: Tensor;
  /** Causal only: logits for the last this many positions (0 or absent: all). */
  logitsToKeep?: number;
  /** Causal only: also return the final hidden states [B, L, D]. */
  outputHiddenStates?: boolean;
}

/**
 * trlX's value head (`make_head(hidden, 1)`): Linear(H, 2H) → ReLU → Linear(2H, 1), saved as
 * `v_head.0.*` and `v_head.2.*`.
 */
export function trlxValueHead(
  hiddenSize: number,
  opts: { backend?: string; generator?: Generator } = {},
): Sequential {
  return new Sequential(
    new Linear(hiddenSize, hiddenSize * 2, opts),
    new ReLU(),
    new Linear(hiddenSize * 2, 1, opts),
  );
}

/** A causal or seq2seq LM with trlX's value head. */
export class TrlxPolicy extends Module {
  /** The value head (`v_head`). */
  readonly v_head: Sequential;

  /**
   * Wraps `base` (sharing its weights; its parameters keep their names) and attaches a fresh
   * value head.
   *
   * @param base The language model.
   * @param arch Which contract `base` follows.
   * @param opts Generator of the head's initial weights.
   */
  constructor(
    readonly base: CausalLM | Seq2SeqLM,
    readonly arch: TrlxArch,
    opts: { generator?: Generator } = {},
  ) {
    super();
    adoptChildren(this, base);
    this.v_head = this.registerModule(
      "v_head",
      trlxValueHead(base.hiddenSize, { backend: base.backend, generator: opts.generator }),
    );
    this.training = base.training;
  }

  /** Backend of the weights. */
  get backend(): string {
    return this.base.backend;
  }

  /** The base model's `model_type` (LoRA's default targets follow it). */
  get modelType(): string {
    return this.base.modelType;
  }

  /** Training mode for the wrapper and the base. */
  override train(on = true): this {
    super.train(on);
    this.base.train(on);
    return this;
  }

  /**
   * Logits [B, L, V] and values [B, L] (causal: every position of `inputIds`; seq2seq: every
   * decoder position).
   */
  forward(input: TrlxForwardInput): { logits: Tensor; values: Tensor; hiddenStates?: Tensor } {
    if (this.arch === "seq2seq") {
      if (!input.decoderInputIds) throw new Error("TrlxPolicy: seq2seq needs decoderInputIds");
      const out = (this.base as Seq2SeqLM).forward({
        inputIds: input.inputIds,
        attentionMask: input.attentionMask,
        decoderInputIds: input.decoderInputIds,
        decoderAttentionMask: input.decoderAttentionMask,
        outputHiddenStates: true,
      });
      return { logits: out.logits, values: this.#values(out.decoderHiddenStates!) };
    }
    const out = (this.base as CausalLM).forward({
      inputIds: input.inputIds,
      attentionMask: input.attentionMask,
      positionIds: input.positionIds,
      outputHiddenStates: true,
      logitsToKeep: input.logitsToKeep,
    });
    const values = this.#values(out.hiddenStates!);
    if (input.outputHiddenStates) {
      return { logits: out.logits, values, hiddenStates: out.hiddenStates };
    }
    return { logits: out.logits, values };
  }

  /**
   * The causal base's LM-head weight when it is a plain [V, D] matrix (`trlxLogprobsAndValues`
   * then scores tokens through the fused, chunked LM head); null for seq2seq, scored through its
   * logits.
   */
  outputEmbeddings(): Tensor | null {
    return this.arch === "causal" ? outputHead(this.base) : null;
  }

  #values(hidden: Tensor): Tensor {
    return squeeze(this.v_head.forward(hidden), [2]);
  }

  /** The base model's generation (the value head plays no part in it). */
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult> {
    return this.base.generate(prompts, opts);
  }

  /**
   * Writes the base model's `config.json` and one `model.safetensors` holding its weights and
   * `v_head.*`, as trlX's `save_pretrained` does: `from_pretrained` in transformers loads it
   * (ignoring `v_head.*`), and so do `loadCausalLM` / `loadSeq2SeqLM`.
   */
  async save(dir: string): Promise<void> {
    const config = this.arch === "seq2seq"
      ? (this.base as Seq2SeqLM).configJson()
      : configJsonOf(this.base as CausalLM);
    await saveCheckpoint(dir, { config, tensors: await hostWeights(this) });
  }
}

/** Where each causal architecture keeps its blocks and embeddings (parameter-name prefixes). */
const CAUSAL_LAYOUT: Record<string, { blocks: string; input: string; output: string }> = {
  gpt2: { blocks: "transformer.h.", input: "transformer.wte.", output: "lm_head." },
  llama: { blocks: "model.layers.", input: "model.embed_tokens.", output: "lm_head." },
  qwen2: { blocks: "model.layers.", input: "model.embed_tokens.", output: "lm_head." },
  mistral: { blocks: "model.layers.", input: "model.embed_tokens.", output: "lm_head." },
  opt: {
    blocks: "model.decoder.layers.",
    input: "model.decoder.embed_tokens.",
    output: "lm_head.",
  },
};

/**
 * Freezes the policy's bottom layers as trlX does (`requiresGrad = false`):
 *
 * - causal, N = 0: every block and the input and output embeddings; N > 0: all but the last N
 *   blocks and the input embeddings (the output embeddings too when tied); N < 0: nothing;
 * - seq2seq, N = −1: nothing; otherwise the whole encoder, the embeddings, both final norms and
 *   the decoder blocks `block[:-N]` (Python's slice: N = 2 keeps the last 2 decoder blocks
 *   trainable, N = −2 freezes only the first 2, N = 0 freezes none).
 *
 * @param policy The policy.
 * @param n `model.num_layers_unfrozen`.
 * @returns The names of the frozen parameters.
 */
export function freezeTrlxLayers(policy: TrlxPolicy, n: number): string[] {
  const named = policy.base.namedParameters();
  let frozen: (name: string) => boolean;
  if (policy.arch === "seq2seq") {
    if (n === -1) return [];
    const blocks = new Set<string>();
    for (const [name] of named) {
      const m = /^decoder\.block\.(\d+)\./.exec(name);
      if (m) blocks.add(m[1]);
    }
    const ids = [...blocks].map(Number).sort((a, b) => a - b);
    const frozenBlocks = new Set(pySliceToMinusN(ids, n).map((i) => `decoder.block.${i}.`));
    frozen = (name) =>
      name.startsWith("encoder.") || name.startsWith("shared.") ||
      name.startsWith("decoder.embed_tokens.") || name.startsWith("decoder.final_layer_norm.") ||
      [...frozenBlocks].some((p) => name.startsWith(p));
  } else {
    if (n < 0) return [];
    const type = policy.base.modelType;
    const layout = CAUSAL_LAYOUT[type];
    if (!layout) {
      throw new Error(
        `num_layers_unfrozen ${n}: no block layout for model_type "${type}" (known: ` +
          `${
            Object.keys(CAUSAL_LAYOUT).join(", ")
          }); use num_layers_unfrozen -1 to train every layer`,
      );
    }
    const ids = [
      ...new Set(
        named.map(([name]) =>
          name.startsWith(layout.blocks) ? name.slice(layout.blocks.length) : ""
        )
          .filter(Boolean).map((rest) => Number(rest.split(".")[0])),
      ),
    ].sort((a, b) => a - b);
    const frozenBlocks = (n === 0 ? ids : pySliceToMinusN(ids, n)).map((i) =>
      `${layout.blocks}${i}.`
    );
    const tied = (policy.base.config as { tie_word_embeddings?: boolean }).tie_word_embeddings;
    const prefixes = [...frozenBlocks, layout.input];
    if (n === 0 || tied) prefixes.push(layout.output);
    frozen = (name) => prefixes.some((p) => name.startsWith(p));
  }
  const names: string[] = [];
  for (const [name, p] of named) {
    if (frozen(name)) {
      p.requiresGrad = false;
      names.push(name);
    }
  }
  return names;
}

/** Python's `xs[:-n]`: all but the last n for n > 0, the first |n| for n < 0, none for 0. */
function pySliceToMinusN<T>(xs: readonly T[], n: number): T[] {
  if (n === 0) return [];
  return xs.slice(0, -n);
}

/** Options of {@link loadTrlxPolicy}. */
export interface LoadTrlxPolicyOptions {
  /** Backend of the weights. */
  backend?: string;
  /** Seed of the value head's initial weights. */
  seed?: number;
  /** Where loader notices go (default: none). */
  log?: (message: string) => void;
}

/**
 * Loads `model.model_path` as `arch`, checking first that the checkpoint is that kind of model
 * (a seq2seq config on a GPT-2 checkpoint fails naming both), and attaches trlX's value head
 * (loaded from `v_head.*` when the checkpoint has it, e.g. a saved trlX policy).
 *
 * @param path A model folder or a Hub id.
 * @param arch `model.model_arch_type`.
 * @param opts Backend, seed and log.
 */
export async function loadTrlxPolicy(
  path: string,
  arch: TrlxArch,
  opts: LoadTrlxPolicyOptions = {},
): Promise<TrlxPolicy> {
  const files = await openModel(path, {});
  const configPath = await files.file("config.json");
  const raw = JSON.parse(await Deno.readTextFile(configPath)) as Record<string, unknown>;
  const type = String(raw.model_type);
  const causal = Object.hasOwn(CAUSAL_LM_ARCHITECTURES, type);
  const seq2seq = raw.is_encoder_decoder === true || type === "t5";
  if (arch === "seq2seq" && !seq2seq) {
    throw new Error(
      `model.model_arch_type is "seq2seq" but ${path} is a ` +
        (causal
          ? `causal LM (model_type "${type}")`
          : `model_type "${type}", not an encoder-decoder`) +
        `; set model.model_arch_type to "causal"` + (causal ? "" : " or use a T5 checkpoint"),
    );
  }
  if (arch === "causal" && !causal) {
    throw new Error(
      `model.model_arch_type is "causal" but ${path} is ` +
        (seq2seq ? `an encoder-decoder (model_type "${type}")` : `model_type "${type}"`) +
        `; set model.model_arch_type to "seq2seq"` + (seq2seq ? "" : " or use a causal LM"),
    );
  }
  const log = opts.log ?? (() => {});
  const base = arch === "seq2seq"
    ? await loadSeq2SeqLM(path, { backend: opts.backend, log })
    : await loadCausalLM(path, { backend: opts.backend, log });
  return new TrlxPolicy(base, arch, { generator: new Generator(opts.seed ?? 0) });
}
