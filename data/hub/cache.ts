/**
 * Reading and writing dataset repos in the standard Hugging Face hub cache (layout, names and
 * the environment that locates it are in common/hub.ts, shared with models and with the Python
 * libraries, so a cache filled by either side serves the other).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { isCommitHash, refPath, repoFolderName, snapshotPath } from "../../common/hub.ts";

/**
 * The cache folder name of a dataset repo: `datasets--ORG--NAME`.
 *
 * @param repoId `ORG/NAME` (or a bare `NAME` for legacy datasets).
 */
export function datasetFolderName(repoId: string): string {
  return repoFolderName("dataset", repoId);
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

/**
 * The commit a revision points to in the cache, or undefined when the cache does not know it.
 * A commit hash resolves to itself when its snapshot folder exists.
 *
 * @param repoDir The `datasets--ORG--NAME` folder.
 * @param revision Branch, tag or commit hash.
 */
export async function readCachedRef(
  repoDir: string,
  revision: string,
): Promise<string | undefined> {
  if (isCommitHash(revision)) {
    return (await isDirectory(snapshotPath(repoDir, revision))) ? revision : undefined;
  }
  const commit = await readTextIfExists(refPath(repoDir, revision));
  if (commit !== undefined) return commit;
  // Hand-made caches sometimes drop the doubled "refs/" of the conversion branch.
  if (revision.startsWith("refs/")) {
    return await readTextIfExists(refPath(repoDir, revision.slice(5)));
  }
  return undefined;
}

/**
 * Write a file atomically: a uniquely named temporary file in the same folder, then a rename,
 * so a reader (or a crash) never leaves a half-written file under the final name.
 *
 * @param path Destination.
 * @param data Contents.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${crypto.randomUUID()}.incomplete`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Record which commit a revision points to.
 *
 * @param repoDir The `datasets--ORG--NAME` folder.
 * @param revision Branch or tag name.
 * @param commit Commit hash.
 */
export async function writeCachedRef(
  repoDir: string,
  revision: string,
  commit: string,
): Promise<void> {
  if (isCommitHash(revision)) return;
  await writeFileAtomic(refPath(repoDir, revision), commit);
}

/**
 * Whether a path is an existing folder.
 *
 * @param path Path to test.
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/**
 * Every file under a snapshot, as `/`-separated paths relative to it, sorted.
 *
 * @param snapshotDir A `snapshots/<commit>` folder.
 */
export async function listSnapshotFiles(snapshotDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory) await walk(join(dir, entry.name), rel);
      // Snapshot entries are symlinks into blobs/; a dangling link is an incomplete download.
      else if (entry.isFile || (entry.isSymlink && await fileExists(join(dir, entry.name)))) {
        out.push(rel);
      }
    }
  };
  if (await isDirectory(snapshotDir)) await walk(snapshotDir, "");
  return out.sort();
}

/**
 * Whether a path (following links) is an existing file.
 *
 * @param path Path to test.
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}
