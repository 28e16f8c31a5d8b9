/**
 * File-system failures that name their path. Deno's write errors say `No space left on device
 * (os error 28)` but not which file: {@link withPath} rethrows them as a {@link PathError} that
 * names the path and what was being done, keeping the original as `cause`.
 *
 * @module
 */

/** What was being done to a path when it failed. */
export type PathAction =
  | "write"
  | "create"
  | "read"
  | "rename"
  | "remove"
  | "truncate"
  | "lock"
  | "open";

/** A file-system failure with the path it happened on. */
export class PathError extends Error {
  /** The file or folder. */
  readonly path: string;
  /** What was being done. */
  readonly action: PathAction;
  /** Deno's error class name (`NoSpace` …) when known, else the error's name. */
  readonly code: string;

  /**
   * Wrap a failure.
   *
   * @param action What was being done.
   * @param path The file or folder.
   * @param error The original error (kept as `cause`).
   */
  constructor(action: PathAction, path: string, error: unknown) {
    // Deno appends `: writefile '<path>'` to some messages; the path is named once, up front.
    const reason = (error instanceof Error ? error.message : String(error))
      .replace(/: [a-z_]+ '[^']*'( -> '[^']*')?$/, "");
    super(`cannot ${action} ${path}: ${reason}${hintFor(error)}`, { cause: error });
    this.name = "PathError";
    this.path = path;
    this.action = action;
    this.code = codeOf(error);
  }
}

function codeOf(error: unknown): string {
  if (!(error instanceof Error)) return "unknown";
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error.name;
}

function hintFor(error: unknown): string {
  const code = codeOf(error);
  if (code === "ENOSPC" || /No space left/.test(String((error as Error)?.message))) {
    return " (the disk is full: free space, or write somewhere else)";
  }
  if (code === "EROFS" || /Read-only file system/.test(String((error as Error)?.message))) {
    return " (a read-only file system: write somewhere else)";
  }
  return "";
}

/**
 * Run a file-system operation; a failure is rethrown as a {@link PathError} naming `path`
 * (an error that already is one passes through unchanged).
 *
 * @param action What the operation does.
 * @param path The path it works on.
 * @param op The operation.
 * @example
 * ```ts
 * import { withPath } from "./fs_errors.ts";
 * const dir = await Deno.makeTempDir();
 * await withPath("write", `${dir}/a.txt`, () => Deno.writeTextFile(`${dir}/a.txt`, "hi"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function withPath<T>(
  action: PathAction,
  path: string,
  op: () => Promise<T>,
): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof PathError) throw error;
    throw new PathError(action, path, error);
  }
}

/**
 * Write a whole file, naming its path on failure.
 *
 * @param path Destination.
 * @param bytes Contents, whole or as a stream.
 */
export function writeFileNamed(
  path: string,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  return withPath("write", path, () => Deno.writeFile(path, bytes));
}

/**
 * Write a whole text file (UTF-8), naming its path on failure.
 *
 * @param path Destination.
 * @param text Contents.
 */
export function writeTextFileNamed(path: string, text: string): Promise<void> {
  return withPath("write", path, () => Deno.writeTextFile(path, text));
}
