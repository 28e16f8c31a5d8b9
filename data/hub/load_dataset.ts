/**
 * Hub datasets by id and split.
 *
 * Downloads use the Hub's parquet conversion (branch `refs/convert/parquet`, files
 * `<config>/<split>/0000.parquet`, ...): every public dataset has it in the same shape and the
 * same format, whatever files its authors uploaded, so one code path reads them all. The files
 * land in the standard cache (see `cache.ts`), and a cached split loads with no network.
 *
 * Offline, a cache filled another way is also read: when the conversion branch is not cached,
 * the snapshot of `refs/main` is searched for the split's own data files (parquet, JSONL, CSV or
 * JSON named like `train-00000-of-00001.parquet`, `data/train.jsonl.gz`, ...).
 *
 * @module
 */

import { join } from "node:path";
import type { Dataset } from "../dataset.ts";
import { localRecords } from "../loaders/local.ts";
import { type LoadOptions, type SourceRecord, streamRecords } from "../loaders/records.ts";
import { ProgressBar, type ProgressSink } from "../../common/progress.ts";
import type { StreamingDataset } from "../streaming.ts";
import {
  type HubEnv,
  isCommitHash,
  isOfflineEnv,
  processHubEnv,
  refPath,
  resolveEndpoint,
  resolveHubCacheDir,
  resolveToken,
  snapshotPath,
} from "../../common/hub.ts";
import {
  datasetFolderName,
  fileExists,
  listSnapshotFiles,
  readCachedRef,
  writeCachedRef,
} from "./cache.ts";
import {
  describeError,
  downloadToCache,
  fetchDatasetListing,
  type FetchLike,
  type HubClient,
  type HubFileInfo,
} from "./download.ts";

/** The branch holding the Hub's parquet conversion of every dataset. */
export const PARQUET_CONVERSION_REVISION = "refs/convert/parquet";

/** Options for {@link loadHubDataset} and {@link streamHubDataset}. */
export interface HubDatasetOptions<T> extends LoadOptions<T> {
  /** Split name, e.g. `train`. */
  split: string;
  /**
   * Configuration (subset), e.g. `plain_text`. Optional when the dataset has one, or has one
   * named `default`.
   */
  config?: string;
  /** Branch, tag or commit (default {@link PARQUET_CONVERSION_REVISION}). */
  revision?: string;
  /** Hub cache folder (default from `HF_HUB_CACHE` / `HF_HOME` / `~/.cache/huggingface/hub`). */
  cacheDir?: string;
  /** Read the cache only (default from `HF_HUB_OFFLINE`). */
  offline?: boolean;
  /** Access token (default `HF_TOKEN`, else the token `huggingface-cli login` saved). */
  token?: string;
  /** Hub address (default `HF_ENDPOINT` or `https://huggingface.co`). */
  endpoint?: string;
  /** Fetch implementation (default the global `fetch`); tests inject a fake. */
  fetch?: FetchLike;
  /** Environment to read instead of the process's (tests pass their own). */
  env?: HubEnv;
  /** Where download progress goes (default standard error); `false` for none. */
  progress?: ProgressSink | false;
  /** Time limit for the listing request in milliseconds (default 15,000). */
  metadataTimeoutMs?: number;
}

/** The local files of a resolved split. */
export interface ResolvedHubSplit {
  /** Dataset id. */
  dataset: string;
  /** Configuration the files belong to (`default` for a repo's own files without one). */
  config: string;
  /** Split name. */
  split: string;
  /** Commit the files come from. */
  commit: string;
  /** Absolute paths of the split's files in the cache, in order. */
  files: string[];
  /** True when every file was already cached, so nothing was downloaded. */
  fromCache: boolean;
}

/**
 * A Hub dataset split could not be loaded. The message names the dataset, split, underlying
 * cause and the fix; `cause` holds the original error.
 */
export class HubDatasetError extends Error {
  /** Dataset id. */
  readonly dataset: string;
  /** Split requested. */
  readonly split: string;
  /** Configuration requested, if any. */
  readonly config: string | undefined;

  /**
   * Create the error; the message names the dataset, split and config.
   *
   * @param dataset Dataset id.
   * @param split Split requested.
   * @param config Configuration requested.
   * @param detail Why it failed, with the fix.
   * @param options Standard error options (`cause`).
   */
  constructor(
    dataset: string,
    split: string,
    config: string | undefined,
    detail: string,
    options?: ErrorOptions,
  ) {
    const which = `"${dataset}", split "${split}"${config ? `, config "${config}"` : ""}`;
    super(`Cannot load Hub dataset ${which}: ${detail}`, options);
    this.name = "HubDatasetError";
    this.dataset = dataset;
    this.split = split;
    this.config = config;
  }
}

