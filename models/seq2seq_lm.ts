/**
 * `loadSeq2SeqLM`: an encoder-decoder language model from a folder or a Hub id, the class
 * chosen by `config.model_type` from one table (as transformers' `AutoModelForSeq2SeqLM`), with
 * TRL's value head when asked for. Each row (`ArchitectureRow`, the shape the causal table's
 * rows have too) names the config parser, the class, the key mapping from checkpoint names to
 * parameter names, and PEFT's default LoRA targets; the loading itself is shared.
 *
 * @module
 */

import { currentBackend } from "../core/mod.ts";
import { Generator } from "../core/random.ts";
import { architectureFor, type ArchitectureRow } from "./architecture.ts";
import { CAUSAL_LM_ARCHITECTURES } from "./causal_lm.ts";
import type { Seq2SeqLM } from "./contract.ts";
import type { ValueHeadOptions } from "./heads.ts";
import type { HubOptions } from "./hub/env.ts";
import { openModel } from "./hub/repo.ts";
import { loadConfig, openCheckpoint } from "./io/checkpoint.ts";
import { loadWeights } from "./load_weights.ts";
import { Seq2SeqLMWithValueHead } from "./seq2seq_value_head.ts";
import { T5_ARCHITECTURE } from "./t5/architecture.ts";

/** The seq2seq architectures, by transformers' `model_type` (as `AutoModelForSeq2SeqLM`). */
export const SEQ2SEQ_LM_ARCHITECTURES: Readonly<Record<string, ArchitectureRow<Seq2SeqLM>>> = {
  t5: T5_ARCHITECTURE,
};

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

function rowFor(config: Record<string, unknown>, who: string): ArchitectureRow<Seq2SeqLM> {
  const type = config.model_type;
  if (typeof type === "string" && Object.hasOwn(CAUSAL_LM_ARCHITECTURES, type)) {
    const supported = Object.keys(SEQ2SEQ_LM_ARCHITECTURES).map((t) => `"${t}"`).join(", ");
    throw new Error(
      `${who}: model_type "${type}" is a causal (decoder-only) LM; use loadCausalLM. ` +
        `loadSeq2SeqLM loads model_type ${supported}`,
    );
  }
  return architectureFor(SEQ2SEQ_LM_ARCHITECTURES, config, who);
}

/**
 * Loads an encoder-decoder LM (config + weights, `model.safetensors` preferred, else
 * `pytorch_model.bin`, sharded or not) from a folder or a Hub id, in eval mode (call `train()`
 * to train). The class comes from `SEQ2SEQ_LM_ARCHITECTURES[config.model_type]`.
 *
 * @example
 * ```ts
 * import { loadSeq2SeqLM } from "@tether/rlhf/models";
 * // A tiny T5 of the test fixtures; a Hub id such as "google/flan-t5-small" works the same.
 * const path = "tests/fixtures/models/t5-a";
 * const t5 = await loadSeq2SeqLM(path);
 * const { tokens } = await t5.generate([[63, 19, 8, 1]], { maxNewTokens: 16 });
 * const policy = await loadSeq2SeqLM(path, { valueHead: true, log: () => {} }); // fresh v_head
 * console.log(tokens[0].length <= 16, policy.modelType); // true t5
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
  const raw = await loadConfig(files);
  const row = rowFor(raw, where);
  let config: Record<string, unknown>;
  try {
    config = row.parseConfig(raw);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const generator = new Generator(opts.seed ?? 0);
  const log = opts.log ?? console.warn;
  const base = row.create(config, { backend, generator, initWeights: false });
  const head = opts.valueHead === true ? {} : opts.valueHead || null;
  const model = head ? new Seq2SeqLMWithValueHead(base, { generator, ...head }) : base;
  try {
    using reader = await openCheckpoint(files);
    const r = await loadWeights(model, reader, {
      mapKey: row.checkpointKey,
      optional: head ? ["v_head."] : [],
      describe: `${row.className} from ${files.id}`,
    });
    if (r.initialized.length) {
      log(`${files.id}: no value head in the checkpoint; v_head starts fresh`);
    }
    if (r.unused.some((n) => n.startsWith("v_head."))) {
      log(
        `${files.id}: the checkpoint has a value head (v_head.*); pass valueHead: true to load it`,
      );
    }
    const other = r.unused.filter((n) => !n.startsWith("v_head."));
    if (other.length) log(`${files.id}: unused checkpoint tensors ${other.join(", ")}`);
  } catch (e) {
    model.dispose();
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return model.eval();
}
