/**
 * Copying a checkpoint into a model whose parameters carry the checkpoint's names: every
 * parameter must be there with its shape (errors name each missing tensor, each unknown one,
 * and each shape mismatch with both shapes), nothing is changed unless every check passes, and
 * each host tensor is released once copied, so loading never holds a third copy of the weights.
 * A weight tied under several names is read under its first. An architecture's key mapping
 * (checkpoint names → parameter names) runs before this.
 *
 * @module
 */

import { type Tensor, tensor } from "../core/mod.ts";
import { assign, type Module } from "../core/nn/mod.ts";
import { fmtShape } from "../core/shape.ts";
import { isLoraName } from "./gpt2/weights.ts";
import type { HostTensor } from "./io/host.ts";

/** Options of `assignWeights`. */
export interface AssignWeightsOptions {
  /** Describes the model in errors, e.g. `T5 (d_model 512, 8+8 blocks, vocab_size 32128)`. */
  describe: string;
  /** Parameter-name prefixes the checkpoint may lack; those keep their fresh values. */
  optional?: readonly string[];
  /**
   * Checkpoint-name prefixes of parts the model may not have (e.g. `v_head.` when a TRL
   * checkpoint loads without a value head): reported as unused instead of failing.
   */
  extras?: readonly string[];
}

/** What `assignWeights` did. */
export interface AssignWeightsResult {
  /** Parameters that kept their fresh values (allowed by `optional`). */
  initialized: string[];
  /** Checkpoint tensors left unused (allowed by `extras`). */
  unused: string[];
}

function list(names: string[]): string {
  const shown = names.slice(0, 12).map((n) => `'${n}'`).join(", ");
  return names.length > 12 ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Copies `state` (already under the model's parameter names) into `model` in place, deleting
 * each entry from `state` once copied. LoRA adapter weights are never read from it.
 */
export function assignWeights(
  model: Module,
  state: Map<string, HostTensor>,
  opts: AssignWeightsOptions,
): AssignWeightsResult {
  const params = model.stateDict();
  // A tied weight is read under its first name only (a .bin repeats it under the others).
  const seen = new Set<Tensor>(), aliases = new Set<string>();
  for (const [name, t] of params) seen.has(t) ? aliases.add(name) : seen.add(t);
  const skip = (name: string) => aliases.has(name);
  const optional = opts.optional ?? [];
  const initialized: string[] = [], missing: string[] = [], mismatched: string[] = [];
  for (const [name, p] of params) {
    if (isLoraName(name) || skip(name)) continue;
    const src = state.get(name);
    if (!src) {
      if (optional.some((o) => name.startsWith(o))) initialized.push(name);
      else missing.push(name);
    } else if (src.shape.length !== p.rank || src.shape.some((d, i) => d !== p.shape[i])) {
      mismatched.push(`'${name}': checkpoint ${fmtShape(src.shape)}, model ${fmtShape(p.shape)}`);
    }
  }
  const unused: string[] = [], unknown: string[] = [];
  for (const name of state.keys()) {
    if (params.has(name)) continue;
    if ((opts.extras ?? []).some((p) => name.startsWith(p))) unused.push(name);
    else unknown.push(name);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing tensors: ${list(missing)}`);
  if (unknown.length) problems.push(`tensors the model does not have: ${list(unknown)}`);
  if (mismatched.length) problems.push(`shape mismatches: ${mismatched.join("; ")}`);
  if (problems.length) {
    throw new Error(
      `the checkpoint does not fit this ${opts.describe}: ${problems.join(". ")}`,
    );
  }
  for (const name of aliases) state.delete(name);
  for (const [name, p] of params) {
    if (isLoraName(name) || skip(name)) continue;
    const src = state.get(name);
    if (!src) continue;
    const host = tensor(src.data, src.shape, { backend: "cpu" });
    try {
      assign(p, host, `loading '${name}'`);
    } finally {
      host.dispose();
    }
    state.delete(name);
  }
  return { initialized, unused };
}
