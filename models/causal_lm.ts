/**
 * Causal language models by `model_type`, the way transformers' `AutoModelForCausalLM` picks
 * them: `CAUSAL_LM_ARCHITECTURES` is the one table (config parser, class, checkpoint key
 * mapping, PEFT's default LoRA targets per `model_type`), and `loadCausalLM` reads
 * `config.json`, picks the row, builds the model with empty weights and streams the checkpoint
 * into it. TRL's value head and the sequence-classification head wrap whatever the table
 * builds.
 *
 * @module
 */

import { currentBackend } from "../core/mod.ts";
import { Generator } from "../core/random.ts";
import { architectureFor, type ArchitectureRow } from "./architecture.ts";
import type { CausalLMBase } from "./causal_base.ts";
import type { CausalLM } from "./contract.ts";
import { CausalLMForSequenceClassification } from "./for_sequence_classification.ts";
import { loadGenerationDefaults } from "./generation_config.ts";
import { GPT2_ARCHITECTURE } from "./gpt2/architecture.ts";
import type { GPT2LMHeadModel } from "./gpt2/model.ts";
import { GPT2ForSequenceClassification } from "./gpt2/sequence_classification.ts";
import { skipGpt2InitDraws } from "./gpt2/weights.ts";
import type { ValueHeadOptions } from "./heads.ts";
import {
  LLAMA_ARCHITECTURE,
  MISTRAL_ARCHITECTURE,
  QWEN2_ARCHITECTURE,
} from "./llama/architecture.ts";
import type { HubOptions } from "./hub/env.ts";
import { type ModelFiles, openModel } from "./hub/repo.ts";
import { loadConfig, openCheckpoint } from "./io/checkpoint.ts";
import { loadWeights } from "./load_weights.ts";
import { OPT_ARCHITECTURE } from "./opt/architecture.ts";
import { CausalLMWithValueHead } from "./with_value_head.ts";

/** A row of the causal table: the architecture builds a `CausalLMBase`. */
export type CausalArchitecture = ArchitectureRow<CausalLMBase>;

/**
 * Every causal architecture by `config.model_type` (transformers' `MODEL_FOR_CAUSAL_LM_MAPPING`).
 * Adding an architecture is a folder under `models/` and one row here.
 */
export const CAUSAL_LM_ARCHITECTURES: Readonly<Record<string, CausalArchitecture>> = {
  gpt2: GPT2_ARCHITECTURE,
  llama: LLAMA_ARCHITECTURE,
  qwen2: QWEN2_ARCHITECTURE,
  mistral: MISTRAL_ARCHITECTURE,
  opt: OPT_ARCHITECTURE,
};

/**
 * The causal table's row for a `config.json` (by its `model_type`); an unknown type fails
 * naming the supported ones.
 *
 * @param config The parsed `config.json`.
 * @param who Names the caller and model in the error.
 */
export function causalArchitecture(
  config: Record<string, unknown>,
  who = "loadCausalLM",
): CausalArchitecture {
  return architectureFor(CAUSAL_LM_ARCHITECTURES, config, who);
}

/**
 * PEFT's default LoRA targets for a causal `model_type` (`c_attn` for GPT-2, `q_proj` and
 * `v_proj` for Llama, Qwen2, Mistral and OPT).
 *
 * @param modelType transformers' `model_type`.
 */
export function causalLoraTargets(modelType: string): readonly string[] {
  return causalArchitecture({ model_type: modelType }, "causalLoraTargets").loraTargets;
}

