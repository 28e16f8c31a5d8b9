/**
 * One rule for every trainer's settings, so a TRL user's config is honoured or refused, never
 * silently ignored:
 *
 * - a field is accepted under its Tether name (`learningRate`), its snake_case spelling
 *   (`learning_rate`), and TRL's own name where that differs (`per_device_train_batch_size` →
 *   `batchSize`, `precompute_ref_log_probs` → `precomputeRefLogps`);
 * - an unknown key is an error naming the key and the closest valid name;
 * - a field given twice (under two spellings) is an error;
 * - a wrong type or range is an error naming the field, the value and the fix;
 * - a TRL setting Tether does not have is an error saying why, unless its value is what Tether
 *   does anyway (`bf16: false`).
 *
 * A config is a zod object schema plus a table of TRL names; {@link strictConfig} turns the pair
 * into a parser, and {@link ConfigParser.extend} derives a trainer's parser from the shared
 * training arguments. Nested objects (ReST's `generation` and `sft`) follow the same rule.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { strictConfig } from "./config_schema.ts";
 *
 * const parser = strictConfig(
 *   "MyConfig",
 *   z.object({ learningRate: z.number().positive().describe("a number > 0").optional() }),
 *   { trlNames: { lr: "learningRate" } },
 * );
 * console.log(parser.parse({ learning_rate: 1e-3 })); // { learningRate: 0.001 }
 * console.log(parser.parse({ lr: 1e-3 })); // { learningRate: 0.001 }
 * try {
 *   parser.parse({ lerning_rate: 1e-3 });
 * } catch (e) {
 *   // MyConfig: unknown key "lerning_rate"; the closest valid name is "learning_rate" (learningRate)
 *   console.log((e as Error).message);
 * }
 * ```
 *
 * @module
 */

import { z } from "zod";
import { editDistance } from "../../common/suggest.ts";

/**
 * `learningRate` → `learning_rate`: the snake_case spelling every field also answers to.
 *
 * @param name A camelCase field name.
 */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** {@link snakeCase} at the type level. */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/** `T`'s fields under their snake_case spellings. */
export type SnakeCased<T> = { [K in keyof T as K extends string ? SnakeCase<K> : never]: T[K] };

/** TRL's names that are not a field's snake_case spelling: TRL name → Tether field. */
export type TrlNameTable<T> = Readonly<Record<string, keyof T & string>>;

/**
 * What a config accepts at the type level: `T`'s fields under their own names, their snake_case
 * spellings, and the TRL names of `A`. (At run time the parser also refuses a field given twice.)
 */
export type ConfigInput<T, A extends TrlNameTable<T> = Record<never, never>> =
  & T
  & Partial<SnakeCased<T>>
  & { [K in keyof A]?: T[A[K]] };

/** A TRL setting Tether does not have. */
export interface UnsupportedSetting {
  /** Why, and what to do instead. */
  reason: string;
  /** Values that are what Tether does anyway (accepted, as they change nothing). */
  accepts?: readonly unknown[];
  /**
   * Not a TRL setting but a field this config leaves to its owner (see
   * {@link ConfigParser.omit}): the message is the name followed by `reason`.
   */
  omitted?: boolean;
}

/** The names and exceptions of a config besides its schema. */
export interface ConfigNames {
  /** TRL's (or trlX's) names that are not the snake_case spelling of a field: name → field. */
  trlNames?: Readonly<Record<string, string>>;
  /** Settings TRL has and Tether does not, by every name a user might write. */
  unsupported?: Readonly<Record<string, UnsupportedSetting>>;
}

/** A config refused: every problem found, each naming the field, the value and the fix. */
export class ConfigError extends Error {
  /** Who validated the config, e.g. `DPOTrainer`. */
  readonly where: string;
  /** One sentence per problem. */
  readonly problems: readonly string[];