/** Raised inside this module when a listing or a cache has no files for the request. */
class SplitNotFound extends Error {
  override name = "SplitNotFound";
}

const SUPPORTED_FILE =
  /\.(parquet|jsonl|jsonl\.gz|ndjson|ndjson\.gz|json|json\.gz|csv|csv\.gz|tsv|tsv\.gz)$/i;

function chooseConfig(available: string[], requested: string | undefined): string {
  if (requested !== undefined) {
    if (available.includes(requested)) return requested;
    throw new SplitNotFound(
      `config "${requested}" not found (available: ${available.join(", ") || "none"})`,
    );
  }
  if (available.includes("default")) return "default";
  if (available.length === 1) return available[0];
  if (available.length === 0) throw new SplitNotFound("no parquet files found");
  throw new SplitNotFound(
    `the dataset has several configs (${available.join(", ")}); pass { config } to pick one`,
  );
}

/**
 * Pick a split's files from the paths of a parquet-conversion snapshot
 * (`<config>/<split>/NNNN.parquet`, or `<config>/partial-<split>/...` for very large splits).
 *
 * @param paths Repo-relative paths.
 * @param config Requested configuration, if any.
 * @param split Split name.
 */
export function selectConversionFiles(
  paths: readonly string[],
  config: string | undefined,
  split: string,
): { config: string; files: string[] } {
  const parquet = paths.map((path) => path.split("/")).filter((parts) =>
    parts.length === 3 && parts[2].endsWith(".parquet")
  );
  const configs = [...new Set(parquet.map((parts) => parts[0]))].sort();
  const chosen = chooseConfig(configs, config);
  const inConfig = parquet.filter((parts) => parts[0] === chosen);
  for (const folder of [split, `partial-${split}`]) {
    const files = inConfig.filter((parts) => parts[1] === folder).map((parts) => parts.join("/"));
    if (files.length > 0) return { config: chosen, files: files.sort() };
  }
  const splits = [...new Set(inConfig.map((parts) => parts[1].replace(/^partial-/, "")))].sort();
  throw new SplitNotFound(
    `no split "${split}" in config "${chosen}" (available: ${splits.join(", ") || "none"})`,
  );
}

/**
 * Pick a split's files from a repo's own data files, following the Hub's naming convention: a
 * file belongs to split `train` when a folder or the file name is `train`, or starts with
 * `train` followed by `-`, `.`, a space or a digit (`train-00000-of-00002.parquet`,
 * `data/train.jsonl.gz`, `train/0.parquet`; not `train_sft.parquet`).
 *
 * @param paths Repo-relative paths.
 * @param config A folder to look in (`default` or undefined: the whole repo).
 * @param split Split name.
 */
export function selectOwnDataFiles(
  paths: readonly string[],
  config: string | undefined,
  split: string,
): string[] {
  const prefix = config === undefined || config === "default" ? "" : `${config}/`;
  const escaped = split.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const matcher = new RegExp(`^${escaped}([-. 0-9].*)?$`);
  const files = paths.filter((path) =>
    path.startsWith(prefix) && SUPPORTED_FILE.test(path) &&
    path.slice(prefix.length).split("/").some((segment) => matcher.test(segment))
  );
  if (files.length === 0) {
    throw new SplitNotFound(
      `no data files for split "${split}"${prefix ? ` under ${prefix}` : ""}`,
    );
  }
  return files.sort();
}

interface Context {
  id: string;
  split: string;
  config: string | undefined;
  revision: string;
  repoDir: string;
}

