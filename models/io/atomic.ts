/**
 * Atomic file-system writes: a reader never sees half a file or half a folder, even if the
 * process dies mid-write.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { PathError } from "../../common/fs_errors.ts";

function tempSuffix(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * A sibling path for temporary output (same folder, so the final rename stays on one file
 * system and is atomic).
 *
 * @param path The final path.
 * @param tag What the temporary holds, for anyone who finds one left behind.
 */
export function siblingTempPath(path: string, tag = "tmp"): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${tempSuffix()}`);
}

/**
 * Write bytes to `path` by writing a temporary sibling and renaming it over the target.
 *
 * @param path Destination file.
 * @param bytes Contents, whole or as a stream (written as it arrives).
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  const temp = siblingTempPath(path);
  try {
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new PathError("write", path, error);
  }
}

/**
 * Write text (UTF-8) atomically.
 *
 * @param path Destination file.
 * @param text Contents.
 */
export function writeTextFileAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Whether a path exists (following links).
 *
 * @param path The path to test.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
