/**
 * Loading a model's weights and config from a folder or the Hub, whatever the checkpoint
 * format (`model.safetensors`, sharded safetensors, `pytorch_model.bin`, sharded bin), and
 * saving a checkpoint Python's transformers can load.
 *
 * @module
 */

import { join } from "node:path";
import { openModel } from "../hub/repo.ts";
import type { ModelFiles } from "../hub/repo.ts";
import type { HubOptions } from "../hub/env.ts";
import { pathExists, siblingTempPath, writeFileAtomic } from "./atomic.ts";
import type { HostArray, StateDict } from "./host.ts";
import { encodeSafetensors, readSafetensors } from "./safetensors.ts";
import { readTorchCheckpoint } from "./torch_bin.ts";

/** Options for {@link loadStateDict}. */
export interface LoadStateDictOptions extends HubOptions {
  /** Keep only the tensors this returns true for (others are never converted). */
  include?: (name: string) => boolean;
}

/** Which checkpoint file a model uses, in the order they are tried. */
export const CHECKPOINT_FILES = [
  "model.safetensors",
  "model.safetensors.index.json",
  "pytorch_model.bin",
  "pytorch_model.bin.index.json",
] as const;

interface ShardIndex {
  weight_map: Record<string, string>;
}

function readShardIndex(text: string, source: string): ShardIndex {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const map = (index as ShardIndex)?.weight_map;
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new Error(`${source}: missing "weight_map" (tensor name → shard file)`);
  }
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== "string" || shard.includes("..") || shard.startsWith("/")) {
      throw new Error(
        `${source}: tensor "${name}" maps to an invalid shard ${JSON.stringify(shard)}`,
      );
    }
  }
  return index as ShardIndex;
}

async function readCheckpointFile(
  path: string,
  include: ((name: string) => boolean) | undefined,
): Promise<StateDict> {
  return path.endsWith(".safetensors")
    ? await readSafetensors(path, { include })
    : await readTorchCheckpoint(path, { include });
}

async function readSharded(
  files: ModelFiles,
  indexPath: string,
  include: ((name: string) => boolean) | undefined,
): Promise<StateDict> {
  const index = readShardIndex(await Deno.readTextFile(indexPath), indexPath);
  const shards = [...new Set(Object.values(index.weight_map))];
  const out: StateDict = new Map();
  for (const shard of shards) {
    const wanted = (name: string) =>
      index.weight_map[name] === shard && (include === undefined || include(name));
    const path = await files.file(shard);
    for (const [name, tensor] of await readCheckpointFile(path, wanted)) out.set(name, tensor);
  }
  const missing = Object.keys(index.weight_map).filter((name) =>
    !out.has(name) && (include === undefined || include(name))
  );
  if (missing.length > 0) {
    throw new Error(
      `${indexPath}: ${missing.length} tensors listed in the index are absent from their shards ` +
        `(first: "${missing[0]}" in ${index.weight_map[missing[0]]})`,
    );
  }
  return out;
}

/**
 * Find which checkpoint file a model has (downloading nothing but what it takes to tell).
 *
 * @param files The model's files.
 */
export async function findCheckpointFile(
  files: ModelFiles,
): Promise<{ name: (typeof CHECKPOINT_FILES)[number]; path: string }> {
  for (const name of CHECKPOINT_FILES) {
    const path = await files.file(name, { optional: true });
    if (path !== null) return { name, path };
  }
  throw new Error(
    `model ${files.id} has no weights: looked for ${CHECKPOINT_FILES.join(", ")}`,
  );
}

/**
 * Read every tensor of a model's checkpoint as f32 host tensors, from a folder or the Hub.
 *
 * @example
 * ```ts
 * import { loadStateDict, normalizeGpt2Keys } from "@tether/rlhf/models";
 * const weights = normalizeGpt2Keys(await loadStateDict("openai-community/gpt2"));
 * console.log(weights.get("wte.weight")!.shape); // [50257, 768]
 * ```
 *
 * @param ref A folder or Hub id, or already opened {@link ModelFiles}.
 * @param options Hub settings and a tensor filter.
 */
export async function loadStateDict(
  ref: string | ModelFiles,
  options: LoadStateDictOptions = {},
): Promise<StateDict> {
  const files = typeof ref === "string" ? await openModel(ref, options) : ref;
  const { name, path } = await findCheckpointFile(files);
  return name.endsWith(".index.json")
    ? await readSharded(files, path, options.include)
    : await readCheckpointFile(path, options.include);
}

/**
 * Read a model's `config.json`.
 *
 * @param ref A folder or Hub id, or already opened {@link ModelFiles}.
 * @param options Hub settings.
 */
export async function loadConfig(
  ref: string | ModelFiles,
  options: HubOptions = {},
): Promise<Record<string, unknown>> {
  const files = typeof ref === "string" ? await openModel(ref, options) : ref;
  const path = await files.file("config.json");
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** What {@link saveCheckpoint} writes. */
export interface CheckpointContents {
  /** The model's `config.json` contents. */
  config: Record<string, unknown>;
  /** Weights, named as the Python model class expects them. */
  tensors: Map<string, HostArray> | Record<string, HostArray>;
  /** Extra files (e.g. `tokenizer.json`) as text or bytes. */
  extraFiles?: Record<string, string | Uint8Array>;
}

/**
 * Save `config.json` + `model.safetensors` (F32) into a folder that Python's
 * `from_pretrained` loads. A new folder appears whole (written under a temporary name, then
 * renamed); in an existing folder each file is replaced atomically.
 *
 * @param folder Destination folder.
 * @param contents Config, weights and extra files.
 */
export async function saveCheckpoint(folder: string, contents: CheckpointContents): Promise<void> {
  const files: [string, Uint8Array][] = [
    ["config.json", new TextEncoder().encode(JSON.stringify(contents.config, null, 2) + "\n")],
    ["model.safetensors", encodeSafetensors(contents.tensors)],
  ];
  for (const [name, body] of Object.entries(contents.extraFiles ?? {})) {
    if (name.includes("/") || name.includes("\\") || name.startsWith(".")) {
      throw new Error(`saveCheckpoint: extra file name "${name}" must be a plain file name`);
    }
    files.push([name, typeof body === "string" ? new TextEncoder().encode(body) : body]);
  }
  if (await pathExists(folder)) {
    // Weights before config, so a reader that sees the new config also sees the new weights.
    for (const [name, body] of [...files].reverse()) {
      await writeFileAtomic(join(folder, name), body);
    }
    return;
  }
  const temp = siblingTempPath(folder, "saving");
  try {
    await Deno.mkdir(temp, { recursive: true });
    for (const [name, body] of files) await Deno.writeFile(join(temp, name), body);
    await Deno.rename(temp, folder);
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
}