async function resolveFromCache(context: Context): Promise<ResolvedHubSplit> {
  const { id, split, config, revision, repoDir } = context;
  const defaultRevision = revision === PARQUET_CONVERSION_REVISION;
  const commit = await readCachedRef(repoDir, revision);
  if (commit !== undefined) {
    const snapshot = snapshotPath(repoDir, commit);
    const paths = await listSnapshotFiles(snapshot);
    let picked: { config: string; files: string[] };
    try {
      picked = selectConversionFiles(paths, config, split);
    } catch (error) {
      if (defaultRevision || !(error instanceof SplitNotFound)) throw error;
      picked = { config: config ?? "default", files: selectOwnDataFiles(paths, config, split) };
    }
    return {
      dataset: id,
      config: picked.config,
      split,
      commit,
      files: picked.files.map((path) => join(snapshot, ...path.split("/"))),
      fromCache: true,
    };
  }
  if (defaultRevision) {
    const mainCommit = await readCachedRef(repoDir, "main");
    if (mainCommit !== undefined) {
      const snapshot = snapshotPath(repoDir, mainCommit);
      const files = selectOwnDataFiles(await listSnapshotFiles(snapshot), config, split);
      return {
        dataset: id,
        config: config ?? "default",
        split,
        commit: mainCommit,
        files: files.map((path) => join(snapshot, ...path.split("/"))),
        fromCache: true,
      };
    }
  }
  throw new SplitNotFound(
    `not in the cache (looked for ${refPath(repoDir, revision)}${
      defaultRevision ? ` and ${refPath(repoDir, "main")}` : ""
    })`,
  );
}

async function resolveByDownload(
  context: Context,
  client: HubClient,
  progressSink: ProgressSink | false | undefined,
): Promise<ResolvedHubSplit> {
  const { id, split, config, revision, repoDir } = context;
  const listing = await fetchDatasetListing(client, id, revision);
  const byPath = new Map(listing.files.map((file) => [file.path, file]));
  const picked = selectConversionFiles([...byPath.keys()], config, split);
  const wanted = picked.files.map((path) => byPath.get(path)!);
  const snapshot = snapshotPath(repoDir, listing.commit);
  const missing: HubFileInfo[] = [];
  for (const file of wanted) {
    if (!(await fileExists(join(snapshot, ...file.path.split("/"))))) missing.push(file);
  }
  const total = missing.reduce((sum, file) => sum + (file.size ?? 0), 0);
  // A bar for an up-to-date cache would only add noise to the log.
  const progress = progressSink === false || missing.length === 0 ? undefined : new ProgressBar({
    label: `${id} ${picked.config}/${split}`,
    total: total > 0 ? total : undefined,
    sink: progressSink,
  });
  const files: string[] = [];
  try {
    for (const file of wanted) {
      files.push(
        missing.includes(file)
          ? await downloadToCache(client, id, repoDir, listing.commit, file, progress)
          : join(snapshot, ...file.path.split("/")),
      );
    }
  } finally {
    progress?.finish();
  }
  await writeCachedRef(repoDir, revision, listing.commit);
  return {
    dataset: id,
    config: picked.config,
    split,
    commit: listing.commit,
    files,
    fromCache: missing.length === 0,
  };
}

/**
 * Find (and, when online and missing, download) the files of a Hub dataset split.
 *
 * Order: a cached commit-hash revision is used directly; otherwise, online, the revision is
 * listed on the Hub and missing files are downloaded; if the Hub cannot be reached, the cache is
 * used when it has the split. Offline (`HF_HUB_OFFLINE=1`), only the cache is read.
 *
 * @param id Dataset id, `ORG/NAME`.
 * @param options Split, config, cache and network settings.
 */
export async function resolveHubSplit(
  id: string,
  options: Omit<HubDatasetOptions<unknown>, "schema">,
): Promise<ResolvedHubSplit> {
  const { split, config } = options;
  const env = options.env ?? processHubEnv();
  const offline = options.offline ?? isOfflineEnv(env);
  const fixFor = (repoDir: string) =>
    `Fix: load a local file instead (loadLocal("train.parquet"), or the tutorial loader's ` +
    `{ path } option), or fill the cache at ${repoDir} where the Hub is reachable and ` +
    `run here with HF_HUB_OFFLINE=1.`;
  let repoDir: string;
  try {
    repoDir = join(options.cacheDir ?? resolveHubCacheDir(env), datasetFolderName(id));
  } catch (error) {
    throw new HubDatasetError(id, split, config, `${describeError(error)}.`, { cause: error });
  }
  const context: Context = {
    id,
    split,
    config,
    revision: options.revision ?? PARQUET_CONVERSION_REVISION,
    repoDir,
  };
  const fromCache = async (): Promise<ResolvedHubSplit | Error> => {
    try {
      return await resolveFromCache(context);
    } catch (error) {
      return error as Error;
    }
  };

  if (offline || isCommitHash(context.revision)) {
    const cached = await fromCache();
    if (!(cached instanceof Error)) return cached;
    if (offline) {
      throw new HubDatasetError(
        id,
        split,
        config,
        `${describeError(cached)}; HF_HUB_OFFLINE is set, so the Hub was not contacted. ` +
          fixFor(repoDir),
        { cause: cached },
      );
    }
  }
  const client: HubClient = {
    endpoint: resolveEndpoint(env, options.endpoint),
    fetch: options.fetch ?? fetch,
    token: options.token ?? resolveToken(env),
    metadataTimeoutMs: options.metadataTimeoutMs ?? 15_000,
  };
  try {
    return await resolveByDownload(context, client, options.progress);
  } catch (networkError) {
    if (networkError instanceof SplitNotFound) {
      throw new HubDatasetError(id, split, config, `${networkError.message} on the Hub.`, {
        cause: networkError,
      });
    }
    const cached = await fromCache();
    if (!(cached instanceof Error)) return cached;
    throw new HubDatasetError(
      id,
      split,
      config,
      `${describeError(networkError)}; and it is ${cached.message}. ${fixFor(repoDir)}`,
      { cause: networkError },
    );
  }
}

