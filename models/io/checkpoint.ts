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
import { SafetensorsFile, streamHostSafetensors } from "./safetensors.ts";
import { TorchCheckpointFile } from "./torch_bin.ts";
import {
  type CheckpointReader,
  readAll,
  type TensorEntry,
  type TensorSink,
} from "./tensor_stream.ts";

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

async function openCheckpointFile(path: string): Promise<CheckpointReader> {
  return path.endsWith(".safetensors")
    ? await SafetensorsFile.open(path)
    : await TorchCheckpointFile.open(path);
}

/** Shards behind an index file, read as one checkpoint. */
class ShardedCheckpoint implements CheckpointReader {
  readonly entries: ReadonlyMap<string, TensorEntry>;
  readonly #shardOf: Map<string, CheckpointReader>;
  readonly #shards: CheckpointReader[];

  constructor(readonly source: string, shards: CheckpointReader[], owner: Map<string, string>) {
    this.#shards = shards;
    const byFile = new Map(shards.map((r) => [r.source, r]));
    this.#shardOf = new Map();
    const entries = new Map<string, TensorEntry>();
    for (const [name, path] of owner) {
      const shard = byFile.get(path)!;
      this.#shardOf.set(name, shard);
      entries.set(name, shard.entries.get(name)!);
    }
    this.entries = entries;
  }

  read(name: string, sink: TensorSink, chunkElements?: number): Promise<void> {
    const shard = this.#shardOf.get(name);
    if (!shard) return Promise.reject(new Error(`${this.source}: no tensor "${name}"`));
    return shard.read(name, sink, chunkElements);
  }

  close(): void {
    for (const s of this.#shards) s.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

async function openSharded(files: ModelFiles, indexPath: string): Promise<CheckpointReader> {
  const index = readShardIndex(await Deno.readTextFile(indexPath), indexPath);
  const indexName = indexPath.split(/[\\/]/).pop()!;
  const shards: CheckpointReader[] = [];
  try {
    const pathOf = new Map<string, string>();
    for (const shard of new Set(Object.values(index.weight_map))) {
      const path = await files.file(shard, { optional: true });
      if (path === null) {
        const first = Object.keys(index.weight_map).find((n) => index.weight_map[n] === shard);
        throw new Error(
          `${indexPath}: shard "${shard}" (holding "${first}" and others) is missing from ` +
            `${files.id}; download every file the index names`,
        );
      }
      shards.push(await openCheckpointFile(path));
      pathOf.set(shard, path);
    }
    const owner = new Map<string, string>();
    const absent: string[] = [];
    for (const [name, shard] of Object.entries(index.weight_map)) {
      const path = pathOf.get(shard)!;
      if (shards.find((r) => r.source === path)!.entries.has(name)) owner.set(name, path);
      else absent.push(name);
    }
    if (absent.length > 0) {
      throw new Error(
        `${indexPath}: ${absent.length} tensors listed in the index are absent from their ` +
          `shards (first: "${absent[0]}" in ${index.weight_map[absent[0]]})`,
      );
    }
    return new ShardedCheckpoint(`${files.id} (${indexName})`, shards, owner);
  } catch (error) {
    for (const s of shards) s.close();
    throw error;
  }
}

/**
 * Opens a model's checkpoint for reading one tensor at a time, whatever its format
 * (`model.safetensors`, `pytorch_model.bin`, or either sharded behind its index file): only
 * headers are read here. An index naming a shard the model lacks fails naming the shard.
 *
 * @example
 * ```ts
 * import { openCheckpoint, openModel } from "@tether/rlhf/models";
 * // The examples' tiny GPT-2; "openai-community/gpt2" gives shape [50257, 768].
 * using reader = await openCheckpoint(await openModel("examples/assets/tiny-imdb/policy"));
 * console.log(reader.entries.get("transformer.wte.weight")); // { dtype: "F32", shape: [169, 64], ... }
 * ```
 *
 * @param files The model's files.
 */
export async function openCheckpoint(files: ModelFiles): Promise<CheckpointReader> {
  const { name, path } = await findCheckpointFile(files);
  return name.endsWith(".index.json")
    ? await openSharded(files, path)
    : await openCheckpointFile(path);
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
  const looked = `looked for ${CHECKPOINT_FILES.join(", ")}`;
  if (files.offline) {
    throw new Error(
      `model ${files.id} (revision ${files.revision}) has no weights in the local Hub cache ` +
        `(${looked}); HF_HUB_OFFLINE is set, so only cached files count. Fix: load it once ` +
        `online, or download its weights into the cache with Python's huggingface_hub`,
    );
  }
  throw new Error(`model ${files.id} has no weights: ${looked}`);
}

/**
 * Read every tensor of a model's checkpoint as f32 host tensors, from a folder or the Hub.
 *
 * @example
 * ```ts
 * import { loadStateDict, normalizeGpt2Keys } from "@tether/rlhf/models";
 * // The examples' tiny GPT-2; "openai-community/gpt2" gives [50257, 768].
 * const weights = normalizeGpt2Keys(await loadStateDict("examples/assets/tiny-imdb/policy"));
 * console.log(weights.get("wte.weight")!.shape); // [169, 64]
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
  using reader = await openCheckpoint(files);
  return await readAll(reader, options.include);
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
  // The weights stream to disk a tensor at a time: no second full-size copy in memory.
  const files: [string, Uint8Array | ReadableStream<Uint8Array>][] = [
    ["config.json", new TextEncoder().encode(JSON.stringify(contents.config, null, 2) + "\n")],
    ["model.safetensors", streamHostSafetensors(contents.tensors)],
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
