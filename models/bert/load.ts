/**
 * Filling a BERT-family classifier from checkpoint tensors with transformers' rules: encoder
 * weights must all be present with their shapes; the task head (and BERT's pooler) may be absent
 * or resized, in which case it is initialised fresh from a seed and a log line says so.
 *
 * @module
 */

import { fmtShape, type Generator, nn, tensor } from "../../core/mod.ts";
import type { StateDict } from "../io/host.ts";
import { mapCheckpointKeys } from "./checkpoint_keys.ts";
import type { EncoderForSequenceClassification } from "./classifier.ts";
import { initParameter } from "./init.ts";

/** How {@link loadEncoderWeights} treats the head. */
export interface LoadEncoderWeightsOptions {
  /** Where the weights came from, for messages. */
  source: string;
  /** Whether the caller chose the label count (a resized head is then expected, not an error). */
  numLabelsOverridden: boolean;
  /** Draws for freshly initialised weights. */
  generator: Generator;
  /** Where notices go (default `console.warn`). */
  log?: (message: string) => void;
}

/** What {@link loadEncoderWeights} did besides copying. */
export interface LoadEncoderWeightsReport {
  /** Model weights initialised fresh (absent from the checkpoint or resized). */
  newlyInitialized: string[];
  /** Checkpoint tensors the model has no place for (ignored). */
  unused: string[];
}

/**
 * Copy `state` into `model` in place. Throws, before changing anything, when an encoder weight
 * is missing or has another shape, or when the head's shape disagrees without an explicit
 * label count.
 *
 * @param model The freshly built model.
 * @param state Checkpoint tensors by name.
 * @param opts Source name, head policy, generator and log.
 */
export function loadEncoderWeights(
  model: EncoderForSequenceClassification,
  state: StateDict,
  opts: LoadEncoderWeightsOptions,
): LoadEncoderWeightsReport {
  const log = opts.log ?? ((m: string) => console.warn(m));
  const mine = model.stateDict();
  const names = mapCheckpointKeys(state.keys(), new Set(mine.keys()), model.basePrefix);
  const byModelName = new Map<string, string>();
  for (const [key, name] of names) byModelName.set(name, key);

  const fresh: string[] = [];
  const freshNotes: string[] = [];
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, dst] of mine) {
    const key = byModelName.get(name);
    const src = key === undefined ? undefined : state.get(key);
    if (!src) {
      if (model.isHeadWeight(name)) {
        fresh.push(name);
        freshNotes.push(`${name} ${fmtShape(dst.shape)} (not in the checkpoint)`);
      } else missing.push(name);
      continue;
    }
    const same = src.shape.length === dst.rank && src.shape.every((n, i) => n === dst.shape[i]);
    if (same) continue;
    if (model.isHeadWeight(name) && opts.numLabelsOverridden) {
      fresh.push(name);
      freshNotes.push(`${name} ${fmtShape(dst.shape)} (checkpoint ${fmtShape(src.shape)})`);
    } else {
      mismatched.push(`${key}: checkpoint ${fmtShape(src.shape)}, model ${fmtShape(dst.shape)}`);
    }
  }
  const problems: string[] = [];
  if (missing.length) {
    problems.push(
      `missing ${missing.length} encoder weights (${preview(missing)}); is this a ` +
        `${model.config.modelType} checkpoint?`,
    );
  }
  if (mismatched.length) {
    const hint = mismatched.some((m) => model.isHeadWeight(m.split(":")[0]))
      ? " (pass numLabels to resize the classification head)"
      : "";
    problems.push(`shape mismatches: ${preview(mismatched)}${hint}`);
  }
  if (problems.length) {
    throw new Error(`${model.architecture} from ${opts.source}: ${problems.join("; ")}`);
  }

  const freshSet = new Set(fresh);
  for (const [name, dst] of mine) {
    if (freshSet.has(name)) continue;
    const src = state.get(byModelName.get(name)!)!;
    using t = tensor(src.data, src.shape, { backend: dst.backend.name });
    nn.assign(dst, t, `load '${name}'`);
  }
  const modules = new Map(model.namedModules());
  for (const name of fresh) {
    const cut = name.lastIndexOf(".");
    const owner = modules.get(name.slice(0, cut));
    if (!owner) throw new Error(`loadEncoderWeights: no module owns '${name}'`);
    initParameter(owner, name.slice(cut + 1), opts.generator, model.config.initializerRange);
  }
  if (fresh.length) {
    log(
      `${model.architecture}: newly initialized, not loaded from ${opts.source}: ` +
        `${freshNotes.join(", ")}. Train the model on a downstream task before trusting its ` +
        `scores.`,
    );
  }
  const unused = [...state.keys()].filter((k) => {
    const name = names.get(k);
    return name !== undefined && !mine.has(name);
  });
  if (unused.length) {
    log(
      `${model.architecture}: ${unused.length} weights of ${opts.source} are not used by this ` +
        `model: ${preview(unused)}`,
    );
  }
  return { newlyInitialized: fresh, unused };
}

function preview(items: string[]): string {
  const shown = items.slice(0, 8).join(", ");
  return items.length > 8 ? `${shown}, ... (${items.length} in all)` : shown;
}
