/**
 * Downloading one repo file into the hub cache: `GET {endpoint}/{repo}/resolve/{revision}/{file}`
 * with the token as a Bearer header, redirects followed by hand so the Hub's own metadata
 * (`X-Repo-Commit`, `X-Linked-Etag`) is read before the CDN hop, the body streamed into a
 * temporary blob and renamed into place, then the snapshot link, then the ref.
 *
 * @module
 */

import { join } from "node:path";
import { pathExists, siblingTempPath } from "../io/atomic.ts";
import { blobPath, isCommitHash } from "../../common/hub.ts";
import { linkSnapshotFile, markAbsent, repoCacheDir, writeRef } from "./cache.ts";
import type { HubSettings } from "./env.ts";
import { describeError, HubError } from "./errors.ts";
import { DownloadProgress } from "./progress.ts";

/** The outcome of a download attempt. */
export type DownloadResult =
  | { status: "ok"; path: string; commit: string }
  | { status: "missing"; commit: string | null };

const MAX_REDIRECTS = 8;

/**
 * The URL of a file in a model repo.
 *
 * @param endpoint Hub address.
 * @param repoId `org/name`.
 * @param revision Branch, tag or commit.
 * @param file Path inside the repo.
 */
export function hubFileUrl(
  endpoint: string,
  repoId: string,
  revision: string,
  file: string,
): string {
  const path = file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`;
}

function normalizeEtag(etag: string | null): string | null {
  if (etag === null) return null;
  const bare = etag.replace(/^W\//, "").replace(/^"|"$/g, "");
  // The etag names a file in blobs/: refuse anything that could escape the folder.
  return /^[A-Za-z0-9._-]+$/.test(bare) && !bare.startsWith(".") ? bare : null;
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fixHint(settings: HubSettings): string {
  return `Fix: pass a local folder path instead of a model id, or set HF_HUB_OFFLINE=1 with a ` +
    `cache that already holds the files (hub cache: ${settings.cacheDir}; set HF_HOME or ` +
    `HF_HUB_CACHE to use another)`;
}

async function fetchWithTimeout(
  settings: HubSettings,
  url: string,
  headers: Headers,
): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no response within ${settings.timeoutMs} ms`)),
    settings.timeoutMs,
  );
  try {
    return await settings.fetch(url, { headers, redirect: "manual", signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Download one file of a model repo into the cache and return its snapshot path, or report
 * that the repo has no such file.
 *
 * @param settings Hub settings (must not be offline).
 * @param repoId `org/name`.
 * @param revision Branch, tag or commit to fetch.
 * @param file Path inside the repo.
 */
export async function downloadToCache(
  settings: HubSettings,
  repoId: string,
  revision: string,
  file: string,
): Promise<DownloadResult> {
  const what = `"${file}" of model "${repoId}" (revision ${revision})`;
  let url = hubFileUrl(settings.endpoint, repoId, revision, file);
  const hubOrigin = new URL(url).origin;
  let commit: string | null = isCommitHash(revision) ? revision : null;
  let etag: string | null = null;
  let response: Response;
  for (let hop = 0;; hop++) {
    const headers = new Headers({ "user-agent": "tether-rlhf" });
    // The token is for the Hub only; CDN redirects carry their own signed URLs.
    if (settings.token && new URL(url).origin === hubOrigin) {
      headers.set("authorization", `Bearer ${settings.token}`);
    }
    try {
      response = await fetchWithTimeout(settings, url, headers);
    } catch (error) {
      throw new HubError(
        "network",
        repoId,
        file,
        `Cannot download ${what} from ${settings.endpoint}: ${describeError(error)}. ` +
          fixHint(settings),
        error,
      );
    }
    commit = response.headers.get("x-repo-commit") ?? commit;
    etag = normalizeEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag")) ??
      etag;
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new HubError("http", repoId, file, `Cannot download ${what}: too many redirects`);
      }
      url = new URL(location, url).href;
      continue;
    }
    break;
  }
  const repoDir = repoCacheDir(settings.cacheDir, repoId);
  if (response.status === 404) {
    await response.body?.cancel();
    if (commit !== null) await markAbsent(repoDir, commit, file);
    return { status: "missing", commit };
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new HubError(
      "unauthorized",
      repoId,
      file,
      `Cannot download ${what}: the Hub answered ${response.status} (the repo does not exist, ` +
        `is private, or is gated). ${
          settings.token
            ? "The token in use was refused: check it has access to this repo"
            : "Set HF_TOKEN to a token with access"
        }, or pass a local folder path.`,
    );
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new HubError(
      "http",
      repoId,
      file,
      `Cannot download ${what}: HTTP ${response.status} ${response.statusText}. ` +
        fixHint(settings),
    );
  }
  commit ??= revision;

  const blobsDir = blobPath(repoDir);
  await Deno.mkdir(blobsDir, { recursive: true });
  if (etag !== null && await pathExists(join(blobsDir, etag))) {
    // Same contents already cached under another revision or path.
    await response.body.cancel();
  } else {
    const incomplete = siblingTempPath(join(blobsDir, etag ?? "download"), "incomplete");
    const lengthHeader = response.headers.get("content-length");
    const expected = lengthHeader !== null && !response.headers.get("content-encoding")
      ? Number(lengthHeader)
      : undefined;
    const progress = settings.progress === false ? null : new DownloadProgress({
      label: `${repoId}/${file}`,
      total: expected,
      sink: settings.progress,
    });
    let received = 0;
    try {
      using out = await Deno.open(incomplete, { write: true, createNew: true });
      for await (const chunk of response.body) {
        let written = 0;
        while (written < chunk.byteLength) {
          written += await out.write(chunk.subarray(written));
        }
        received += chunk.byteLength;
        progress?.add(chunk.byteLength);
      }
      if (expected !== undefined && received !== expected) {
        throw new Error(`connection closed after ${received} of ${expected} bytes`);
      }
      await out.sync();
    } catch (error) {
      await Deno.remove(incomplete).catch(() => {});
      throw new HubError(
        "network",
        repoId,
        file,
        `Download of ${what} failed midway: ${describeError(error)}. Run again to retry. ` +
          fixHint(settings),
        error,
      );
    } finally {
      progress?.finish();
    }
    etag ??= await sha256File(incomplete);
    await Deno.rename(incomplete, join(blobsDir, etag));
  }
  const path = await linkSnapshotFile(repoDir, commit, file, join(blobsDir, etag!));
  await writeRef(repoDir, revision, commit);
  return { status: "ok", path, commit };
}
