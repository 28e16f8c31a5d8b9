/**
 * Errors raised by the data module, shaped so a user can find the bad row in an editor.
 *
 * @module
 */

/** One problem a schema found: where in the row, and what. */
export interface SchemaIssue {
  /** Issue kind (zod's `code`, e.g. `invalid_type`, `custom`). */
  code?: string;
  /** Path of the field inside the row. */
  path: readonly PropertyKey[];
  /** What is wrong. */
  message: string;
}

/**
 * What the loaders need from a schema: zod's `safeParse`. Every zod schema fits; the public API
 * names this shape rather than zod's own types so it does not pin zod's internals.
 */
export interface RowSchema<T> {
  /** Check a value, returning the parsed data or the issues found. */
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly SchemaIssue[] } };
}

/** How a row is counted in a message: a 1-based physical line (JSONL, CSV) or a 1-based index. */
export type RowKind = "line" | "row";

/** Where a record came from: the file (or dataset id), its 1-based row, and how rows are counted. */
export interface RowLocation {
  /** File path or other source name (for Hub datasets: `id/split`). */
  source: string;
  /** 1-based line number or row index. */
  row: number;
  /** Whether `row` counts lines or rows. */
  kind: RowKind;
}

function describeLocation(location: RowLocation): string {
  return `${location.source}, ${location.kind} ${location.row}`;
}

/**
 * A file could not be parsed at all at some row (bad JSON, an unterminated CSV quote, a wrong
 * number of CSV fields).
 */
export class DataParseError extends Error {
  /** File or source name. */
  readonly source: string;
  /** 1-based line or row. */
  readonly row: number;
  /** Whether `row` counts lines or rows. */
  readonly kind: RowKind;

  /**
   * Create the error; the message starts with the location.
   *
   * @param location Where the problem is.
   * @param detail What is wrong there.
   * @param options Standard error options (`cause`).
   */
  constructor(location: RowLocation, detail: string, options?: ErrorOptions) {
    super(`${describeLocation(location)}: ${detail}`, options);
    this.name = "DataParseError";
    this.source = location.source;
    this.row = location.row;
    this.kind = location.kind;
  }
}

/** A row parsed fine but a field does not have the expected shape. */
export class DataValidationError extends Error {
  /** File or source name. */
  readonly source: string;
  /** 1-based line or row. */
  readonly row: number;
  /** Whether `row` counts lines or rows. */
  readonly kind: RowKind;
  /** Dotted path of the offending field, e.g. `labels[2]`; empty when the row itself is wrong. */
  readonly field: string;

  /**
   * Create the error; the message names the location and the field.
   *
   * @param location Where the row is.
   * @param field Dotted path of the field.
   * @param detail What is wrong with it.
   */
  constructor(location: RowLocation, field: string, detail: string) {
    const where = field === "" ? "the row" : `field "${field}"`;
    super(`${describeLocation(location)}, ${where}: ${detail}`);
    this.name = "DataValidationError";
    this.source = location.source;
    this.row = location.row;
    this.kind = location.kind;
    this.field = field;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A short, readable rendering of a value for error messages; long strings are cut. */
export function preview(value: unknown, max = 60): string {
  let text: string;
  if (value === undefined) return "nothing (missing)";
  if (typeof value === "bigint") text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Validate one record with a zod schema, throwing a {@link DataValidationError} that names the
 * source, the row and the first failing field.
 *
 * @param schema The zod schema rows must satisfy.
 * @param value The parsed record.
 * @param location Where the record came from.
 * @returns The parsed (and possibly transformed) value.
 */
export function validateRow<T>(schema: RowSchema<T>, value: unknown, location: RowLocation): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path;
  // Custom issues (raised by our own transforms) already say what they saw.
  const detail = issue.code === "custom"
    ? issue.message
    : `${issue.message} (got ${preview(valueAt(value, path))})`;
  throw new DataValidationError(location, formatPath(path), detail);
}
