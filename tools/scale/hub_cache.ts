/**
 * Writes repos into a Hugging Face hub cache folder the way `huggingface_hub` lays them out:
 * each file's bytes in `blobs/<sha256>`, the commit's tree in `snapshots/<commit>/` as relative
 * links into `blobs/`, and `refs/<revision>` holding the commit. Model repos are read at
 * `refs/main`; dataset repos at the parquet-conversion branch `refs/convert/parquet`, as the Hub
 * serves every dataset and as `data/hub/` reads it.
 *
 * A file is either bytes or a writer that streams into the blob (multi-hundred-megabyte
 * checkpoints are never held in memory whole); its SHA-256 is taken as it is written.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { blobPath, refPath, repoFolderName, snapshotPath } from "../../common/hub.ts";

/** A sink a streamed file writes its bytes into, in order. */
export interface ByteSink {
  /** Append bytes. */
  write(bytes: Uint8Array): Promise<void>;
}

/** A file of a repo: its bytes, or a function that streams them. */
export type RepoFile = Uint8Array | string | ((sink: ByteSink) => Promise<void>);

/** One repo to write. */
export interface RepoSpec {
  /** `model` or `dataset`. */
  type: "model" | "dataset";
  /** `ORG/NAME` (or a legacy bare `NAME`). */
  id: string;
  /** Files by repo-relative path. */
  files: Record<string, RepoFile>;
}

/** A fixed commit per repo (the cache only needs a 40-hex name that the ref points to). */
export function commitFor(id: string): string {
  return createHash("sha1").update(`tether-scale-smoke:${id}`).digest("hex");
}

/** The revision a repo of each type is read at. */
export function revisionFor(type: RepoSpec["type"]): string {
  return type === "model" ? "main" : "refs/convert/parquet";
}

/** Stream one file into a uniquely named temporary blob; returns its SHA-256 and size. */
async function writeBlob(
  blobsDir: string,
  file: RepoFile,
): Promise<{ sha: string; size: number; temp: string }> {
  const temp = join(blobsDir, `${crypto.randomUUID()}.incomplete`);
  const hash = createHash("sha256");
  let size = 0;
  const handle = await Deno.open(temp, { write: true, create: true, truncate: true });
  try {
    const sink: ByteSink = {
      async write(bytes) {
        hash.update(bytes);
        size += bytes.length;
        let done = 0;
        while (done < bytes.length) done += await handle.write(bytes.subarray(done));
      },
    };
    if (typeof file === "function") await file(sink);
    else await sink.write(typeof file === "string" ? new TextEncoder().encode(file) : file);
  } finally {
    handle.close();
  }
  return { sha: hash.digest("hex"), size, temp };
}

/**
 * Write a repo into `hubDir` (created if needed); returns the repo's folder and total bytes. A
 * repo already there is replaced, so a rerun never mixes two fills.
 *
 * @param hubDir The hub cache folder (`$HF_HOME/hub`).
 * @param spec The repo and its files.
 */
export async function writeRepo(
  hubDir: string,
  spec: RepoSpec,
): Promise<{ dir: string; bytes: number }> {
  const dir = join(hubDir, repoFolderName(spec.type, spec.id));
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const commit = commitFor(spec.id);
  await Deno.mkdir(blobPath(dir), { recursive: true });
  let bytes = 0;
  for (const [path, file] of Object.entries(spec.files)) {
    const { sha, size, temp } = await writeBlob(blobPath(dir), file);
    await Deno.rename(temp, blobPath(dir, sha));
    bytes += size;
    const parts = path.split("/");
    const link = snapshotPath(dir, commit, path);
    await Deno.mkdir(join(link, ".."), { recursive: true });
    // snapshots/<commit>/<a>/<b>/file → ../../../../blobs/<sha>, relative as huggingface_hub writes.
    await Deno.symlink(`${"../".repeat(parts.length + 1)}blobs/${sha}`, link);
  }
  const ref = refPath(dir, revisionFor(spec.type));
  await Deno.mkdir(join(ref, ".."), { recursive: true });
  await Deno.writeTextFile(ref, commit);
  return { dir, bytes };
}
