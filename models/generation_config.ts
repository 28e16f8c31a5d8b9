/**
 * `generation_config.json`: the generation defaults a checkpoint ships with (an instruct
 * model's sampling temperature, its EOS and pad ids). They become the defaults of the model's
 * `generate`, under whatever the caller passes, as transformers applies them.
 *
 * @module
 */

import type { GenerateOptions } from "./generation.ts";
import type { ModelFiles } from "./hub/repo.ts";

/** What `generationDefaults` read. */
export interface GenerationDefaults {
  /** The defaults, as `generate` options. */
  options: GenerateOptions;
  /** Notes about fields that were not applied (unsupported ones, extra EOS ids). */
  notes: string[];
}

const NUMBER_FIELDS: [string, keyof GenerateOptions, "int" | "number"][] = [
  ["max_new_tokens", "maxNewTokens", "int"],
  ["min_new_tokens", "minNewTokens", "int"],
  ["min_length", "minLength", "int"],
  ["temperature", "temperature", "number"],
  ["top_k", "topK", "int"],
  ["top_p", "topP", "number"],
  ["num_beams", "numBeams", "int"],
  ["num_return_sequences", "numReturnSequences", "int"],
];

// Fields that change what generate computes, which it does not implement: say so rather than
// silently sampling differently from transformers.
const UNSUPPORTED: Record<string, unknown> = {
  repetition_penalty: 1,
  no_repeat_ngram_size: 0,
  typical_p: 1,
  min_p: null,
  epsilon_cutoff: 0,
  eta_cutoff: 0,
  diversity_penalty: 0,
  encoder_repetition_penalty: 1,
  num_beam_groups: 1,
};

function tokenIds(value: unknown): number[] | null {
  if (value === null || value === undefined) return null;
  const ids = Array.isArray(value) ? value : [value];
  return ids.every((v) => Number.isInteger(v) && v >= 0) ? ids as number[] : null;
}

/**
 * The `generate` defaults of a parsed `generation_config.json`: `max_new_tokens`,
 * `min_new_tokens`, `min_length`, `do_sample`, `temperature`, `top_k`, `top_p`, `num_beams`,
 * `num_return_sequences`, `length_penalty`, `early_stopping`, `eos_token_id` (the first of a
 * list) and `pad_token_id`. Only fields present in the file are set, so
 * `generate`'s own defaults hold for the rest. Fields `generate` does not implement
 * (`repetition_penalty`, ...) are reported in `notes` when they would change the output.
 *
 * @example
 * ```ts
 * const { options } = generationDefaults({ do_sample: true, temperature: 0.7, top_p: 0.8 });
 * // { doSample: true, temperature: 0.7, topP: 0.8 }
 * ```
 *
 * @param json The parsed file.
 * @param source Names the file in messages.
 */
export function generationDefaults(
  json: Record<string, unknown>,
  source = "generation_config.json",
): GenerationDefaults {
  const options: GenerateOptions = {};
  const notes: string[] = [];
  const bad = (field: string, want: string) => {
    throw new Error(`${source}: ${field} must be ${want}, got ${JSON.stringify(json[field])}`);
  };
  for (const [field, key, kind] of NUMBER_FIELDS) {
    const v = json[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || (kind === "int" && !Number.isInteger(v)) || v < 0) {
      bad(field, kind === "int" ? "an integer >= 0" : "a number >= 0");
    }
    (options as Record<string, unknown>)[key] = v;
  }
  if (json.do_sample !== undefined) {
    if (typeof json.do_sample !== "boolean") bad("do_sample", "true or false");
    options.doSample = json.do_sample as boolean;
  }
  if (json.length_penalty !== undefined && json.length_penalty !== null) {
    if (typeof json.length_penalty !== "number" || !Number.isFinite(json.length_penalty)) {
      bad("length_penalty", "a finite number");
    }
    options.lengthPenalty = json.length_penalty as number;
  }
  const early = json.early_stopping;
  if (early !== undefined && early !== null) {
    if (typeof early !== "boolean" && early !== "never") {
      bad("early_stopping", 'true, false or "never"');
    }
    options.earlyStopping = early as boolean | "never";
  }
  if (json.eos_token_id !== undefined) {
    const ids = tokenIds(json.eos_token_id);
    if (json.eos_token_id !== null && ids === null) bad("eos_token_id", "a token id or a list");
    options.eosTokenId = ids?.[0] ?? null;
    if (ids && ids.length > 1) {
      notes.push(
        `${source}: eos_token_id lists ${ids.join(", ")}; generate stops on ${ids[0]} only ` +
          `(pass eosTokenId to choose another)`,
      );
    }
  }
  if (json.pad_token_id !== undefined && json.pad_token_id !== null) {
    const ids = tokenIds(json.pad_token_id);
    if (ids === null || ids.length !== 1) bad("pad_token_id", "a token id");
    options.padTokenId = ids![0];
  }
  for (const [field, neutral] of Object.entries(UNSUPPORTED)) {
    const v = json[field];
    if (v !== undefined && v !== neutral && v !== null) {
      notes.push(`${source}: ${field} = ${JSON.stringify(v)} is not supported; it is ignored`);
    }
  }
  return { options, notes };
}

/**
 * Reads a model's `generation_config.json` when it has one (defaults `{}` when not).
 *
 * @param files The model's files.
 */
export async function loadGenerationDefaults(files: ModelFiles): Promise<GenerationDefaults> {
  const path = await files.file("generation_config.json", { optional: true });
  if (path === null) return { options: {}, notes: [] };
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`${path}: must hold a JSON object`);
  }
  return generationDefaults(json as Record<string, unknown>, path);
}
