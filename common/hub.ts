/**
 * The Hugging Face conventions models and datasets share, so both sides (and Python's
 * huggingface_hub) agree on one cache: the environment variables that say where the cache is,
 * whether to stay offline, which token and which Hub address to use; and the cache layout:
 *
 * ```
 * <cache>/models--ORG--NAME/  or  <cache>/datasets--ORG--NAME/
 *   refs/<revision>            the commit a branch or tag pointed to (refs/main,
 *                              refs/refs/convert/parquet for the parquet-conversion branch)
 *   snapshots/<commit>/<file>  the repo's files at that commit (links into blobs/)
 *   blobs/<etag>               file contents, named by sha256 (LFS) or git blob id
 *   .no_exist/<commit>/<file>  empty markers for files known to be absent
 * ```
 *
 * `<cache>` is `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 *
 * @module
 */

import { join } from "node:path";

/** Environment variables the Hub code reads (all optional; an empty value counts as unset). */
export interface HubEnv {
  /** Root of all Hugging Face files; the hub cache is `$HF_HOME/hub`. */
  HF_HOME?: string;
  /** The hub cache folder itself (wins over `HF_HOME`). */
  HF_HUB_CACHE?: string;
  /** Older name of `HF_HUB_CACHE`. */
  HUGGINGFACE_HUB_CACHE?: string;
  /** `1`/`true`/`yes`/`on`: never touch the network, read the cache only. */
  HF_HUB_OFFLINE?: string;
  /** Same as `HF_HUB_OFFLINE` (the transformers library's name). */
  TRANSFORMERS_OFFLINE?: string;
  /** Access token for gated or private repos. */
  HF_TOKEN?: string;
  /** Older name of `HF_TOKEN`. */
  HUGGING_FACE_HUB_TOKEN?: string;
  /** The file `huggingface-cli login` saves the token in (default `$HF_HOME/token`). */
  HF_TOKEN_PATH?: string;
  /** Hub address (default `https://huggingface.co`), for mirrors. */
  HF_ENDPOINT?: string;
  /** Base of per-user caches on Linux. */
  XDG_CACHE_HOME?: string;
  /** Home folder. */
  HOME?: string;
  /** Home folder on Windows. */
  USERPROFILE?: string;
}

const HUB_ENV_NAMES: readonly (keyof HubEnv)[] = [
  "HF_HOME",
  "HF_HUB_CACHE",
  "HUGGINGFACE_HUB_CACHE",
  "HF_HUB_OFFLINE",
  "TRANSFORMERS_OFFLINE",
  "HF_TOKEN",
  "HUGGING_FACE_HUB_TOKEN",
  "HF_TOKEN_PATH",
  "HF_ENDPOINT",
  "XDG_CACHE_HOME",
  "HOME",
  "USERPROFILE",
];

/** The Hub address when `HF_ENDPOINT` is unset. */
export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

/**
 * An environment variable, or undefined when unset, empty or unreadable (no `--allow-env`:
 * then the defaults apply, and explicit options still work).
 *
 * @param name Variable name.
 */
