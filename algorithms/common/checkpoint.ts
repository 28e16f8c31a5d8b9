/**
 * Training checkpoints: model weights and optimizer state as safetensors, plus a JSON manifest
 * (step, optimizer hyperparameters, scheduler state, trainer state), written atomically.
 *
 * A checkpoint folder is built under a temporary sibling and renamed into place only once every
 * file is written, the manifest last; the previous checkpoint is removed only after that. If the
 * process dies mid-write, `loadCheckpoint` still finds the last complete one; if a write fails
 * (a full disk), the partial one is removed and the error names the file. Values that are not
 * finite are refused, so a diverged run never replaces a good checkpoint.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { Tensor } from "../../core/mod.ts";
import { assign } from "../../core/nn/assign.ts";
import type { OptimizerStateDict, ParamState, SchedulerState } from "../../core/optim/mod.ts";
import { withPath, writeFileNamed, writeTextFileNamed } from "../../common/fs_errors.ts";
import { pathExists } from "../../models/io/atomic.ts";
import { type SafetensorsSource, streamSafetensors } from "../../models/io/safetensors.ts";
import {
  decodeTensorFile,
  hostDtypeOf,
  type HostValues,
  hostValuesOf,
  tensorFromHost,
} from "./tensor_file.ts";

/** A model as checkpoints see it: a `Module` (state dict) or just a parameter list. */
export interface CheckpointModel {
  /** Trainable parameters (used, by index, when there is no `stateDict`). */
  parameters(): Tensor[];
  /** Dotted names to live tensors (core `nn.Module`). */
  stateDict?(): Map<string, Tensor>;
  /** Copies values into the live tensors in place. */
  loadStateDict?(state: ReadonlyMap<string, Tensor>): unknown;
}

/** An optimizer with torch-style state dicts (core `optim`). */
export interface CheckpointOptimizer {
  /** Live state; buffers are serialized before anything else runs. */
  stateDict(): OptimizerStateDict;
  /** Restores hyperparameters, steps and buffers. */
  loadStateDict(state: OptimizerStateDict): void;
}

/** A learning-rate scheduler with a resumable state (core `optim.LambdaLR`). */
export interface CheckpointScheduler {
  /** Step count and initial lrs. */
  stateDict(): SchedulerState;
  /** Restores them. */
  loadStateDict(state: SchedulerState): void;
}

/** What {@link saveCheckpoint} writes. */
export interface CheckpointContents {
  /** The model whose weights are saved. */
  model: CheckpointModel;
  /** Its optimizer, if any. */
  optimizer?: CheckpointOptimizer;
  /** Its learning-rate scheduler, if any. */
  scheduler?: CheckpointScheduler;
  /** Optimizer steps completed. */
  step: number;
  /** Trainer state (JSON-serializable: numbers round-trip exactly). */
  extra?: Record<string, unknown>;
}

/** Where {@link loadCheckpoint} restores into. */
export interface CheckpointTargets {
  /** Model whose tensors receive the saved weights in place. */
  model: CheckpointModel;
  /** Optimizer to restore (omit to leave it alone). */
  optimizer?: CheckpointOptimizer;
  /** Scheduler to restore. */
  scheduler?: CheckpointScheduler;
}

/** What {@link loadCheckpoint} found. */
export interface LoadedCheckpoint {
  /** Optimizer steps completed when it was saved. */
  step: number;
  /** The trainer state saved with it. */
  extra: Record<string, unknown>;
  /** The folder actually read (a recovered sibling when a save was interrupted). */
  dir: string;
}

/** The manifest file of a checkpoint folder. */
export const CHECKPOINT_MANIFEST = "checkpoint.json";
const MODEL_FILE = "model.safetensors";
const OPTIMIZER_FILE = "optimizer.safetensors";
const FORMAT = "tether-checkpoint";

interface Manifest {
  format: typeof FORMAT;
  version: 1;
  step: number;
  model: { file: string; keys: "stateDict" | "parameters" };
  optimizer: null | {
    file: string;
    paramGroups: Record<string, unknown>[];
    state: { index: number; step: number; buffers: string[] }[];
  };
  scheduler: SchedulerState | null;
  extra: Record<string, unknown>;
}

/**
 * Write a checkpoint to `dir` atomically, replacing the one there only once the new one is
 * complete.
 *
 * @param dir Checkpoint folder (created with its parents).
 * @param contents Model, optimizer, scheduler, step and trainer state.
 */
