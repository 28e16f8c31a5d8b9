/**
 * `loadSeq2SeqLM`: an encoder-decoder language model from a folder or a Hub id, the class
 * chosen by `config.model_type` from one table (as transformers' `AutoModelForSeq2SeqLM`), with
 * TRL's value head when asked for. Each row names the config parser, the class, the key mapping
 * from checkpoint names to parameter names, and PEFT's default LoRA targets; the loading itself
 * is shared.
 *
 * @module
 */

import { currentBackend } from "../core/mod.ts";
import type { Module } from "../core/nn/mod.ts";
import { Generator } from "../core/random.ts";
import type { Seq2SeqLM } from "./contract.ts";
import type { ValueHeadOptions } from "./heads.ts";
import type { HubOptions } from "./hub/env.ts";
import { openModel } from "./hub/repo.ts";
import { loadConfig, loadStateDict } from "./io/checkpoint.ts";
import type { StateDict } from "./io/host.ts";
import { assignWeights } from "./load_weights.ts";
import { Seq2SeqLMWithValueHead } from "./seq2seq_value_head.ts";
import { type T5Config, t5Config } from "./t5/config.ts";
import { T5ForConditionalGeneration } from "./t5/model.ts";
import { t5CheckpointToModelKeys } from "./t5/weights.ts";

/** How a row builds a model with fresh (or to-be-loaded) weights. */
export interface ModelBuildOptions {
  /** Backend of the weights. */
  backend: string;
  /** Source of initial weights and dropout masks. */
  generator?: Generator;
  /** Draw the architecture's initial weights (false when a checkpoint overwrites them all). */
  initWeights?: boolean;
}

/**
 * One row of a `model_type` table: everything architecture-specific that loading needs.
 * `M` is the contract the table serves (`Seq2SeqLM` here).
 */
export interface ModelTypeRow<M extends Module> {
  /** The transformers class the row stands for (e.g. `T5ForConditionalGeneration`). */
  className: string;
  /** Checks `config.json` (throws naming a missing or bad field); returns the parsed config. */
  parseConfig(json: Record<string, unknown>): Record<string, unknown>;
  /** A model for the parsed config. */
  create(config: Record<string, unknown>, opts: ModelBuildOptions): M;
  /** The checkpoint's tensors under the model's parameter names (aliases, ignored keys). */
  checkpointToModelKeys(state: StateDict, model: M): StateDict;
  /** PEFT's default LoRA target modules for this architecture. */
  loraTargets: readonly string[];
  /** A short description for errors (sizes that decide the shapes). */
  describe(model: M): string;
}

/** The seq2seq architectures, by transformers' `model_type`. */
export const SEQ2SEQ_MODEL_TYPES: Readonly<Record<string, ModelTypeRow<Seq2SeqLM>>> = {
  t5: {
    className: "T5ForConditionalGeneration",
    parseConfig: (json) => t5Config(json),
    create: (config, opts) => new T5ForConditionalGeneration(config, opts),
    checkpointToModelKeys: (state, model) =>
      t5CheckpointToModelKeys(state, model.config as T5Config),
    loraTargets: ["q", "v"],
    describe: (model) => {
      const c = model.config as T5Config;
      return `T5 (d_model ${c.d_model}, d_ff ${c.d_ff}, ${c.num_heads} heads × d_kv ${c.d_kv}, ` +
        `${c.num_layers}+${c.num_decoder_layers} blocks, vocab_size ${c.vocab_size})`;
    },
  },
};

/**
 * Causal `model_type`s, named in the error when one reaches `loadSeq2SeqLM`.
 * (To be read from the causal table once both tables live side by side.)
 */
const CAUSAL_MODEL_TYPES = ["gpt2", "llama", "qwen2", "opt", "mistral"];