export function envVar(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === undefined || value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * This process's Hub variables, each read only when asked for, so a call whose options already
 * say everything reads (and prompts for) nothing.
 */
export function processHubEnv(): HubEnv {
  const env: HubEnv = {};
  for (const name of HUB_ENV_NAMES) {
    Object.defineProperty(env, name, { get: () => envVar(name), enumerable: true });
  }
  return env;
}

/** A snapshot of this process's Hub variables; unset and unreadable ones are absent. */
export function readHubEnv(): HubEnv {
  const env: HubEnv = {};
  for (const name of HUB_ENV_NAMES) {
    const value = envVar(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Whether a flag is set the way huggingface_hub reads it (1, true, yes, on; any case).
 *
 * @param value The variable's value.
 */
export function isTruthyFlag(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

/**
 * The Hugging Face home folder: `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else
 * `~/.cache/huggingface`.
 *
 * @param env Variables (default: this process's).
 */
export function resolveHfHome(env: HubEnv = processHubEnv()): string {
  if (env.HF_HOME) return env.HF_HOME;
  const home = env.HOME || env.USERPROFILE;
  const base = env.XDG_CACHE_HOME || (home ? join(home, ".cache") : undefined);
  if (!base) {
    throw new Error(
      "cannot locate the Hugging Face cache: HOME is not set (or --allow-env is missing); " +
        "set HF_HOME or HF_HUB_CACHE, or pass cacheDir",
    );
  }
  return join(base, "huggingface");
}

/**
 * The hub cache folder: `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else `<HF home>/hub`.
 *
 * @param env Variables (default: this process's).
 */
export function resolveHubCacheDir(env: HubEnv = processHubEnv()): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(resolveHfHome(env), "hub");
}

/**
 * Whether the environment asks for offline mode (`HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE`).
 *
 * @param env Variables (default: this process's).
 */
export function isOfflineEnv(env: HubEnv = processHubEnv()): boolean {
  return isTruthyFlag(env.HF_HUB_OFFLINE) || isTruthyFlag(env.TRANSFORMERS_OFFLINE);
}

/**
 * The access token: `$HF_TOKEN`, else `$HUGGING_FACE_HUB_TOKEN`, else the file
 * `huggingface-cli login` saved (`$HF_TOKEN_PATH`, else `<HF home>/token`); undefined when none.
 *
 * @param env Variables (default: this process's).
 */
export function resolveToken(env: HubEnv = processHubEnv()): string | undefined {
  const token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (token) return token.trim();
  try {
    const saved = Deno.readTextFileSync(env.HF_TOKEN_PATH || join(resolveHfHome(env), "token"))
      .trim();
    return saved === "" ? undefined : saved;
  } catch {
    // No saved login (or no read permission): anonymous access.
    return undefined;
  }
}

/**
 * The Hub address without a trailing slash: `explicit`, else `$HF_ENDPOINT`, else
 * {@link DEFAULT_HUB_ENDPOINT}.
 *
 * @param env Variables (default: this process's).
 * @param explicit An address given as an option (wins over the environment).
 */
export function resolveEndpoint(env: HubEnv = processHubEnv(), explicit?: string): string {
  return (explicit ?? (env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT)).replace(/\/+$/, "");
}

/** The kinds of Hub repos this project reads. */
export type RepoType = "model" | "dataset";

/**
 * The cache folder name of a repo: `models--ORG--NAME` or `datasets--ORG--NAME`.
 *
 * @param type Model or dataset.
 * @param repoId `ORG/NAME` (or a bare `NAME` for legacy repos).
 */
export function repoFolderName(type: RepoType, repoId: string): string {
  // The name becomes a folder: refuse anything that could leave the cache or collide.
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repoId) || repoId.includes("--") || repoId.includes("..")) {
    throw new Error(`"${repoId}" is not a valid ${type} id (expected ORG/NAME)`);
  }
  return `${type}s--${repoId.replaceAll("/", "--")}`;
}

/**
 * Whether a revision is a full 40-character commit hash (then no ref lookup is needed).
 *
 * @param revision Branch, tag or hash.
 */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * The ref file of a revision. huggingface_hub stores `refs/<revision>` as given, so the
 * parquet-conversion branch `refs/convert/parquet` lands in `refs/refs/convert/parquet`.
 *
 * @param repoDir The repo's cache folder.
 * @param revision Branch or tag name.
 */
export function refPath(repoDir: string, revision: string): string {
  return join(repoDir, "refs", ...revision.split("/"));
}

/**
 * A snapshot folder, or a file in it.
 *
 * @param repoDir The repo's cache folder.
 * @param commit The snapshot's commit.
 * @param file Path inside the repo (`/`-separated); omit for the folder.
 */
export function snapshotPath(repoDir: string, commit: string, file = ""): string {
  return join(repoDir, "snapshots", commit, ...file.split("/"));
}

/**
 * The blob holding some contents, or the blobs folder.
 *
 * @param repoDir The repo's cache folder.
 * @param etag The contents' sha256 (LFS) or git blob id; omit for the folder.
 */
export function blobPath(repoDir: string, etag = ""): string {
  return join(repoDir, "blobs", etag);
}

/**
 * The marker recording that a file does not exist at a commit.
 *
 * @param repoDir The repo's cache folder.
 * @param commit The commit.
 * @param file Path inside the repo (`/`-separated).
 */
export function noExistPath(repoDir: string, commit: string, file: string): string {
  return join(repoDir, ".no_exist", commit, ...file.split("/"));
}