/** Options of `loadCausalLM`. */
export interface LoadCausalLMOptions extends HubOptions {
  /** Backend of the weights (default: the current backend; `cpu64` for `dtype: "float64"`). */
  backend?: string;
  /**
   * Wrap the model in TRL's value head (`CausalLMWithValueHead`), loading `v_head.summary.*`
   * from the checkpoint when present (a model saved by TRL or by `save()`), else starting it
   * fresh.
   */
  valueHead?: boolean | ValueHeadOptions;
  /**
   * Element type of the weights: `float32` (default) or `float64` (the `cpu64` reference
   * backend, for gradient checks). Checkpoints in f16/bf16 are widened on load.
   */
  dtype?: "float32" | "float64";
  /** Seed of freshly initialised weights (a new value head) and dropout masks (default 0). */
  seed?: number;
  /** Where notices about fresh or unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

function pickBackend(opts: LoadCausalLMOptions, who: string): string {
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new Error(`${who}: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
  }
  if (dtype === "float64") {
    if (opts.backend !== undefined && opts.backend !== "cpu64") {
      throw new Error(
        `${who}: dtype "float64" runs on the cpu64 backend only, not '${opts.backend}'`,
      );
    }
    return "cpu64";
  }
  return opts.backend ?? currentBackend();
}

/** A model built from a table row, its weights still empty. */
interface Built {
  files: ModelFiles;
  row: CausalArchitecture;
  base: CausalLMBase;
  generator: Generator;
  log: (message: string) => void;
}

async function build(
  idOrPath: string,
  opts: LoadCausalLMOptions,
  who: string,
  edit: (raw: Record<string, unknown>) => Record<string, unknown> = (raw) => raw,
): Promise<Built> {
  const backend = pickBackend(opts, who);
  const files = await openModel(idOrPath, opts);
  const raw = edit(await loadConfig(files));
  if (raw.is_encoder_decoder === true) {
    throw new Error(
      `${who} (${idOrPath}): model_type ${JSON.stringify(raw.model_type)} is an encoder-decoder ` +
        `model (is_encoder_decoder); load it with loadSeq2SeqLM`,
    );
  }
  const row = causalArchitecture(raw, `${who} (${idOrPath})`);
  let config: Record<string, unknown>;
  try {
    config = row.parseConfig(raw);
  } catch (error) {
    throw new Error(`${who} (${idOrPath}): ${(error as Error).message}`);
  }
  const generator = new Generator(opts.seed ?? 0);
  const base = row.create(config, { backend, generator, initWeights: false });
  return { files, row, base, generator, log: opts.log ?? console.warn };
}

/** GPT-2's heads are drawn where they were when its trunk drew weights it then overwrote. */
function skipHeadlessDraws(built: Built, withLmHead: boolean): void {
  if (built.row.modelType === "gpt2") {
    skipGpt2InitDraws(built.generator, (built.base as GPT2LMHeadModel).config, withLmHead);
  }
}

/**
 * Fills `model` from the checkpoint and applies `generation_config.json`; `head` names a head
 * the checkpoint may lack and the notice to log when it does.
 */
async function fill(
  built: Built,
  model: CausalLM | CausalLMForSequenceClassification,
  head: { prefix: string; fresh: string } | null,
): Promise<void> {
  const { files, row, log } = built;
  try {
    using reader = await openCheckpoint(files);
    const r = await loadWeights(model, reader, {
      mapKey: row.checkpointKey,
      optional: head ? [head.prefix] : [],
      describe: `${row.className} from ${files.id}`,
    });
    if (r.initialized.length && head) log(`${files.id}: ${head.fresh}`);
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
    const defaults = await loadGenerationDefaults(files);
    built.base.generationConfig = defaults.options;
    for (const note of defaults.notes) log(note);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Loads a causal LM from a folder or a Hub id (resolved through the shared Hugging Face
 * cache): `config.json` picks the architecture from `CAUSAL_LM_ARCHITECTURES` by its
 * `model_type`; the weights come from `model.safetensors` (f32, f16 or bf16), else
 * `pytorch_model.bin`, either possibly sharded behind its index file, streamed tensor by
 * tensor into the model; `generation_config.json` sets `generate`'s defaults. The model comes
 * back in eval mode (call `train()` to train).
 *
 * @example
 * ```ts
 * import { loadCausalLM } from "@tether/rlhf/models";
 * // A tiny Llama of the test fixtures; a Hub id such as "HuggingFaceTB/SmolLM2-135M" works too.
 * const path = "tests/fixtures/models/llama-a";
 * const policy = await loadCausalLM(path, { valueHead: true, log: () => {} }); // fresh v_head
 * const { tokens } = await policy.generate([[1, 54, 38]], { maxNewTokens: 8 });
 * console.log(tokens[0].length <= 8); // true
 * ```
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Backend, value head, dtype, seed, log and Hub settings.
 */
export async function loadCausalLM(
  idOrPath: string,
  opts: LoadCausalLMOptions & { valueHead: true | ValueHeadOptions },
): Promise<CausalLMWithValueHead>;
/**
 * Loads a causal LM from a folder or a Hub id; see the overload above.
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Backend, value head, dtype, seed, log and Hub settings.
 */
export async function loadCausalLM(
  idOrPath: string,
  opts?: LoadCausalLMOptions,
): Promise<CausalLM>;
export async function loadCausalLM(
  idOrPath: string,
  opts: LoadCausalLMOptions = {},
): Promise<CausalLM> {
  const built = await build(idOrPath, opts, "loadCausalLM");
  if (opts.valueHead) skipHeadlessDraws(built, true);
  const model = opts.valueHead
    ? new CausalLMWithValueHead(built.base, {
      generator: built.generator,
      ...(opts.valueHead === true ? {} : opts.valueHead),
    })
    : built.base;
  await fill(built, model, {
    prefix: "v_head.",
    fresh: "no value head in the checkpoint; v_head starts fresh",
  });
  return model.eval();
}

/**
 * Loads a GPT-2 language model (`model_type` "gpt2") typed as `GPT2LMHeadModel`; any other
 * type fails naming it.
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Backend, dtype, seed, log and Hub settings.
 */
export async function loadGpt2LMHeadModel(
  idOrPath: string,
  opts: Omit<LoadCausalLMOptions, "valueHead"> = {},
): Promise<GPT2LMHeadModel> {
  const built = await build(idOrPath, opts, "loadGpt2LMHeadModel", (raw) => {
    if (raw.model_type !== "gpt2") {
      throw new Error(
        `loadGpt2LMHeadModel (${idOrPath}): model_type is ${JSON.stringify(raw.model_type)}, ` +
          `not "gpt2"; use loadCausalLM`,
      );
    }
    return raw;
  });
  await fill(built, built.base, null);
  return (built.base as GPT2LMHeadModel).eval();
}

/** Options of `loadCausalLMForSequenceClassification`. */
export interface LoadCausalClassifierOptions extends Omit<LoadCausalLMOptions, "valueHead"> {
  /** Outputs of the score head (1 for a reward model; default: the config's `num_labels`). */
  numLabels?: number;
}

/** The config with `num_labels` set, dropping label names that no longer fit. */
function withLabels(raw: Record<string, unknown>, numLabels?: number): Record<string, unknown> {
  return numLabels === undefined
    ? raw
    : { ...raw, num_labels: numLabels, id2label: undefined, label2id: undefined };
}

async function loadClassifier(
  built: Built,
  numLabels: number | undefined,
): Promise<CausalLMForSequenceClassification> {
  const { files, log } = built;
  skipHeadlessDraws(built, false);
  const model = built.row.modelType === "gpt2"
    ? new GPT2ForSequenceClassification(built.base as GPT2LMHeadModel, {
      generator: built.generator,
    })
    : new CausalLMForSequenceClassification(built.base, {
      numLabels,
      generator: built.generator,
    });
  using reader = await openCheckpoint(files);
  const saved = reader.entries.get("score.weight");
  if (saved && saved.shape[0] !== model.numLabels) {
    log(
      `${files.id}: the checkpoint's score head has ${saved.shape[0]} labels, ` +
        `${model.numLabels} were asked for; score starts fresh`,
    );
  }
  try {
    const r = await loadWeights(model, reader, {
      mapKey: built.row.checkpointKey,
      exclude: (name) => name === "score.weight" && saved?.shape[0] !== model.numLabels,
      optional: ["score."],
      describe: `${built.row.className} (sequence classification) from ${files.id}`,
    });
    if (r.initialized.length) log(`${files.id}: no score head in the checkpoint; it starts fresh`);
    if (r.unused.length) log(`${files.id}: unused checkpoint tensors ${r.unused.join(", ")}`);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model.eval();
}

/**
 * Loads a causal LM with transformers' sequence-classification `score` head (a reward model):
 * a saved `*ForSequenceClassification`, or a plain language model whose `score` then starts
 * fresh. Any `model_type` of `CAUSAL_LM_ARCHITECTURES`.
 *
 * @example
 * ```ts
 * import { loadCausalLMForSequenceClassification } from "@tether/rlhf/models";
 * // A tiny Qwen2 of the test fixtures (no score head yet, so a fresh one is drawn).
 * const rm = await loadCausalLMForSequenceClassification("tests/fixtures/models/qwen2-a", {
 *   numLabels: 1,
 * });
 * console.log(rm.numLabels); // 1
 * ```
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Label count, backend, seed, log and Hub settings.
 */
export async function loadCausalLMForSequenceClassification(
  idOrPath: string,
  opts: LoadCausalClassifierOptions = {},
): Promise<CausalLMForSequenceClassification> {
  const built = await build(
    idOrPath,
    opts,
    "loadCausalLMForSequenceClassification",
    (raw) => withLabels(raw, opts.numLabels),
  );
  return await loadClassifier(built, opts.numLabels);
}

/** Options of `loadGpt2ForSequenceClassification`. */
export type LoadGpt2ClassifierOptions = LoadCausalClassifierOptions;

/**
 * Loads a GPT-2 sequence classifier (reward model) from a folder or Hub id: a saved
 * `GPT2ForSequenceClassification`, or a plain GPT-2 whose `score` head then starts fresh.
 *
 * @param idOrPath A model folder or a Hub id.
 * @param opts Label count, backend, seed, log and Hub settings.
 */
export async function loadGpt2ForSequenceClassification(
  idOrPath: string,
  opts: LoadGpt2ClassifierOptions = {},
): Promise<GPT2ForSequenceClassification> {
  const built = await build(idOrPath, opts, "loadGpt2ForSequenceClassification", (raw) => {
    if (raw.model_type !== "gpt2") {
      throw new Error(
        `loadGpt2ForSequenceClassification (${idOrPath}): model_type is ` +
          `${JSON.stringify(raw.model_type)}, not "gpt2"; use ` +
          `loadCausalLMForSequenceClassification`,
      );
    }
    return withLabels(raw, opts.numLabels);
  });
  return await loadClassifier(built, opts.numLabels) as GPT2ForSequenceClassification;
}
