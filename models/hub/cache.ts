/**
 * Reading and writing model repos in the standard Hugging Face hub cache (layout and names in
 * common/hub.ts), shared with Python's huggingface_hub so files either side downloaded serve
 * the other.
 *
 * Writes are atomic and ordered blob → snapshot link → ref, so a reader (or a crash) never
 * sees a ref to a snapshot whose files are half written.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import {
  isCommitHash,
  noExistPath,
  refPath,
  repoFolderName,
  snapshotPath,
} from "../../common/hub.ts";
import { pathExists, siblingTempPath, writeTextFileAtomic } from "../io/atomic.ts";

export { isCommitHash };

/**
 * The cache folder of a model repo: `<cacheDir>/models--ORG--NAME`.
 *
 * @param cacheDir The hub cache.
 * @param repoId `org/name` (or a bare `name`).
 */
export function repoCacheDir(cacheDir: string, repoId: string): string {
  return join(cacheDir, repoFolderName("model", repoId));
}

/**
 * The commit a revision points to in the cache, or null when the cache has no ref for it.
 *
 * @param repoDir The repo's cache folder.
 * @param revision Branch, tag or hash.
 */
export async function cachedCommit(repoDir: string, revision: string): Promise<string | null> {
  if (isCommitHash(revision)) return revision;
  try {
    const commit = (await Deno.readTextFile(refPath(repoDir, revision))).trim();
    return commit === "" ? null : commit;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
      return null;
    }
    throw error;
  }
}

/** What the cache knows about one file at one commit. */
export type CacheLookup =
  | { state: "present"; path: string }
  | { state: "absent" }
  | { state: "unknown" };

/**
 * Look a file up in a snapshot. A snapshot entry may be a link into `blobs/`; a dangling link
 * counts as unknown so the file is fetched again.
 *
 * @param repoDir The repo's cache folder.
 * @param commit The snapshot's commit.
 * @param file Path inside the repo.
 */
export async function lookupCachedFile(
  repoDir: string,
  commit: string,
  file: string,
): Promise<CacheLookup> {
  const path = snapshotPath(repoDir, commit, file);
  try {
    const info = await Deno.stat(path);
    if (info.isFile) return { state: "present", path };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (await pathExists(noExistPath(repoDir, commit, file))) return { state: "absent" };
  return { state: "unknown" };
}

/**
 * Record that a file does not exist at a commit (as huggingface_hub does), so later lookups
 * skip the network.
 *
 * @param repoDir The repo's cache folder.
 * @param commit The commit.
 * @param file Path inside the repo.
 */
export async function markAbsent(repoDir: string, commit: string, file: string): Promise<void> {
  const marker = noExistPath(repoDir, commit, file);
  await Deno.mkdir(dirname(marker), { recursive: true });
  await Deno.writeFile(marker, new Uint8Array(0));
}

/**
 * Link `snapshots/<commit>/<file>` to `blobs/<etag>` (a relative symlink, like Python's; a
 * copy where links are not allowed), replacing any previous entry atomically.
 *
 * @param repoDir The repo's cache folder.
 * @param commit The snapshot's commit.
 * @param file Path inside the repo.
 * @param blobPath The blob holding the contents.
 */
export async function linkSnapshotFile(
  repoDir: string,
  commit: string,
  file: string,
  blobPath: string,
): Promise<string> {
  const path = snapshotPath(repoDir, commit, file);
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = siblingTempPath(path, "link");
  try {
    try {
      await Deno.symlink(relative(dirname(path), blobPath), temp);
    } catch {
      await Deno.copyFile(blobPath, temp);
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  return path;
}

/**
 * Point `refs/<revision>` at a commit (atomically). Commit hashes need no ref.
 *
 * @param repoDir The repo's cache folder.
 * @param revision Branch or tag.
 * @param commit The commit it resolved to.
 */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  if (isCommitHash(revision) || revision === commit) return;
  const path = refPath(repoDir, revision);
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeTextFileAtomic(path, commit);
}