export async function saveCheckpoint(dir: string, contents: CheckpointContents): Promise<void> {
  if (!(Number.isInteger(contents.step) && contents.step >= 0)) {
    throw new Error(`saveCheckpoint: step must be an integer >= 0, got ${contents.step}`);
  }
  // Tensors stream to disk one at a time (a full-size model with Adam's moments does not fit in
  // memory twice); the caller steps nothing until this returns, so the values are this step's.
  let refused: Error | null = null;
  const sourceOf = (what: string, name: string, t: Tensor): SafetensorsSource => ({
    shape: t.shape,
    dtype: hostDtypeOf(t),
    read: async () => {
      const { data } = await hostValuesOf(t);
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        refused = new Error(
          `saveCheckpoint: ${what} tensor '${name}' holds ${data[bad]} at index ${bad}; ` +
            `refusing to replace ${dir} with non-finite values`,
        );
        throw refused;
      }
      return data;
    },
  });
  const { sources: modelSources, keys } = modelSourcesOf(contents.model, sourceOf);
  const optimizer = contents.optimizer ? optimizerSourcesOf(contents.optimizer, sourceOf) : null;
  const manifest: Manifest = {
    format: FORMAT,
    version: 1,
    step: contents.step,
    model: { file: MODEL_FILE, keys },
    optimizer: optimizer
      ? { file: OPTIMIZER_FILE, paramGroups: optimizer.paramGroups, state: optimizer.state }
      : null,
    scheduler: contents.scheduler ? contents.scheduler.stateDict() : null,
    extra: contents.extra ?? {},
  };
  const manifestText = JSON.stringify(manifest, null, 1);

  await withPath("create", dirname(dir), () => Deno.mkdir(dirname(dir), { recursive: true }));
  await removeIncompleteTemps(dir);
  const temp = `${dir}.tmp-${randomTag()}`;
  try {
    await withPath("create", temp, () => Deno.mkdir(temp));
    await writeFileNamed(join(temp, MODEL_FILE), streamSafetensors(modelSources));
    if (optimizer) {
      await writeFileNamed(join(temp, OPTIMIZER_FILE), streamSafetensors(optimizer.sources));
    }
    // The manifest goes last: a folder with a manifest is a complete checkpoint.
    await writeTextFileNamed(join(temp, CHECKPOINT_MANIFEST), manifestText);
  } catch (error) {
    // The previous checkpoint is untouched; free what the failed one took (a full disk).
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw refused ?? error;
  }
  // The new checkpoint is complete: only now does the previous one step aside.
  if (await pathExists(dir)) {
    const old = `${dir}.old-${randomTag()}`;
    await withPath("rename", dir, () => Deno.rename(dir, old));
    try {
      await withPath("rename", temp, () => Deno.rename(temp, dir));
    } catch (error) {
      await Deno.rename(old, dir).catch(() => {});
      throw error;
    }
  } else {
    await withPath("rename", temp, () => Deno.rename(temp, dir));
  }
  // `dir` is complete now: whatever earlier interrupted saves left behind is obsolete.
  for (const path of await siblings(dir, [".tmp-", ".old-"])) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
}

/**
 * Restore a checkpoint: model tensors and optimizer buffers are overwritten in place (they keep
 * their identity), the scheduler state is restored, and the step and trainer state returned.
 *
 * @param dir Checkpoint folder written by {@link saveCheckpoint}.
 * @param targets Model (and optimizer, scheduler) to restore into.
 */
export async function loadCheckpoint(
  dir: string,
  targets: CheckpointTargets,
): Promise<LoadedCheckpoint> {
  const found = await findComplete(dir);
  const manifest = await readManifest(found);
  const modelFile = decodeTensorFile(
    await Deno.readFile(join(found, manifest.model.file)),
    join(found, manifest.model.file),
  );
  restoreModel(targets.model, modelFile, manifest.model.keys, found);

  if (targets.optimizer) {
    if (!manifest.optimizer) {
      throw new Error(
        `loadCheckpoint: ${found} holds no optimizer state; it was saved without one`,
      );
    }
    const file = join(found, manifest.optimizer.file);
    const values = decodeTensorFile(await Deno.readFile(file), file);
    const backendOf = paramsBackend(targets.model);
    const created: Tensor[] = [];
    try {
      const state = new Map<number, ParamState>();
      for (const s of manifest.optimizer.state) {
        const buffers: Record<string, Tensor> = {};
        for (const name of s.buffers) {
          const host = values.get(`state.${s.index}.${name}`);
          if (!host) throw new Error(`loadCheckpoint: ${file} lacks state.${s.index}.${name}`);
          const t = tensorFromHost(host, backendOf);
          created.push(t);
          buffers[name] = t;
        }
        state.set(s.index, { step: s.step, buffers });
      }
      targets.optimizer.loadStateDict({
        state,
        paramGroups: manifest.optimizer.paramGroups as OptimizerStateDict["paramGroups"],
      });
    } finally {
      for (const t of created) t.dispose();
    }
  }
  if (targets.scheduler) {
    if (!manifest.scheduler) {
      throw new Error(
        `loadCheckpoint: ${found} holds no scheduler state; it was saved without one`,
      );
    }
    targets.scheduler.loadStateDict(manifest.scheduler);
  }
  return { step: manifest.step, extra: manifest.extra, dir: found };
}

