/**
 * Errors from resolving and downloading model files, each naming the repo, the file and what
 * to do about it.
 *
 * @module
 */

/** What went wrong. */
export type HubErrorKind =
  | "offline-miss"
  | "network"
  | "not-found"
  | "unauthorized"
  | "http"
  | "invalid-id";

/** A model file could not be resolved. */
export class HubError extends Error {
  /** What went wrong. */
  readonly kind: HubErrorKind;
  /** The model id or folder. */
  readonly repo: string;
  /** The file that was wanted, if one was. */
  readonly file: string | undefined;

  /**
   * Describe a failed resolution.
   *
   * @param kind What went wrong.
   * @param repo The model id or folder.
   * @param file The wanted file.
   * @param message Full explanation including the fix.
   * @param cause The underlying error, if any.
   */
  constructor(
    kind: HubErrorKind,
    repo: string,
    file: string | undefined,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HubError";
    this.kind = kind;
    this.repo = repo;
    this.file = file;
  }
}

/**
 * The chain of messages in an error and its causes: `fetch` reports "fetch failed" and keeps
 * the real reason (DNS, refused connection, TLS) in `cause`.
 *
 * @param error Anything thrown.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    const text = current instanceof Error ? current.message || current.name : String(current);
    if (text && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}
