/**
 * Copying a checkpoint's tensors into a model's parameters, for every architecture: checkpoint
 * names map to parameter names through the architecture's key mapping, everything is checked
 * (missing, unknown and misshapen tensors, each named) before anything is written, and each
 * tensor then streams from the file straight into its parameter, so loading never holds a
 * second copy of the weights.
 *
 * @module
 */

import type { Tensor } from "../core/mod.ts";
import type { Module } from "../core/nn/mod.ts";
import { fmtShape } from "../core/shape.ts";
import type { CheckpointReader, TensorEntry } from "./io/tensor_stream.ts";

/** Whether a parameter name belongs to a LoRA adapter rather than the base model. */
export function isLoraName(name: string): boolean {
  return /\.lora_[AB]\./.test(name);
}

/** Prefixes of heads that wrappers add beside a model (TRL's value head, a score head). */
export const HEAD_PREFIXES: readonly string[] = ["v_head.", "score.", "lm_head."];

/** Options of `loadWeights` / `planWeights`. */
export interface LoadWeightsOptions {
  /**
   * The model's parameter name for a checkpoint tensor name, or null for tensors that are not
   * weights (buffers such as GPT-2's causal masks). Default: the name itself.
   */
  mapKey?: (name: string) => string | null;
  /**
   * Parameter-name prefixes the checkpoint may lack; those keep their values (e.g. `v_head.`
   * for a value head added on top of a plain language model).
   */
  optional?: readonly string[];
  /**
   * Checkpoint-name prefixes of heads the model may lack (default `HEAD_PREFIXES`): such
   * tensors are reported as unused; any other unknown tensor is an error.
   */
  heads?: readonly string[];
  /** Checkpoint tensors to leave out (e.g. a score head with a different label count). */
  exclude?: (name: string) => boolean;
  /** Names the model in errors, e.g. "LlamaForCausalLM (hidden_size 32, 2 layers)". */
  describe?: string;
}

/** What loading did beside filling every parameter. */
export interface LoadWeightsResult {
  /** Parameters that kept their values (allowed by `optional`). */
  initialized: string[];
  /** Checkpoint tensors of heads the model lacks, left unused. */
  unused: string[];
}

/** Which checkpoint tensor fills which parameter. */
export interface WeightPlan extends LoadWeightsResult {
  /** [parameter, checkpoint tensor name], one per distinct parameter tensor. */
  copies: [Tensor, string][];
}

/**
 * Checks a checkpoint against a model and says which tensor fills which parameter. Tied
 * parameters (one tensor under two names, as `lm_head.weight` and the embedding) are filled
 * once, from whichever of their names the checkpoint has. Throws, naming every missing,
 * unknown and misshapen tensor (with both shapes), when the checkpoint does not fit.
 */
export function planWeights(
  model: Module,
  entries: ReadonlyMap<string, TensorEntry>,
  opts: LoadWeightsOptions = {},
): WeightPlan {
  const mapKey = opts.mapKey ?? ((n: string) => n);
  const heads = opts.heads ?? HEAD_PREFIXES;
  const optional = opts.optional ?? [];
  const byModelName = new Map<string, string>();
  for (const name of entries.keys()) {
    if (opts.exclude?.(name)) continue;
    const mapped = heads.some((h) => name.startsWith(h)) ? name : mapKey(name);
    if (mapped === null) continue;
    const earlier = byModelName.get(mapped);
    if (earlier !== undefined) {
      throw new Error(
        `${opts.describe ?? "loadWeights"}: the checkpoint has both "${earlier}" and "${name}" ` +
          `for parameter '${mapped}'`,
      );
    }
    byModelName.set(mapped, name);
  }
  const params = [...model.stateDict()].filter(([name]) => !isLoraName(name));
  const namesOf = new Map<Tensor, string[]>();
  for (const [name, t] of params) namesOf.set(t, [...(namesOf.get(t) ?? []), name]);
  const copies: [Tensor, string][] = [];
  const initialized: string[] = [], missing: string[] = [], mismatched: string[] = [];
  for (const [t, names] of namesOf) {
    const found = names.find((n) => byModelName.has(n));
    if (found === undefined) {
      if (names.some((n) => optional.some((o) => n.startsWith(o)))) initialized.push(names[0]);
      else missing.push(names[0]);
      continue;
    }
    const source = byModelName.get(found)!;
    const shape = entries.get(source)!.shape;
    if (shape.length !== t.rank || shape.some((d, i) => d !== t.shape[i])) {
      mismatched.push(
        `'${found}': checkpoint ${fmtShape(shape)}, model ${fmtShape(t.shape)}` +
          (source === found ? "" : ` (checkpoint tensor '${source}')`),
      );
    }
    copies.push([t, source]);
  }
  const known = new Set(params.map(([n]) => n));
  const unused: string[] = [], unknown: string[] = [];
  for (const [mapped, source] of byModelName) {
    if (known.has(mapped)) continue;
    if (heads.some((h) => mapped.startsWith(h))) unused.push(source);
    else unknown.push(source);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing tensors: ${list(missing)}`);
  if (unknown.length) problems.push(`tensors the model does not have: ${list(unknown)}`);
  if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join("; ")}`);
  if (problems.length) {
    throw new Error(
      `${opts.describe ?? "loadWeights"}: the checkpoint does not fit this model: ${
        problems.join(". ")
      }`,
    );
  }
  return { copies, initialized, unused };
}

function list(names: string[]): string {
  const shown = names.slice(0, 12).map((n) => `'${n}'`).join(", ");
  return names.length > 12 ? `${shown}, ... (${names.length} in all)` : shown;
}

/** Writes host values into a parameter's storage at an element offset. */
function writeInto(param: Tensor, values: Float32Array, offset: number): void {
  param.backend.write(param.storage.handle, values, param.offset + offset);
}

/**
 * Fills `model`'s parameters from a checkpoint, one tensor at a time straight from the file
 * into the parameter's storage (see `planWeights` for the checks, which all run first).
 *
 * @example
 * ```ts
 * import {
 *   llamaCheckpointKey,
 *   LlamaForCausalLM,
 *   loadConfig,
 *   loadWeights,
 *   openCheckpoint,
 *   openModel,
 * } from "@tether/rlhf/models";
 *
 * const files = await openModel("tests/fixtures/models/llama-a"); // a tiny Llama (or a Hub id)
 * const model = new LlamaForCausalLM(await loadConfig(files), { initWeights: false });
 * using reader = await openCheckpoint(files);
 * const result = await loadWeights(model, reader, {
 *   mapKey: llamaCheckpointKey,
 *   describe: "my model",
 * });
 * console.log(result.unused, result.initialized); // [] []: every tensor found its parameter
 * ```
 */
export async function loadWeights(
  model: Module,
  reader: CheckpointReader,
  opts: LoadWeightsOptions = {},
): Promise<LoadWeightsResult> {
  const plan = planWeights(model, reader.entries, opts);
  for (const [param, source] of plan.copies) {
    param.assertLive(`loadWeights '${source}'`);
    if (!param.isContiguous) {
      throw new Error(`loadWeights: parameter for '${source}' is a strided view`);
    }
    await reader.read(source, (values, offset) => writeInto(param, values, offset));
  }
  return { initialized: plan.initialized, unused: plan.unused };
}
