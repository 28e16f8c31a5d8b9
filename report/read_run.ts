/**
 * Reading run folders back for the report: which folders are runs, and what each holds.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { type MetricsRecord, readMetrics } from "../algorithms/common/metrics.ts";
import type { SampleRecord } from "./samples.ts";
import {
  type DistributionRecord,
  readDistributions,
  readRunConfig,
  readSamples,
  RUN_FILES,
} from "./run_files.ts";

/** A held-out comparison of the original and the tuned policy (`side_by_side.json`). */
export interface SideBySideRecord {
  /** Column names of the two models. */
  labels: { before: string; after: string };
  /** One row per held-out prompt. */
  rows: {
    prompt: string;
    before: string;
    beforeReward: number;
    after: string;
    afterReward: number;
  }[];
}

/** Everything a run folder holds for the report. */
export interface RunData {
  /** Short name shown in legends and headings. */
  name: string;
  /** The folder. */
  dir: string;
  /** `metrics.jsonl` lines. */
  metrics: MetricsRecord[];
  /** `samples.jsonl` rows. */
  samples: SampleRecord[];
  /** `distributions.jsonl` records. */
  distributions: DistributionRecord[];
  /** `config.json`, by section. */
  config: Record<string, unknown>;
  /** `side_by_side.json`, when the run wrote one. */
  sideBySide: SideBySideRecord | null;
}

const MARKERS = [
  RUN_FILES.metrics,
  RUN_FILES.samples,
  RUN_FILES.distributions,
  RUN_FILES.sideBySide,
];

async function isRun(dir: string): Promise<boolean> {
  for (const name of MARKERS) {
    try {
      if ((await Deno.stat(join(dir, name))).isFile) return true;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return false;
}

/**
 * The run folders named by `paths`: a folder holding run files is a run; a folder that holds
 * none stands for the runs one level below it (the demo's `best_of_n/` and `ppo/`, the
 * comparison's `ppo/`, `dpo/`, `rest/`). Fails, naming the path, when a path holds no run.
 *
 * @param paths Folders given by the caller.
 */
export async function findRuns(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) throw new Error("report: name at least one run folder");
  const runs: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`report: ${path} does not exist; pass a run folder such as runs/<name>`);
      }
      throw error;
    }
    if (!info.isDirectory) throw new Error(`report: ${path} is not a folder; pass a run folder`);
    if (await isRun(path)) {
      runs.push(path);
      continue;
    }
    const children: string[] = [];
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && (await isRun(join(path, e.name)))) children.push(join(path, e.name));
    }
    if (children.length === 0) {
      throw new Error(
        `report: ${path} holds no run (no ${MARKERS.join(", ")}), nor do the folders in it`,
      );
    }
    runs.push(...children.sort());
  }
  const seen = new Set<string>();
  return runs.filter((r) => !seen.has(resolve(r)) && seen.add(resolve(r)));
}

/**
 * Short, distinct names for runs: the folder name, or more of the path where two share one.
 *
 * @param dirs Run folders.
 */
export function runNames(dirs: readonly string[]): string[] {
  const parts = dirs.map((d) => resolve(d).split(/[\\/]/).filter(Boolean));
  for (let depth = 1; depth <= Math.max(1, ...parts.map((p) => p.length)); depth++) {
    const names = parts.map((p) => p.slice(-depth).join("/"));
    if (new Set(names).size === names.length) return names;
  }
  return dirs.map((d) => basename(resolve(d)));
}

/**
 * Read one run folder (missing files read as empty).
 *
 * @param dir The run folder.
 * @param name Its display name.
 */
export async function readRun(dir: string, name: string): Promise<RunData> {
  let metrics: MetricsRecord[] = [];
  try {
    metrics = await readMetrics(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let sideBySide: SideBySideRecord | null = null;
  try {
    sideBySide = JSON.parse(await Deno.readTextFile(join(dir, RUN_FILES.sideBySide)));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`report: cannot read ${join(dir, RUN_FILES.sideBySide)}: ${error}`);
    }
  }
  return {
    name,
    dir,
    metrics,
    samples: await readSamples(dir),
    distributions: await readDistributions(dir),
    config: await readRunConfig(dir),
    sideBySide,
  };
}