/**
 * Whether `dir` (or a sibling left by an interrupted save) holds a complete checkpoint.
 *
 * @param dir Checkpoint folder.
 */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await findComplete(dir);
    return true;
  } catch {
    return false;
  }
}

type SourceOf = (what: string, name: string, t: Tensor) => SafetensorsSource;

function modelSourcesOf(
  model: CheckpointModel,
  sourceOf: SourceOf,
): { sources: Map<string, SafetensorsSource>; keys: "stateDict" | "parameters" } {
  const sources = new Map<string, SafetensorsSource>();
  if (model.stateDict) {
    for (const [name, t] of model.stateDict()) sources.set(name, sourceOf("model", name, t));
    return { sources, keys: "stateDict" };
  }
  for (const [i, t] of model.parameters().entries()) {
    sources.set(`parameters.${i}`, sourceOf("model", `parameters.${i}`, t));
  }
  return { sources, keys: "parameters" };
}

function optimizerSourcesOf(optimizer: CheckpointOptimizer, sourceOf: SourceOf) {
  const sd = optimizer.stateDict();
  const sources = new Map<string, SafetensorsSource>();
  const state: { index: number; step: number; buffers: string[] }[] = [];
  for (const [index, s] of sd.state) {
    const names = Object.keys(s.buffers);
    for (const name of names) {
      const key = `state.${index}.${name}`;
      sources.set(key, sourceOf("optimizer", key, s.buffers[name]));
    }
    state.push({ index, step: s.step, buffers: names });
  }
  return { sources, state, paramGroups: sd.paramGroups as Record<string, unknown>[] };
}

function paramsBackend(model: CheckpointModel): string {
  return model.parameters()[0]?.backend.name ?? "cpu";
}

function restoreModel(
  model: CheckpointModel,
  values: Map<string, HostValues>,
  keys: "stateDict" | "parameters",
  source: string,
): void {
  const backend = paramsBackend(model);
  const created = new Map<string, Tensor>();
  try {
    for (const [name, host] of values) created.set(name, tensorFromHost(host, backend));
    if (keys === "stateDict") {
      if (!model.stateDict || !model.loadStateDict) {
        throw new Error(
          `loadCheckpoint: ${source} was saved from a model with a state dict (named tensors); ` +
            `this model has no stateDict/loadStateDict`,
        );
      }
      model.loadStateDict(created);
      return;
    }
    const params = model.parameters();
    if (params.length !== created.size) {
      throw new Error(
        `loadCheckpoint: ${source} holds ${created.size} parameters, the model has ${params.length}`,
      );
    }
    params.forEach((p, i) => assign(p, created.get(`parameters.${i}`)!, `parameter ${i}`));
  } finally {
    for (const t of created.values()) t.dispose();
  }
}

async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, CHECKPOINT_MANIFEST);
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`loadCheckpoint: cannot read ${path}: ${(error as Error).message}`);
  }
  const m = raw as Partial<Manifest>;
  if (m?.format !== FORMAT || m.version !== 1 || !Number.isInteger(m.step) || !m.model) {
    throw new Error(`loadCheckpoint: ${path} is not a ${FORMAT} manifest (version 1)`);
  }
  return m as Manifest;
}

/** `dir` when complete, else the newest complete sibling an interrupted save left behind. */
async function findComplete(dir: string): Promise<string> {
  if (await pathExists(join(dir, CHECKPOINT_MANIFEST))) return dir;
  let best: { path: string; step: number } | null = null;
  for (const path of await siblings(dir, [".tmp-", ".old-"])) {
    try {
      const m = await readManifest(path);
      if (!best || m.step > best.step) best = { path, step: m.step };
    } catch {
      // An incomplete folder: no manifest yet.
    }
  }
  if (!best) {
    throw new Error(
      `loadCheckpoint: no checkpoint at ${dir} (no ${CHECKPOINT_MANIFEST}, and no complete ` +
        `folder left by an interrupted save next to it)`,
    );
  }
  return best.path;
}

async function siblings(dir: string, tags: string[]): Promise<string[]> {
  const parent = dirname(dir), base = basename(dir);
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(parent)) {
      if (entry.isDirectory && tags.some((tag) => entry.name.startsWith(base + tag))) {
        out.push(join(parent, entry.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

/** Removes temporaries of interrupted saves that never finished (a finished one may be the
 * last good checkpoint while `dir` is missing, so it stays until a save completes). */
async function removeIncompleteTemps(dir: string): Promise<void> {
  for (const path of await siblings(dir, [".tmp-"])) {
    if (!(await pathExists(join(path, CHECKPOINT_MANIFEST)))) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

function randomTag(): string {
  return crypto.randomUUID().slice(0, 8);
}
