/**
 * Talking to the Hub: list a dataset revision's files and download them into the cache.
 * The fetch function is injectable so tests can exercise the whole download path offline.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname, relative } from "node:path";
import type { ProgressBar } from "../../common/progress.ts";
import { blobPath, snapshotPath } from "../../common/hub.ts";
import { fileExists } from "./cache.ts";

/** The `fetch` signature the Hub code uses. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How to reach the Hub. */
export interface HubClient {
  /** Hub address without a trailing slash, e.g. `https://huggingface.co`. */
  endpoint: string;
  /** Fetch implementation (the global one by default; tests pass a fake). */
  fetch: FetchLike;
  /** Bearer token, sent when set. */
  token?: string;
  /** Time limit for metadata requests in milliseconds. */
  metadataTimeoutMs: number;
}

/** One file of a repo revision, as the Hub lists it. */
export interface HubFileInfo {
  /** Path inside the repo, `/`-separated. */
  path: string;
  /** Size in bytes, when listed. */
  size?: number;
  /** sha256 of an LFS file (the blob name in the cache). */
  lfsSha256?: string;
  /** Git blob id of a plain file (the blob name in the cache when not LFS). */
  blobId?: string;
}

/** A revision resolved to a commit, with its files. */
export interface HubListing {
  /** Commit hash the revision points to. */
  commit: string;
  /** Files at that commit. */
  files: HubFileInfo[];
}

/** An HTTP or network failure talking to the Hub; `cause` holds the underlying error. */
export class HubRequestError extends Error {
  /** HTTP status, or undefined when no response arrived. */
  readonly status: number | undefined;
  /** The URL requested. */
  readonly url: string;

