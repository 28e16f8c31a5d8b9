/**
 * One row of an architecture table: everything a loader needs to know about one `model_type`
 * (transformers' Auto classes keep the same facts in their mappings). The causal table
 * (`CAUSAL_LM_ARCHITECTURES`) and the seq2seq table hold rows of this shape, so one loader
 * recipe serves both: read `config.json`, pick the row by `model_type`, parse the config, build
 * the model with empty weights, stream the checkpoint in through `checkpointKey`.
 *
 * @module
 */

import type { Generator } from "../core/random.ts";

/** How a row builds a model. */
export interface BuildOptions {
  /** Backend of the weights. */
  backend: string;
  /** Source of initial weights and dropout masks (default: the global generator). */
  generator?: Generator;
  /**
   * Draw transformers' initial weights (default true). False allocates zeros without drawing,
   * for weights a checkpoint is about to fill.
   */
  initWeights?: boolean;
}

/** The facts a loader needs about one architecture, keyed by `config.model_type`. */
export interface ArchitectureRow<Model> {
  /** transformers' `model_type`. */
  readonly modelType: string;
  /** The Python class this row mirrors (written as `architectures` when saving). */
  readonly className: string;
  /**
   * Checks `config.json` contents and fills transformers' defaults; throws naming a field the
   * architecture needs that is missing or holds a bad value.
   */
  parseConfig(raw: Record<string, unknown>): Record<string, unknown>;
  /** A model for a config (raw or parsed), with fresh or empty weights. */
  create(config: Record<string, unknown>, opts: BuildOptions): Model;
  /**
   * The model's parameter name for a checkpoint tensor name (checkpoints come with or without
   * the base-model prefix), or null for tensors that are not weights (saved buffers).
   */
  checkpointKey(name: string): string | null;
  /** PEFT's default LoRA target modules for this `model_type`. */
  readonly loraTargets: readonly string[];
}

/**
 * The row for `raw.model_type` in `table`; an unknown or missing type fails naming the
 * supported ones.
 *
 * @param table Rows by `model_type`.
 * @param raw The parsed `config.json`.
 * @param who The loader and the model, for the message.
 */
export function architectureFor<Model>(
  table: Readonly<Record<string, ArchitectureRow<Model>>>,
  raw: Record<string, unknown>,
  who: string,
): ArchitectureRow<Model> {
  const type = raw.model_type;
  const row = typeof type === "string" && Object.hasOwn(table, type) ? table[type] : undefined;
  if (!row) {
    throw new Error(
      `${who}: model_type ${JSON.stringify(type)} is not supported; supported model_type values: ` +
        `${Object.keys(table).map((s) => `"${s}"`).join(", ")}`,
    );
  }
  return row;
}
