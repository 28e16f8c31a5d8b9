/**
 * Copying a checkpoint read as host arrays (`loadStateDict`) into a model's parameters, and
 * reading them back for saving. Checkpoint names map to parameter names through the
 * architecture's key mapping (`ArchitectureRow.checkpointKey`); everything is checked (missing,
 * unknown and misshapen tensors, each named, the last with both shapes) before anything is
 * written; a weight tied under several names is filled once, from whichever name the checkpoint
 * has; each host array is released once copied.
 *
 * @module
 */

import { type Tensor, tensor } from "../core/mod.ts";
import { assign, type Module } from "../core/nn/mod.ts";
import { fmtShape } from "../core/shape.ts";
import { isLoraName } from "./gpt2/weights.ts";
import type { HostArray, HostTensor } from "./io/host.ts";

/** Prefixes of heads that wrappers add beside a model (TRL's value head, a score head). */
export const HEAD_PREFIXES: readonly string[] = ["v_head.", "score.", "lm_head."];

/** Options of `loadStateDictWeights`. */
export interface StateDictWeightsOptions {
  /**
   * The model's parameter name for a checkpoint tensor name, or null for tensors that are not
   * weights or that the model reads under another name. Default: the name itself.
   */
  mapKey?: (name: string) => string | null;
  /** Parameter-name prefixes the checkpoint may lack; those keep their values (`v_head.`). */
  optional?: readonly string[];
  /**
   * Checkpoint-name prefixes of heads the model may lack (default `HEAD_PREFIXES`): such tensors
   * are reported as unused; any other unknown tensor is an error.
   */
  heads?: readonly string[];
  /** Names the model in errors, e.g. `T5ForConditionalGeneration from ./flan-t5-small`. */
  describe?: string;
}

/** What loading did beside filling every parameter. */
export interface StateDictWeightsResult {
  /** Parameters that kept their values (allowed by `optional`). */
  initialized: string[];
  /** Checkpoint tensors of heads the model lacks, left unused. */
  unused: string[];
}

function list(names: string[]): string {
  const shown = names.slice(0, 12).map((n) => `'${n}'`).join(", ");
  return names.length > 12 ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Fills `model`'s parameters from `state` (checkpoint names → host arrays), deleting each entry
 * once copied. Throws, naming every missing, unknown and misshapen tensor, when the checkpoint
 * does not fit; nothing is written then. LoRA adapter weights are never read from it.
 */
export function loadStateDictWeights(
  model: Module,
  state: Map<string, HostTensor>,
  opts: StateDictWeightsOptions = {},
): StateDictWeightsResult {
  const who = opts.describe ?? "loadStateDictWeights";
  const mapKey = opts.mapKey ?? ((n: string) => n);
  const heads = opts.heads ?? HEAD_PREFIXES;
  const optional = opts.optional ?? [];
  const byModelName = new Map<string, string>();
  for (const name of state.keys()) {
    const mapped = heads.some((h) => name.startsWith(h)) ? name : mapKey(name);
    if (mapped === null) continue;
    const earlier = byModelName.get(mapped);
    if (earlier !== undefined) {
      throw new Error(
        `${who}: the checkpoint has both "${earlier}" and "${name}" for parameter '${mapped}'`,
      );
    }
    byModelName.set(mapped, name);
  }
  const params = [...model.stateDict()].filter(([name]) => !isLoraName(name));
  const namesOf = new Map<Tensor, string[]>();
  for (const [name, t] of params) namesOf.set(t, [...(namesOf.get(t) ?? []), name]);
  const copies: [Tensor, string, string][] = [];
  const initialized: string[] = [], missing: string[] = [], mismatched: string[] = [];
  for (const [t, names] of namesOf) {
    const found = names.find((n) => byModelName.has(n));
    if (found === undefined) {
      if (names.some((n) => optional.some((o) => n.startsWith(o)))) initialized.push(names[0]);
      else missing.push(names[0]);
      continue;
    }
    const source = byModelName.get(found)!;
    const shape = state.get(source)!.shape;
    if (shape.length !== t.rank || shape.some((d, i) => d !== t.shape[i])) {
      mismatched.push(
        `'${found}': checkpoint ${fmtShape(shape)}, model ${fmtShape(t.shape)}` +
          (source === found ? "" : ` (checkpoint tensor '${source}')`),
      );
    }
    copies.push([t, source, found]);
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
    throw new Error(`${who}: the checkpoint does not fit this model: ${problems.join(". ")}`);
  }
  for (const [param, source, name] of copies) {
    const src = state.get(source)!;
    const host = tensor(src.data, src.shape, { backend: "cpu" });
    try {
      assign(param, host, `loading '${name}'`);
    } finally {
      host.dispose();
    }
    state.delete(source);
  }
  return { initialized, unused };
}

/**
 * A model's weights as host arrays under its parameter names, each tensor once (under its first
 * name, so a head tied to the embedding is left out, as transformers saves it), LoRA adapter
 * weights excluded.
 */
export async function hostWeights(model: Module): Promise<Map<string, HostArray>> {
  const out = new Map<string, HostArray>();
  const seen = new Set<Tensor>();
  for (const [name, t] of model.stateDict()) {
    if (isLoraName(name) || seen.has(t)) continue;
    seen.add(t);
    out.set(name, { shape: [...t.shape], data: await t.toArray() });
  }
  return out;
}