/** Options of `loadSeq2SeqLM`. */
export interface LoadSeq2SeqLMOptions extends HubOptions {
  /** Backend of the weights (default: the current backend; `cpu64` for `dtype: "float64"`). */
  backend?: string;
  /**
   * Wrap the model with TRL's value head (`Seq2SeqLMWithValueHead`), loading
   * `v_head.summary.*` from the checkpoint when present, else starting it fresh.
   */
  valueHead?: boolean | ValueHeadOptions;
  /** `float32` (default) or `float64` (the `cpu64` reference backend). */
  dtype?: "float32" | "float64";
  /** Seed of freshly initialised weights (a new value head) and dropout masks (default 0). */
  seed?: number;
  /** Where notices about fresh or unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

function backendFor(opts: LoadSeq2SeqLMOptions, where: string): string {
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new Error(`${where}: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
  }
  if (dtype === "float32") return opts.backend ?? currentBackend();
  if (opts.backend !== undefined && opts.backend !== "cpu64") {
    throw new Error(
      `${where}: dtype "float64" runs on the cpu64 backend only, not '${opts.backend}'`,
    );
  }
  return "cpu64";
}

function rowFor(config: Record<string, unknown>, where: string): ModelTypeRow<Seq2SeqLM> {
  const type = config.model_type;
  const supported = Object.keys(SEQ2SEQ_MODEL_TYPES).map((t) => `"${t}"`).join(", ");
  if (typeof type !== "string") {
    throw new Error(
      `${where}: config.json has no "model_type"; seq2seq LMs load for model_type ${supported}`,
    );
  }
  const row = Object.hasOwn(SEQ2SEQ_MODEL_TYPES, type) ? SEQ2SEQ_MODEL_TYPES[type] : undefined;
  if (row) return row;
  if (CAUSAL_MODEL_TYPES.includes(type)) {
    throw new Error(
      `${where}: model_type "${type}" is a causal (decoder-only) LM; use loadCausalLM. ` +
        `loadSeq2SeqLM loads model_type ${supported}`,
    );
  }
  throw new Error(
    `${where}: model_type ${JSON.stringify(type)} is not supported; seq2seq LMs load for ` +
      `model_type ${supported}`,
  );
}

/**
 * Loads an encoder-decoder LM (config + weights, `model.safetensors` preferred, else
 * `pytorch_model.bin`, sharded or not) from a folder or a Hub id, in eval mode (call `train()`
 * to train). The class comes from `SEQ2SEQ_MODEL_TYPES[config.model_type]`.
 *
 * @example
 * ```ts
 * import { loadSeq2SeqLM } from "@tether/rlhf/models";
 * const t5 = await loadSeq2SeqLM("google/flan-t5-small");
 * const { tokens } = await t5.generate([[363, 19, 8, 1]], { maxNewTokens: 16 });
 * const policy = await loadSeq2SeqLM("google/flan-t5-small", { valueHead: true });
 * ```
 */
export function loadSeq2SeqLM(
  idOrPath: string,
  opts: LoadSeq2SeqLMOptions & { valueHead: true | ValueHeadOptions },
): Promise<Seq2SeqLMWithValueHead>;
/** Loads an encoder-decoder LM; see the overload above. */
export function loadSeq2SeqLM(idOrPath: string, opts?: LoadSeq2SeqLMOptions): Promise<Seq2SeqLM>;
export async function loadSeq2SeqLM(
  idOrPath: string,
  opts: LoadSeq2SeqLMOptions = {},
): Promise<Seq2SeqLM> {
  const where = `loadSeq2SeqLM (${idOrPath})`;
  const backend = backendFor(opts, where);
  const files = await openModel(idOrPath, opts);
  const json = await loadConfig(files);
  const row = rowFor(json, where);
  let config: Record<string, unknown>;
  try {
    config = row.parseConfig(json);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const generator = new Generator(opts.seed ?? 0);
  const log = opts.log ?? console.warn;
  const model = row.create(config, { backend, generator, initWeights: false });
  let wrapped: Seq2SeqLMWithValueHead | null = null;
  try {
    const state = row.checkpointToModelKeys(await loadStateDict(files), model);
    const head = new Map([...state].filter(([name]) => name.startsWith("v_head.")));
    for (const name of head.keys()) state.delete(name);
    const r = assignWeights(model, state, { describe: row.describe(model), extras: ["v_head."] });
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
    if (opts.valueHead) {
      const headOpts = opts.valueHead === true ? {} : opts.valueHead;
      wrapped = new Seq2SeqLMWithValueHead(model, { generator, ...headOpts });
      const saved = new Map([...head].map(([n, t]) => [n.slice("v_head.".length), t]));
      if (saved.size === 0) {
        log(`${files.id}: no value head in the checkpoint; v_head starts fresh`);
      } else {
        assignWeights(wrapped.v_head, saved, { describe: "value head (v_head)" });
      }
    } else if (head.size) {
      log(
        `${files.id}: the checkpoint has a value head (v_head.*); pass valueHead: true to load it`,
      );
    }
  } catch (e) {
    (wrapped ?? model).dispose();
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return (wrapped ?? model).eval();
}