/**
 * Stream a Hub dataset split row by row (files are resolved, and downloaded if needed, when
 * iteration starts).
 *
 * @example
 * ```ts
 * import { streamHubDataset } from "@tether/rlhf/data";
 * import { join } from "node:path";
 *
 * // Offline, a split already in the Hugging Face cache streams with no network. Here a cache
 * // holding one small file is laid out as `huggingface-cli download` leaves it.
 * const cacheDir = await Deno.makeTempDir();
 * const repo = join(cacheDir, "datasets--stanfordnlp--imdb"), commit = "0".repeat(40);
 * await Deno.mkdir(join(repo, "snapshots", commit, "data"), { recursive: true });
 * await Deno.mkdir(join(repo, "refs"));
 * await Deno.writeTextFile(join(repo, "refs", "main"), commit);
 * const lines = ['{"text": "a fine film.", "label": 1}', '{"text": "a dull one.", "label": 0}'];
 * await Deno.writeTextFile(join(repo, "snapshots", commit, "data", "test.jsonl"), lines.join("\n"));
 *
 * const rows = streamHubDataset("stanfordnlp/imdb", { split: "test", cacheDir, offline: true });
 * for await (const row of rows.take(3)) console.log(row);
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 *
 * @param id Dataset id, `ORG/NAME`.
 * @param options Split, config, schema, cache and network settings.
 */
export function streamHubDataset<T = Record<string, unknown>>(
  id: string,
  options: HubDatasetOptions<T>,
): StreamingDataset<T> {
  return streamRecords<T>(async function* (): AsyncGenerator<SourceRecord> {
    const resolved = await resolveHubSplit(id, options);
    for (const file of resolved.files) yield* localRecords(file);
  }, options);
}

/**
 * Load a Hub dataset split into memory.
 *
 * @example
 * ```ts
 * import { loadHubDataset } from "@tether/rlhf/data";
 * import { join } from "node:path";
 *
 * // Offline, a split already in the Hugging Face cache loads with no network. Here a cache
 * // holding one small file is laid out as `huggingface-cli download` leaves it.
 * const cacheDir = await Deno.makeTempDir();
 * const repo = join(cacheDir, "datasets--stanfordnlp--imdb"), commit = "0".repeat(40);
 * await Deno.mkdir(join(repo, "snapshots", commit, "data"), { recursive: true });
 * await Deno.mkdir(join(repo, "refs"));
 * await Deno.writeTextFile(join(repo, "refs", "main"), commit);
 * const lines = ['{"text": "a fine film.", "label": 1}', '{"text": "a dull one.", "label": 0}'];
 * await Deno.writeTextFile(join(repo, "snapshots", commit, "data", "train.jsonl"), lines.join("\n"));
 *
 * const imdb = await loadHubDataset("stanfordnlp/imdb", { split: "train", cacheDir, offline: true });
 * console.log(imdb.length, imdb.get(0)); // 2 { text: "a fine film.", label: 1 }
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 *
 * @param id Dataset id, `ORG/NAME`.
 * @param options Split, config, schema, cache and network settings.
 */
export function loadHubDataset<T = Record<string, unknown>>(
  id: string,
  options: HubDatasetOptions<T>,
): Promise<Dataset<T>> {
  return streamHubDataset(id, options).collect();
}
