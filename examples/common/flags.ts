/**
 * Flag specifications for example scripts: what a flag takes, what a good value is, its default
 * (fixed, per preset, or from an environment variable) and its help line. `defineCli` in
 * `cli.ts` turns a table of these into parsing, validation and `--help`.
 *
 * @module
 */

/** A default that depends on the chosen preset (the flag table's `preset` flag). */
export interface PresetDefault<T> {
  /** The default under `preset`. */
  readonly perPreset: (preset: string) => T;
}

/**
 * A default that depends on the preset, e.g. `perPreset((p) => imdbPreset(p).steps)`.
 *
 * @param fn The default for a preset name.
 */
export function perPreset<T>(fn: (preset: string) => T): PresetDefault<T> {
  return { perPreset: fn };
}

/** Why a raw value was refused: the rule it broke, e.g. `an integer >= 1`. */
export class InvalidValue extends Error {
  /**
   * @param rule What a good value is (`use …` follows it in messages).
   */
  constructor(readonly rule: string) {
    super(rule);
    this.name = "InvalidValue";
  }
}

/**
 * One flag. `T` is its parsed value; `Defaulted` says whether it always has one (a default or
 * a boolean), which makes the parsed field `T` instead of `T | undefined`.
 */
export interface Flag<T = unknown, Defaulted extends boolean = boolean> {
  /** `value` flags take an argument (`--steps 3`, `--steps=3`); `switch` flags take none. */
  readonly takes: "value" | "switch";
  /** One line (or a few) for `--help`. */
  readonly help: string;
  /** Placeholder in `--help`: `N`, `X`, `DIR`, `NAME`, `LIST`. */
  readonly valueName: string;
  /** What a good value is, for messages and `--help` (null: anything goes). */
  readonly rule: string | null;
  /** Whether `--help` repeats the rule (not for free text and paths). */
  readonly ruleInHelp: boolean;
  /** The accepted values of a choice flag. */
  readonly choices: readonly string[] | null;
  /** One line per choice for `--help` (preset descriptions). */
  readonly describe: Readonly<Record<string, string>> | null;
  /** Value when absent: fixed or per preset; undefined leaves the field undefined. */
  readonly default: T | PresetDefault<T> | undefined;
  /** How `--help` shows the default when it is not a plain value. */
  readonly defaultText: string | null;
  /** Environment variable read when the flag is absent (validated like the flag). */
  readonly env: string | null;
  /** A good value to show in messages (`e.g. --steps 30`). */
  readonly example: string | null;
  /**
   * Turn the raw string into the value; throws {@link InvalidValue} naming the rule.
   *
   * @param raw The text after the flag.
   */
  convert(raw: string): T;
  /** Type marker only. */
  readonly __defaulted?: Defaulted;
}

/** Options every flag builder takes. */
export interface FlagOptions<T> {
  /** The help line. */
  help: string;
  /** Default value (fixed, or {@link perPreset}). */
  default?: T | PresetDefault<T>;
  /** How `--help` shows the default when it is not a plain value. */
  defaultText?: string;
  /** Placeholder in `--help`. */
  valueName?: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** A good value for messages. */
  example?: string;
}

/** Whether options `O` give a default. */
export type HasDefault<O> = O extends { default: infer X } ? (undefined extends X ? false : true)
  : false;

function make<T, D extends boolean>(
  o: FlagOptions<T>,
  rest: {
    takes?: "value" | "switch";
    valueName: string;
    rule: string | null;
    ruleInHelp?: boolean;
    choices?: readonly string[];
    describe?: Readonly<Record<string, string>>;
    convert: (raw: string) => T;
  },
): Flag<T, D> {
  return {
    takes: rest.takes ?? "value",
    help: o.help,
    valueName: o.valueName ?? rest.valueName,
    rule: rest.rule,
    ruleInHelp: rest.ruleInHelp ?? true,
    choices: rest.choices ?? null,
    describe: rest.describe ?? null,
    default: o.default,
    defaultText: o.defaultText ?? null,
    env: o.env ?? null,
    example: o.example ?? null,
    convert: rest.convert,
  };
}

function numberRule(kind: string, min?: number, above?: number, max?: number): string {
  const parts = [kind];
  if (above !== undefined) parts.push(`> ${above}`);
  else if (min !== undefined) parts.push(`>= ${min}`);
  if (max !== undefined) parts.push(`${parts.length > 1 ? "and " : ""}<= ${max}`);
  return parts.join(" ");
}

function toNumber(raw: string, integer: boolean, rule: string): number {
  const text = raw.trim();
  // Number("") is 0 and Number("0x10") is 16: only plain decimal notation is a number here.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new InvalidValue(rule);
  const n = Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) throw new InvalidValue(rule);
  return n;
}

/** Bounds of a number flag. */
export interface NumberBounds {
  /** Smallest accepted value. */
  min?: number;
  /** Values must be greater than this (instead of `min`). */
  above?: number;
  /** Largest accepted value. */
  max?: number;
}

