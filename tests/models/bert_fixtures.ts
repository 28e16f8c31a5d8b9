/** Shared helpers of the BERT-family tests: fixture folders, expected outputs, comparisons. */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The folder of a committed model fixture (`distilbert-a`, `bert-tiny`, `roberta-tiny`). */
export function fixtureDir(name: string): string {
  return fileURLToPath(new URL(`../fixtures/models/${name}/`, import.meta.url));
}

/** expected.json of a model fixture. */
export interface Expected {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids?: number[][];
  last_hidden_state: number[][][];
  logits: number[][];
}

/** Reads a fixture's expected.json. */
export function readExpected(name: string): Expected {
  return JSON.parse(Deno.readTextFileSync(join(fixtureDir(name), "expected.json")));
}

/**
 * A temporary folder holding the fixture's config.json and only `weights` (one checkpoint
 * format), so a loader has no other file to pick.
 */
export async function folderWith(name: string, weights: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tether-bert-" });
  for (const file of ["config.json", weights]) {
    await Deno.copyFile(join(fixtureDir(name), file), join(dir, file));
  }
  return dir;
}

/** max |a − b| over the entries where `keep` is true. */
export function maxAbsDiff(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  keep: (i: number) => boolean = () => true,
): number {
  assert.equal(actual.length, expected.length, "length");
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!keep(i)) continue;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/**
 * A Hugging Face hub cache holding `files` of fixture `name` as repo `repoId`, laid out as
 * huggingface_hub writes it (refs/main → snapshots/<commit>/...). Returns the cache folder.
 */
export async function cacheWith(name: string, repoId: string, files: string[]): Promise<string> {
  const cacheDir = await Deno.makeTempDir({ prefix: "tether-bert-cache-" });
  const commit = "0123456789abcdef0123456789abcdef01234567";
  const repoDir = join(cacheDir, `models--${repoId.replace("/", "--")}`);
  await Deno.mkdir(join(repoDir, "refs"), { recursive: true });
  await Deno.writeTextFile(join(repoDir, "refs", "main"), commit);
  const snapshot = join(repoDir, "snapshots", commit);
  await Deno.mkdir(snapshot, { recursive: true });
  for (const file of files) await Deno.copyFile(join(fixtureDir(name), file), join(snapshot, file));
  return cacheDir;
}

/** Collects log lines instead of printing them. */
export function logSink(): { lines: string[]; log: (message: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m) };
}
