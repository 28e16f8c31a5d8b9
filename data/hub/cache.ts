/**
 * The standard Hugging Face cache layout, shared with the Python libraries so a cache filled by
 * either side serves the other:
 *
 * ```
 * <cache>/datasets--ORG--NAME/
 *   refs/<revision>            commit hash the revision pointed to (e.g. refs/main,
 *                              refs/refs/convert/parquet for the parquet-conversion branch)
 *   snapshots/<commit>/<path>  the repo's files at that commit (links into blobs/)
 *   blobs/<etag>               file contents, named by their sha256 (LFS) or git blob id
 * ```
 *
 * `<cache>` is `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`,
 * else `~/.cache/huggingface/hub`.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** Environment variables the Hub code reads (all optional). */
export interface HubEnv {
  /** Root of all Hugging Face files; the hub cache is `$HF_HOME/hub`. */
  HF_HOME?: string;
  /** The hub cache folder itself (wins over `HF_HOME`). */
  HF_HUB_CACHE?: string;
  /** `1`/`true`/`yes`/`on`: never touch the network, read the cache only. */
  HF_HUB_OFFLINE?: string;
  /** Access token for gated or private datasets. */
  HF_TOKEN?: string;
  /** Hub address (default `https://huggingface.co`), for mirrors. */
  HF_ENDPOINT?: string;
  /** Base of per-user caches on Linux. */
  XDG_CACHE_HOME?: string;
  /** Home folder. */
  HOME?: string;
  /** Home folder on Windows. */
  USERPROFILE?: string;
}

const ENV_NAMES: (keyof HubEnv)[] = [
  "HF_HOME",
  "HF_HUB_CACHE",
  "HF_HUB_OFFLINE",
  "HF_TOKEN",
  "HF_ENDPOINT",
  "XDG_CACHE_HOME",
  "HOME",
  "USERPROFILE",
];

/** The Hub-related variables of this process; unreadable ones (no env permission) are absent. */
export function readHubEnv(): HubEnv {
  const env: HubEnv = {};
  for (const name of ENV_NAMES) {
    try {
      const value = Deno.env.get(name);
      if (value !== undefined && value !== "") env[name] = value;
    } catch {
      // Without --allow-env the defaults apply; an explicit cacheDir still works.
    }
  }
  return env;
}

/**
 * The hub cache folder for an environment.
 *
 * @param env Variables as returned by {@link readHubEnv}.
 */
export function resolveHubCacheDir(env: HubEnv): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, "hub");
  const home = env.HOME ?? env.USERPROFILE;
  const base = env.XDG_CACHE_HOME ?? (home ? join(home, ".cache") : undefined);
  if (!base) {
    throw new Error(
      "cannot locate the Hugging Face cache: set HF_HOME or HF_HUB_CACHE (HOME is not set)",
    );
  }
  return join(base, "huggingface", "hub");
}

/**
 * Whether `HF_HUB_OFFLINE` asks for offline mode.
 *
 * @param env Variables as returned by {@link readHubEnv}.
 */
export function isOfflineEnv(env: HubEnv): boolean {
  return ["1", "true", "yes", "on"].includes((env.HF_HUB_OFFLINE ?? "").trim().toLowerCase());
}

/**
 * The cache folder name of a dataset repo: `datasets--ORG--NAME`.
 *
 * @param repoId `ORG/NAME` (or a bare `NAME` for legacy datasets).
 */
export function datasetFolderName(repoId: string): string {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repoId) || repoId.includes("--") || repoId.includes("..")) {
    throw new Error(`"${repoId}" is not a valid dataset id (expected ORG/NAME)`);
  }
  return `datasets--${repoId.replaceAll("/", "--")}`;
}

/** True for a full 40-character commit hash. */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * The ref file of a revision: huggingface_hub stores `refs/<revision>` as given, so the
 * parquet-conversion branch `refs/convert/parquet` lands in `refs/refs/convert/parquet`.
 *
 * @param repoDir The `datasets--ORG--NAME` folder.
 * @param revision Branch or tag name.
 */
export function refPath(repoDir: string, revision: string): string {
  return join(repoDir, "refs", ...revision.split("/"));
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
    return (await isDirectory(join(repoDir, "snapshots", revision))) ? revision : undefined;
  }
  const commit = await readTextIfExists(refPath(repoDir, revision));
  if (commit !== undefined) return commit;
  // Hand-made caches sometimes drop the doubled "refs/" of the conversion branch.
  if (revision.startsWith("refs/")) {
    return await readTextIfExists(join(repoDir, "refs", ...revision.slice(5).split("/")));
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