/** Builders of flag specifications. */
export const flag = {
  /**
   * An integer.
   *
   * @param o Help, default, bounds.
   */
  int<O extends FlagOptions<number> & NumberBounds>(o: O): Flag<number, HasDefault<O>> {
    const rule = numberRule("an integer", o.min, o.above, o.max);
    return make(o, {
      valueName: "N",
      rule,
      convert: (raw) => {
        const n = toNumber(raw, true, rule);
        if (!inBounds(n, o)) throw new InvalidValue(rule);
        return n;
      },
    });
  },

  /**
   * A finite number.
   *
   * @param o Help, default, bounds.
   */
  number<O extends FlagOptions<number> & NumberBounds>(o: O): Flag<number, HasDefault<O>> {
    const rule = numberRule("a number", o.min, o.above, o.max);
    return make(o, {
      valueName: "X",
      rule,
      convert: (raw) => {
        const n = toNumber(raw, false, rule);
        if (!inBounds(n, o)) throw new InvalidValue(rule);
        return n;
      },
    });
  },

  /**
   * Text (never empty unless `allowEmpty`).
   *
   * @param o Help, default, placeholder.
   */
  string<O extends FlagOptions<string> & { allowEmpty?: boolean }>(
    o: O,
  ): Flag<string, HasDefault<O>> {
    return make(o, {
      valueName: "TEXT",
      rule: o.allowEmpty ? null : "a non-empty value",
      ruleInHelp: false,
      convert: (raw) => {
        if (!o.allowEmpty && raw.trim() === "") throw new InvalidValue("a non-empty value");
        return raw;
      },
    });
  },

  /**
   * A folder or file path (never empty: an empty path would mean the current folder).
   *
   * @param o Help, default, placeholder.
   */
  path<O extends FlagOptions<string>>(o: O): Flag<string, HasDefault<O>> {
    return make(o, {
      valueName: "DIR",
      rule: "a folder path",
      ruleInHelp: false,
      convert: (raw) => {
        if (raw.trim() === "") throw new InvalidValue("a folder path, not an empty one");
        return raw;
      },
    });
  },

  /**
   * A switch: present means true. Always defaults to false.
   *
   * @param o Help.
   */
  boolean(o: { help: string }): Flag<boolean, true> {
    return make<boolean, true>({ help: o.help, default: false }, {
      takes: "switch",
      valueName: "",
      rule: null,
      convert: () => true,
    });
  },

  /**
   * One of a fixed list of names (matched case-insensitively).
   *
   * @param choices The accepted names.
   * @param o Help, default, a line per choice for `--help`.
   */
  choice<const C extends string, O extends FlagOptions<C> & { describe?: Record<C, string> }>(
    choices: readonly C[],
    o: O,
  ): Flag<C, HasDefault<O>> {
    const rule = `one of ${choices.join(", ")}`;
    return make(o, {
      valueName: "NAME",
      rule,
      choices,
      describe: o.describe,
      convert: (raw) => {
        const found = choices.find((c) => c.toLowerCase() === raw.trim().toLowerCase());
        if (found === undefined) throw new InvalidValue(rule);
        return found;
      },
    });
  },

  /**
   * A comma-separated list of names.
   *
   * @param o Help, default, placeholder.
   */
  list<O extends FlagOptions<string[]>>(o: O): Flag<string[], HasDefault<O>> {
    const rule = "a comma-separated list of names";
    return make(o, {
      valueName: "A,B",
      rule,
      convert: (raw) => {
        const items = raw.split(",").map((s) => s.trim());
        if (items.some((s) => s === "")) throw new InvalidValue(rule);
        return items;
      },
    });
  },

  /**
   * A comma-separated list of numbers, optionally strictly rising.
   *
   * @param o Help, default, whether values must rise.
   */
  numbers<O extends FlagOptions<number[]> & { rising?: boolean }>(
    o: O,
  ): Flag<number[], HasDefault<O>> {
    const rule = `comma-separated ${o.rising ? "rising " : ""}numbers`;
    return make(o, {
      valueName: "X,Y",
      rule,
      convert: (raw) => {
        const values = raw.split(",").map((s) => toNumber(s, false, rule));
        if (o.rising && values.some((v, i) => i > 0 && v <= values[i - 1])) {
          throw new InvalidValue(rule);
        }
        return values;
      },
    });
  },
};

function inBounds(n: number, b: NumberBounds): boolean {
  if (b.above !== undefined && !(n > b.above)) return false;
  if (b.above === undefined && b.min !== undefined && n < b.min) return false;
  return !(b.max !== undefined && n > b.max);
}

/** A table of flags by name (kebab-case, without dashes). */
// deno-lint-ignore no-explicit-any
export type FlagTable = Record<string, Flag<any, boolean>>;

/** `lora-targets` → `loraTargets`. */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

/** The parsed values of a flag table, by camelCased flag name. */
export type FlagValues<F extends FlagTable> = {
  -readonly [K in keyof F & string as CamelCase<K>]: F[K] extends Flag<infer T, true> ? T
    : F[K] extends Flag<infer T, boolean> ? T | undefined
    : never;
};

/**
 * `lora-targets` → `loraTargets`.
 *
 * @param name A kebab-case flag name.
 */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