  /**
   * An error listing every problem of one config.
   *
   * @param where Who validated the config.
   * @param problems One sentence per problem.
   */
  constructor(where: string, problems: readonly string[]) {
    super(`${where}: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.where = where;
    this.problems = problems;
  }
}

/**
 * A zod object schema (`z.object({ ... })`), as the parsers take it: fields by name, each a zod
 * schema with `.describe(rule)` and `.optional()`.
 */
export interface ObjectSchema {
  /** The fields. */
  readonly shape: Readonly<Record<string, unknown>>;
}

/** Validates one kind of config under the rule of this module. */
export interface ConfigParser<Out> {
  /** Name used in messages, e.g. `DPOTrainer`. */
  readonly name: string;
  /** The zod object schema of the canonical (camelCase) fields (strict). */
  readonly schema: ObjectSchema;
  /** TRL names and unsupported settings. */
  readonly names: ConfigNames;
  /**
   * The fields given, under their Tether names, validated (defaults are the caller's to fill).
   * Undefined values count as not given.
   *
   * @param input The user's config (undefined: empty).
   * @param where Name for messages instead of {@link name}.
   */
  parse(input: unknown, where?: string): Out;
  /**
   * A parser for this config plus more fields (a trainer's settings on top of the shared
   * training arguments).
   *
   * @param name Name for messages.
   * @param shape The extra fields (zod schemas, each `.optional()`, with `.describe(rule)`).
   * @param names Extra TRL names and unsupported settings.
   */
  extend<More = Record<string, unknown>>(
    name: string,
    shape: Readonly<Record<string, unknown>>,
    names?: ConfigNames,
  ): ConfigParser<Out & More>;
  /**
   * A parser for this config without some fields; writing one of them is refused with `reason`.
   *
   * @param name Name for messages.
   * @param fields Fields to take out.
   * @param reason What to do instead, after the field's name (e.g. `is set by ReST; set
   *   config.seed`), per field.
   */
  omit<K extends keyof Out & string>(
    name: string,
    fields: readonly K[],
    reason: (field: K) => string,
  ): ConfigParser<Omit<Out, K>>;
}

// Names and exceptions of every schema a parser was made for, so nested objects follow them.
const registry = new WeakMap<z.ZodObject, ConfigNames>();

/**
 * A parser for configs of `schema` under this module's rule.
 *
 * @param name Name for messages, e.g. `DPOTrainer`.
 * @param schema Canonical fields; give each `.describe(rule)` (e.g. `"an integer >= 1"`) so an
 *   error states the rule, and make each `.optional()` (defaults are filled by the caller).
 * @param names TRL names that differ from the snake_case spellings; unsupported TRL settings.
 */
export function strictConfig<Out = Record<string, unknown>>(
  name: string,
  objectSchema: ObjectSchema,
  names: ConfigNames = {},
): ConfigParser<Out> {
  if (!(objectSchema instanceof z.ZodObject)) {
    throw new Error(`strictConfig(${name}): the schema must be a zod object (z.object({ ... }))`);
  }
  const schema: z.ZodObject = objectSchema;
  for (const [alias, field] of Object.entries(names.trlNames ?? {})) {
    if (!(field in schema.shape)) {
      throw new Error(`strictConfig(${name}): TRL name ${alias} maps to unknown field ${field}`);
    }
  }
  const strict = schema.strict();
  registry.set(schema, names);
  registry.set(strict, names);
  return {
    name,
    schema: strict,
    names,
    parse(input: unknown, where = name): Out {
      return parseConfig(where, strict, names, input) as Out;
    },
    extend(childName, shape, more = {}) {
      return strictConfig(childName, strict.extend(shape as z.ZodRawShape), {
        trlNames: { ...names.trlNames, ...more.trlNames },
        unsupported: { ...names.unsupported, ...more.unsupported },
      });
    },
    omit(childName, fields, reason) {
      const mask = Object.fromEntries(fields.map((f) => [f, true as const]));
      const unsupported: Record<string, UnsupportedSetting> = { ...names.unsupported };
      const trlNames: Record<string, string> = {};
      for (const [alias, field] of Object.entries(names.trlNames ?? {})) {
        if ((fields as readonly string[]).includes(field)) {
          unsupported[alias] = { reason: reason(field as never), omitted: true };
        } else trlNames[alias] = field;
      }
      for (const f of fields) {
        unsupported[f] = unsupported[snakeCase(f)] = { reason: reason(f), omitted: true };
      }
      return strictConfig(
        childName,
        strict.omit(mask as Record<string, true> & Record<number, never>),
        { trlNames, unsupported },
      );
    },
  };
}

interface Located {
  /** The user's spelling of the path, e.g. `sft.learning_rate`. */
  display: string;
  value: unknown;
}

function parseConfig(
  where: string,
  schema: z.ZodObject,
  names: ConfigNames,
  input: unknown,
): Record<string, unknown> {
  if (input === undefined || input === null) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError(where, [
      `the config must be an object of settings, got ${describeValue(input)}`,
    ]);
  }
  const problems: string[] = [];
  const located = new Map<string, Located>();
  const canonical = canonicalize(
    schema,
    names,
    input as Record<string, unknown>,
    [],
    [],
    problems,
    located,
  );
  // Values are checked even when keys were refused, so one error lists every problem.
  const parsed = schema.safeParse(canonical);
  if (parsed.success && problems.length === 0) return parsed.data as Record<string, unknown>;
  if (parsed.success) throw new ConfigError(where, problems);
  const seen = new Set<string>();
  for (const issue of parsed.error.issues) {
    const key = issue.path.join(".");
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(describeIssue(schema, issue, located.get(key)));
  }
  throw new ConfigError(where, problems);
}

/** The input with every key under its canonical name; problems collected, not thrown. */
function canonicalize(
  schema: z.ZodObject,
  names: ConfigNames,
  input: Record<string, unknown>,
  path: string[],
  displayPath: string[],
  problems: string[],
  located: Map<string, Located>,
): Record<string, unknown> {
  const accepted = acceptedNames(schema, names);
  const out: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  const show = (key: string) => [...displayPath, key].join(".");
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const field = accepted.get(key);
    if (field === undefined) {
      const unsupported = names.unsupported?.[key];
      if (unsupported?.omitted) {
        problems.push(`${show(key)} ${unsupported.reason}`);
        continue;
      }
      if (unsupported) {
        if (!unsupported.accepts?.some((v) => sameValue(v, raw))) {
          const ok = unsupported.accepts?.length
            ? ` (${unsupported.accepts.map((v) => JSON.stringify(v)).join(" or ")} is accepted)`
            : "";
          problems.push(
            `${show(key)} = ${describeValue(raw)} is a TRL setting Tether does not support: ` +
              `${unsupported.reason}${ok}`,
          );
        }
        continue;
      }
      problems.push(unknownKey(show(key), key, accepted));
      continue;
    }
    const earlier = spelledAs.get(field);
    if (earlier !== undefined) {
      problems.push(
        `${show(field)} is given twice, as "${earlier}" and "${key}"; keep one`,
      );
      continue;
    }
    spelledAs.set(field, key);
    let value = raw;
    const nested = nestedObject(schema.shape[field] as z.ZodType, raw);
    if (nested) {
      value = canonicalize(
        nested,
        registry.get(nested) ?? {},
        raw as Record<string, unknown>,
        [...path, field],
        [...displayPath, key],
        problems,
        located,
      );
    }
    out[field] = value;
    const display = key === field ? show(key) : `${show(key)} (${field})`;
    located.set([...path, field].join("."), { display, value: raw });
  }
  return out;
}

const acceptedCache = new WeakMap<z.ZodObject, Map<string, string>>();

/** Every name a field answers to → the field. */
function acceptedNames(schema: z.ZodObject, names: ConfigNames): Map<string, string> {
  const cached = acceptedCache.get(schema);
  if (cached) return cached;
  const map = new Map<string, string>();
  for (const field of Object.keys(schema.shape)) map.set(field, field);
  for (const field of Object.keys(schema.shape)) {
    if (!map.has(snakeCase(field))) map.set(snakeCase(field), field);
  }
  for (const [alias, field] of Object.entries(names.trlNames ?? {})) map.set(alias, field);
  acceptedCache.set(schema, map);
  return map;
}

/** The object schema a nested value is checked against, if it is one. */
function nestedObject(field: z.ZodType | undefined, value: unknown): z.ZodObject | undefined {
  if (!field || !isPlainObject(value)) return undefined;
  const inner = unwrap(field);
  if (inner instanceof z.ZodObject) return inner;
  if (inner instanceof z.ZodUnion) {
    const objects = (inner.options as z.ZodType[]).map(unwrap).filter((o) =>
      o instanceof z.ZodObject
    );
    if (objects.length === 1) return objects[0] as z.ZodObject;
  }
  return undefined;
}

/** Strips optional / nullable / default wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 8; i++) {
    if (
      s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault
    ) {
      s = (s as z.ZodOptional).def.innerType as z.ZodType;
    } else break;
  }
  return s;
}

/** The rule a field states (its `.describe()` text), looked up along the wrappers. */
function ruleOf(field: z.ZodType | undefined): string | undefined {
  let s: z.ZodType | undefined = field;
  for (let i = 0; s && i < 8; i++) {
    if (s.description) return s.description;
    const def = (s as z.ZodOptional).def as unknown as { innerType?: z.ZodType };
    s = def.innerType;
  }
  return undefined;
}

/** The field schema at a canonical path. */
function fieldAt(schema: z.ZodObject, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    const obj: z.ZodType | undefined = current ? unwrap(current) : undefined;
    if (obj instanceof z.ZodObject) current = obj.shape[String(key)] as z.ZodType | undefined;
    else if (obj instanceof z.ZodUnion) {
      const inner = (obj.options as z.ZodType[]).map(unwrap).find((o) =>
        o instanceof z.ZodObject && String(key) in o.shape
      ) as z.ZodObject | undefined;
      current = inner?.shape[String(key)] as z.ZodType | undefined;
    } else return current;
  }
  return current;
}

function describeIssue(
  schema: z.ZodObject,
  issue: z.core.$ZodIssue,
  at: Located | undefined,
): string {
  const field = at?.display ?? (issue.path.join(".") || "(config)");
  if (issue.code === "unrecognized_keys") {
    return `${field}: unknown key${issue.keys.length > 1 ? "s" : ""} ${
      issue.keys.map((k) => `"${k}"`).join(", ")
    }`;
  }
  const rule = ruleOf(fieldAt(schema, issue.path)) ?? issue.message;
  const value = at ? at.value : undefined;
  return `${field} must be ${rule}, got ${describeValue(value)}${fixFor(field, rule, value)}`;
}

/** A concrete fix for the usual slips: numbers and booleans written as strings. */
function fixFor(field: string, rule: string, value: unknown): string {
  const name = field.split(" ")[0].split(".").pop()!;
  if (typeof value === "string") {
    const n = Number(value);
    if (value.trim() !== "" && Number.isFinite(n) && /number|integer/.test(rule)) {
      return `; write the number itself: ${name}: ${n}`;
    }
    if ((value === "true" || value === "false") && /boolean|true|false/.test(rule)) {
      return `; write the boolean itself: ${name}: ${value}`;
    }
  }
  return "";
}

/** A value as a message shows it, with its type when JSON would hide a slip. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `${JSON.stringify(value)} (a string)`;
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  if (typeof value === "function") return "a function";
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return String(value);
  }
}

function unknownKey(display: string, key: string, accepted: Map<string, string>): string {
  const normal = (s: string) => s.toLowerCase().replaceAll("_", "");
  const snake = key.includes("_");
  let best: string | undefined, bestScore = Infinity;
  for (const name of accepted.keys()) {
    // Same distance: prefer the user's spelling style (snake_case or camelCase).
    const style = name.includes("_") === snake ? 0 : 0.5;
    const score = editDistance(normal(key), normal(name)) + style;
    if (score < bestScore) [best, bestScore] = [name, score];
  }
  if (best === undefined) return `unknown key "${display}"; this config takes no settings`;
  const field = accepted.get(best)!;
  const suggestion = best === field ? `"${best}"` : `"${best}" (${field})`;
  return `unknown key "${display}"; the closest valid name is ${suggestion}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