  /**
   * Create the error.
   *
   * @param message What failed.
   * @param url The URL requested.
   * @param status HTTP status, if any.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, url: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "HubRequestError";
    this.url = url;
    this.status = status;
  }
}

/**
 * A one-line account of an error and its chain of causes: "fetch failed" alone says little,
 * the reason (DNS, refused connection, certificate) sits in `cause`.
 *
 * @param error Any thrown value.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    const text = current instanceof Error ? (current.message || current.name) : String(current);
    if (!parts.some((part) => part.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

function headers(client: HubClient): Headers {
  const out = new Headers();
  if (client.token) out.set("authorization", `Bearer ${client.token}`);
  return out;
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) {
    return " (the dataset may be gated or private: accept its terms on the Hub and set HF_TOKEN)";
  }
  if (status === 404) return " (check the dataset id and revision)";
  if (status === 429) return " (rate limited: wait, or set HF_TOKEN)";
  return "";
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

async function request(client: HubClient, url: string, timeoutMs?: number): Promise<Response> {
  let response: Response;
  try {
    response = await client.fetch(url, {
      headers: headers(client),
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new HubRequestError(`cannot reach ${hostOf(url)}`, url, undefined, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new HubRequestError(
      `${url} answered HTTP ${response.status}${statusHint(response.status)}`,
      url,
      response.status,
    );
  }
  return response;
}

/**
 * Resolve a dataset revision to a commit and list its files with their sizes and hashes
 * (`GET /api/datasets/{id}/revision/{revision}?blobs=true`).
 *
 * @param client Endpoint, fetch and token.
 * @param repoId `ORG/NAME`.
 * @param revision Branch, tag or commit (e.g. `refs/convert/parquet`).
 */
export async function fetchDatasetListing(
  client: HubClient,
  repoId: string,
  revision: string,
): Promise<HubListing> {
  const url = `${client.endpoint}/api/datasets/${repoId}/revision/${
    encodeURIComponent(revision)
  }?blobs=true`;
  const response = await request(client, url, client.metadataTimeoutMs);
  let body: {
    sha?: unknown;
    siblings?: {
      rfilename?: unknown;
      size?: unknown;
      blobId?: unknown;
      lfs?: { sha256?: unknown; size?: unknown };
    }[];
  };
  try {
    body = await response.json();
  } catch (error) {
    throw new HubRequestError(`${url} did not return JSON`, url, response.status, {
      cause: error,
    });
  }
  if (typeof body.sha !== "string" || !Array.isArray(body.siblings)) {
    throw new HubRequestError(`${url} returned no commit or file list`, url, response.status);
  }
  const files: HubFileInfo[] = [];
  for (const sibling of body.siblings) {
    if (typeof sibling.rfilename !== "string") continue;
    const lfsSize = typeof sibling.lfs?.size === "number" ? sibling.lfs.size : undefined;
    files.push({
      path: sibling.rfilename,
      size: typeof sibling.size === "number" ? sibling.size : lfsSize,
      lfsSha256: typeof sibling.lfs?.sha256 === "string" ? sibling.lfs.sha256 : undefined,
      blobId: typeof sibling.blobId === "string" ? sibling.blobId : undefined,
    });
  }
  return { commit: body.sha, files };
}

async function linkIntoSnapshot(blob: string, link: string): Promise<void> {
  await Deno.mkdir(dirname(link), { recursive: true });
  const temp = `${link}.${crypto.randomUUID()}.incomplete`;
  try {
    // Relative links keep the cache valid when the whole folder is moved or mounted elsewhere.
    await Deno.symlink(relative(dirname(link), blob), temp);
  } catch {
    // Filesystems without symlinks (some Windows setups) get a copy, as huggingface_hub does.
    await Deno.copyFile(blob, temp);
  }
  await Deno.rename(temp, link);
}

/**
 * Make one file of a commit available in the cache, downloading it only when its blob is
 * missing. The blob is streamed to a temporary file, checked (size, and sha256 for LFS files),
 * then renamed into place.
 *
 * @param client Endpoint, fetch and token.
 * @param repoId `ORG/NAME`.
 * @param repoDir The `datasets--ORG--NAME` cache folder.
 * @param commit Commit hash.
 * @param file The file to fetch.
 * @param progress Receives byte counts as they arrive.
 * @returns The file's path in the snapshot.
 */
export async function downloadToCache(
  client: HubClient,
  repoId: string,
  repoDir: string,
  commit: string,
  file: HubFileInfo,
  progress?: ProgressBar,
): Promise<string> {
  const target = snapshotPath(repoDir, commit, file.path);
  if (await fileExists(target)) {
    progress?.add(file.size ?? 0);
    return target;
  }
  const etag = file.lfsSha256 ?? file.blobId ?? `${commit}-${file.path.replaceAll("/", "--")}`;
  const blob = blobPath(repoDir, etag);
  if (await fileExists(blob)) {
    progress?.add(file.size ?? 0);
    await linkIntoSnapshot(blob, target);
    return target;
  }
  await Deno.mkdir(dirname(blob), { recursive: true });
  const url = `${client.endpoint}/datasets/${repoId}/resolve/${commit}/${
    file.path.split("/").map(encodeURIComponent).join("/")
  }`;
  const response = await request(client, url);
  const temp = `${blob}.${crypto.randomUUID()}.incomplete`;
  const hash = file.lfsSha256 ? createHash("sha256") : undefined;
  let received = 0;
  try {
    const out = await Deno.open(temp, { write: true, create: true, truncate: true });
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          hash?.update(chunk);
          let written = 0;
          while (written < chunk.length) written += await out.write(chunk.subarray(written));
          received += chunk.length;
          progress?.add(chunk.length);
        }
      }
    } catch (error) {
      throw new HubRequestError(`download of ${url} was interrupted`, url, response.status, {
        cause: error,
      });
    } finally {
      out.close();
    }
    if (file.size !== undefined && received !== file.size) {
      throw new HubRequestError(
        `download of ${url} is incomplete: ${received} of ${file.size} bytes`,
        url,
        response.status,
      );
    }
    if (hash && file.lfsSha256) {
      const digest = hash.digest("hex");
      if (digest !== file.lfsSha256) {
        throw new HubRequestError(
          `download of ${url} is corrupt: sha256 ${digest}, expected ${file.lfsSha256}`,
          url,
          response.status,
        );
      }
    }
    await Deno.rename(temp, blob);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await linkIntoSnapshot(blob, target);
  return target;
}
