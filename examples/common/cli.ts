/**
 * The command line of every example script, from one flag table: parsing, validation, `--help`,
 * error messages and exit codes all come from the table a script declares, so a new script gets
 * all of it by listing its flags.
 *
 * The rules every script follows:
 * - `--help` (or `-h`) prints the flags with their defaults (per preset where they differ), the
 *   presets and example commands, and exits 0.
 * - Every error reads `<script>: <what> (<value>): <fix>`. Exit status 2: the command line
 *   cannot run as given (an unknown flag, a bad value, `--resume` with nothing to resume, a run
 *   folder that already holds a run or cannot be written); nothing was loaded or written.
 *   Exit status 1: the run started and failed (a model that is not in the cache, a run folder
 *   held by another live process, a non-finite loss, a full disk).
 * - Values are checked before anything loads: `--steps -3` says `bad --steps (-3): use an
 *   integer >= 1, e.g. --steps 30`, and `--backend nope` lists the backends.
 *
 * @example A script declares its flags once; the parsed values are typed, camelCased.
 * ```ts
 * import { defineCli, flag, perPreset, runFlags } from "./cli.ts";
 *
 * const CLI = defineCli({
 *   name: "my_example",
 *   summary: "Trains something small.",
 *   flags: {
 *     preset: flag.choice(["full", "tiny"], {
 *       help: "which setting to run",
 *       default: "full",
 *       describe: { full: "the real thing, from the Hub", tiny: "offline, in a minute" },
 *     }),
 *     steps: flag.int({
 *       help: "optimizer steps",
 *       min: 1,
 *       default: perPreset((p) => (p === "tiny" ? 20 : 500)),
 *     }),
 *     ...runFlags("my_example"),
 *   },
 *   examples: ["deno run -A examples/my_example.ts --preset tiny --steps 5"],
 * });
 *
 * const args = CLI.parse(["--preset", "tiny"]);
 * console.log(args.steps, args.out, args.resume); // 20 runs/my_example-tiny false
 * console.log(CLI.help().split("\n")[0]);
 * // A script ends with:
 * //   if (import.meta.main) Deno.exit(await CLI.run(Deno.args, (args) => main(args)));
 * ```
 *
 * @module
 */

import { BACKEND_CHOICES } from "../../core/backends/select.ts";
import { REPORT_TARGETS, type ReportTarget } from "../../report/run_files.ts";
import { NonFiniteLossError } from "../../algorithms/common/nonfinite.ts";
import {
  openRunDir,
  type RunDir,
  RunDirError,
  type RunDirProblem,
} from "../../algorithms/common/run_dir.ts";
import {
  camelCase,
  flag,
  type FlagTable,
  type FlagValues,
  InvalidValue,
  perPreset,
} from "./flags.ts";

export {
  camelCase,
  flag,
  type FlagTable,
  type FlagValues,
  InvalidValue,
  perPreset,
} from "./flags.ts";
export type { Flag, FlagOptions, NumberBounds, PresetDefault } from "./flags.ts";

/** The two presets: the tutorial on real Hub checkpoints, or the offline tiny version. */
export const PRESETS = ["full", "tiny"] as const;

/** One of {@link PRESETS}. */
export type Preset = typeof PRESETS[number];

/** An error a script prints as `<script>: <what> (<value>): <fix>` and exits with. */
export class CliError extends Error {
  /** The script. */
  readonly script: string;
  /** What is wrong. */
  readonly what: string;
  /** The offending value, as typed. */
  readonly value: string;
  /** How to fix it. */
  readonly fix: string;
  /** 2: the command line cannot run as given; 1: the run failed. */
  readonly exitCode: 1 | 2;

  /**
   * Describe an error.
   *
   * @param script The script's name.
   * @param what What is wrong.
   * @param value The offending value.
   * @param fix How to fix it.
   * @param exitCode 2 (usage, the default) or 1 (failure).
   */
  constructor(script: string, what: string, value: string, fix: string, exitCode: 1 | 2 = 2) {
    super(`${script}: ${what} (${value}): ${fix}`);
    this.name = "CliError";
    this.script = script;
    this.what = what;
    this.value = value;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

/** Thrown by {@link Cli.parse} for `--help`: {@link Cli.run} prints `text` and exits 0. */
export class HelpRequested extends Error {
  /**
   * @param text The help text.
   */
  constructor(readonly text: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** What a script tells {@link defineCli}. */
export interface CliSpec<F extends FlagTable> {
  /** The script's name (its file name without `.ts`): messages, default run folders. */
  name: string;
  /** One sentence: what the script does. */
  summary: string;
  /** More paragraphs for `--help` (what it prints and writes). */
  description?: string;
  /** The usage line (default `deno run -A examples/<name>.ts [flags]`). */
  usage?: string;
  /** The flags, by kebab-case name. A `preset` flag selects per-preset defaults. */
  flags: F;
  /** Whole example commands. */
  examples: string[];
}

/** Parsed flags, plus which were given on the command line (kebab-case names). */
export type ParsedArgs<F extends FlagTable> = FlagValues<F> & {
  /** The flags given on the command line or through their environment variable. */
  readonly given: ReadonlySet<string>;
};

/** A script's command line. */
export interface Cli<F extends FlagTable> {
  /** The script's name. */
  readonly name: string;
  /** The flag table. */
  readonly flags: F;
  /**
   * Parse and validate; throws {@link HelpRequested} for `--help` and a {@link CliError}
   * (exit 2) naming the flag, the value and the fix for anything wrong.
   *
   * @param argv The arguments (usually `Deno.args`).
   */
  parse(argv: readonly string[]): ParsedArgs<F>;
  /** The `--help` text. */
  help(): string;
  /**
   * A usage error (exit 2) in the script's format.
   *
   * @param what What is wrong.
   * @param value The offending value.
   * @param fix How to fix it.
   */
  usageError(what: string, value: string, fix: string): CliError;
  /**
   * Parse, run `main`, print any error once in the script's format; resolves to the exit
   * status (`main`'s number, else 0). Never calls `Deno.exit`.
   *
   * @param argv The arguments.
   * @param main The script's body.
   */
  run(
    argv: readonly string[],
    main: (args: ParsedArgs<F>) => Promise<number | void> | number | void,
  ): Promise<number>;
  /**
   * The message and exit status a script prints for an error thrown by its body.
   *
   * @param error What was thrown.
   */
  describeFailure(error: unknown): { message: string; exitCode: 1 | 2 };
}

const HELP_FLAG = { name: "help", valueName: "", help: "show this help and exit" };
const WIDTH = 100;

/**
 * A script's command line from its flag table; see the module notes.
 *
 * @param spec Name, summary, flags and example commands.
 */
export function defineCli<const F extends FlagTable>(spec: CliSpec<F>): Cli<F> {
  for (const name of Object.keys(spec.flags)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name) || name === "help" || name === "given") {
      throw new Error(`defineCli(${spec.name}): flag name '${name}' is not allowed`);
    }
  }
  const cli: Cli<F> = {
    name: spec.name,
    flags: spec.flags,
    parse: (argv) => parseArgv(spec, argv),
    help: () => helpText(spec),
    usageError: (what, value, fix) => new CliError(spec.name, what, value, fix),
    describeFailure: (error) => describeFailure(spec, error),
    async run(argv, main) {
      let args: ParsedArgs<F>;
      try {
        args = parseArgv(spec, argv);
      } catch (error) {
        if (error instanceof HelpRequested) {
          console.log(error.text);
          return 0;
        }
        const { message, exitCode } = describeFailure(spec, error);
        console.error(message);
        return exitCode;
      }
      try {
        const code = await main(args);
        return typeof code === "number" ? code : 0;
      } catch (error) {
        const { message, exitCode } = describeFailure(spec, error);
        console.error(message);
        if (debugging() && error instanceof Error && error.stack) console.error(error.stack);
        return exitCode;
      }
    },
  };
  return cli;
}

/** An environment variable, or undefined without asking for env access (no prompt). */
function readEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function debugging(): boolean {
  return readEnv("TETHER_DEBUG") !== undefined;
}

function quote(raw: string): string {
  return raw === "" ? '""' : raw;
}

function parseArgv<F extends FlagTable>(spec: CliSpec<F>, argv: readonly string[]): ParsedArgs<F> {
  const name = spec.name;
  const flags = spec.flags;
  if (argv.some((a) => a === "--help" || a === "-h")) throw new HelpRequested(helpText(spec));
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--") || arg === "--") {
      const isFlag = arg.startsWith("-") && arg.length > 1 && !/^-[\d.]/.test(arg);
      throw new CliError(
        name,
        isFlag ? "unknown flag" : "unexpected argument",
        quote(arg),
        isFlag
          ? `flags are spelled --name; ${knownFlags(flags)}`
          : `this script takes only flags; ${knownFlags(flags)}`,
      );
    }
    const eq = arg.indexOf("=");
    const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const f = flags[key];
    if (!f) {
      const near = closest(key, Object.keys(flags));
      throw new CliError(
        name,
        "unknown flag",
        `--${key}`,
        `${near ? `did you mean --${near}? ` : ""}${knownFlags(flags)}`,
      );
    }
    const twice = (value: string) =>
      new CliError(
        name,
        `--${key} given twice`,
        f.takes === "switch"
          ? `--${key} --${key}`
          : `${quote(raw.get(key)!)}, then ${quote(value)}`,
        "give it once",
      );
    if (f.takes === "switch") {
      if (raw.has(key)) throw twice("");
      if (eq >= 0) {
        throw new CliError(
          name,
          `--${key} takes no value`,
          arg.slice(eq + 1),
          `write just --${key}`,
        );
      }
      raw.set(key, "");
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      // The next flag is not this one's value; a negative number is (and is then checked).
      if (value !== undefined && value.startsWith("--")) value = undefined;
      else i++;
    }
    if (value === undefined) {
      throw new CliError(
        name,
        `--${key} needs a value`,
        i + 1 < argv.length ? `followed by ${argv[i + 1]}` : "nothing after it",
        `write --${key} ${exampleValue(key, f)}`,
      );
    }
    if (raw.has(key)) throw twice(value);
    raw.set(key, value);
  }

  const given = new Set<string>(raw.keys());
  let preset = "full";
  const convert = (key: string, text: string, source: string) => {
    try {
      return flags[key].convert(text);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      const f = flags[key];
      const what = f.choices
        ? `unknown ${source === "flag" ? key : `${key} in ${f.env}`}`
        : source === "flag"
        ? `bad --${key}`
        : `bad ${f.env}`;
      throw new CliError(
        name,
        what,
        quote(text),
        `use ${error.rule}${
          f.choices
            ? ""
            : `, e.g. ${source === "flag" ? `--${key} ` : ""}${exampleValue(key, f, preset)}`
        }`,
      );
    }
  };
  const fromEnv = (key: string): string | undefined => {
    const variable = flags[key].env;
    return variable ? readEnv(variable) : undefined;
  };

  const values: Record<string, unknown> = {};
  const presetKey = "preset" in flags ? "preset" : null;
  const resolve = (key: string) => {
    const text = raw.get(key);
    if (text !== undefined) return convert(key, text, "flag");
    const env = fromEnv(key);
    if (env !== undefined) {
      given.add(key);
      return convert(key, env, "env");
    }
    const d = flags[key].default;
    if (d !== null && typeof d === "object" && "perPreset" in d) {
      return (d as { perPreset: (p: string) => unknown }).perPreset(preset);
    }
    return d;
  };
  if (presetKey) {
    preset = String(resolve(presetKey));
    values.preset = preset;
  }
  for (const key of Object.keys(flags)) {
    if (key !== presetKey) values[camelCase(key)] = resolve(key);
  }
  Object.defineProperty(values, "given", { value: given, enumerable: false });
  return values as ParsedArgs<F>;
}

function knownFlags(flags: FlagTable): string {
  return `the flags are ${Object.keys(flags).map((k) => `--${k}`).join(", ")} (see --help)`;
}

function exampleValue(key: string, f: FlagTable[string], preset = "full"): string {
  if (f.example !== null) return f.example;
  if (f.choices) return f.choices[0];
  const d = f.default;
  const shown = d !== null && typeof d === "object" && "perPreset" in d
    ? (d as { perPreset: (p: string) => unknown }).perPreset(preset)
    : d;
  if (shown !== undefined && !Array.isArray(shown)) return String(shown);
  if (Array.isArray(shown)) return shown.join(",");
  return f.valueName || key.toUpperCase();
}

/** The flag within edit distance 2 of `key`, or one that starts with it (4 letters or more). */
function closest(key: string, names: string[]): string | null {
  let best: string | null = null, bestDistance = 3;
  for (const name of names) {
    const d = editDistance(key, name);
    if (d < bestDistance || (best === null && key.length >= 4 && name.startsWith(key))) {
      best = name;
      bestDistance = Math.min(d, bestDistance);
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

// ---------------------------------------------------------------------------------- help text

function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = "";
  let room = WIDTH - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

function paragraph(text: string): string {
  return text.split(/\n\s*\n/).map((p) => wrap(p, 0, 0).join("\n")).join("\n\n");
}

function defaultShown<F extends FlagTable>(spec: CliSpec<F>, f: FlagTable[string]): string | null {
  if (f.defaultText !== null) return f.defaultText;
  if (f.takes === "switch") return null;
  const d = f.default;
  const show = (v: unknown): string =>
    v === undefined || v === null
      ? "none"
      : Array.isArray(v)
      ? v.map(show).join(",")
      : typeof v === "number" && v !== 0 && Math.abs(v) < 1e-3
      ? v.toExponential()
      : String(v);
  if (d !== null && typeof d === "object" && "perPreset" in d) {
    const presets = (spec.flags.preset?.choices ?? []) as readonly string[];
    const fn = (d as { perPreset: (p: string) => unknown }).perPreset;
    const shown = presets.map((p) => ({ p, v: show(fn(p)) }));
    if (shown.length > 0 && shown.every((s) => s.v === shown[0].v)) return shown[0].v;
    // `runs/x-full`, `runs/x-tiny` read better as `runs/x-<preset>`.
    const generic = shown.map((s) => s.v.split(s.p).join("<preset>"));
    if (generic[0].includes("<preset>") && generic.every((g) => g === generic[0])) {
      return generic[0];
    }
    return shown.map((s) => `${s.v} (${s.p})`).join(", ");
  }
  return d === undefined ? null : show(d);
}

function helpText<F extends FlagTable>(spec: CliSpec<F>): string {
  const out: string[] = [];
  out.push(paragraph(`${spec.name}: ${spec.summary}`), "");
  if (spec.description) out.push(paragraph(spec.description), "");
  out.push(`Usage: ${spec.usage ?? `deno run -A examples/${spec.name}.ts [flags]`}`, "");
  const preset = spec.flags.preset;
  if (preset?.choices && preset.describe) {
    out.push("Presets (--preset):");
    const width = Math.max(...preset.choices.map((c) => c.length)) + 2;
    for (const c of preset.choices) {
      const mark = preset.default === c ? " (default)" : "";
      const body = wrap(`${preset.describe[c] ?? ""}${mark}`, 2 + width, 2 + width);
      out.push(`  ${c.padEnd(width)}${body[0] ?? ""}`);
      for (const more of body.slice(1)) out.push(" ".repeat(2 + width) + more);
    }
    out.push("");
  }
  out.push("Flags:");
  const rows = Object.entries(spec.flags).map(([key, f]) => {
    const left = `--${key}${f.takes === "value" ? ` ${f.valueName}` : ""}`;
    const notes: string[] = [];
    if (f.rule && f.ruleInHelp && !f.choices) notes.push(f.rule);
    if (f.choices) notes.push(f.choices.join(" | "));
    const d = defaultShown(spec, f);
    if (d !== null) notes.push(`default: ${d}`);
    if (f.env && f.defaultText === null) notes.push(`or $${f.env}`);
    const help = notes.length > 0 ? `${f.help} (${notes.join("; ")})` : f.help;
    return { left, help };
  });
  rows.push({ left: `-h, --${HELP_FLAG.name}`, help: HELP_FLAG.help });
  const width = Math.min(24, Math.max(...rows.map((r) => r.left.length)) + 2);
  for (const r of rows) {
    const start = 2 + width;
    const body = wrap(r.help, start, start);
    if (r.left.length + 2 > width) {
      out.push(`  ${r.left}`);
      for (const line of body) out.push(" ".repeat(start) + line);
    } else {
      out.push(`  ${r.left.padEnd(width)}${body[0] ?? ""}`);
      for (const line of body.slice(1)) out.push(" ".repeat(start) + line);
    }
  }
  if (spec.examples.length > 0) {
    out.push("", "Examples:");
    for (const e of spec.examples) out.push(`  ${e}`);
  }
  return out.join("\n");
}

// ------------------------------------------------------------------------------------ failures

/** The run-folder refusals that are the command line's to fix (exit 2); the rest exit 1. */
const USAGE_PROBLEMS: ReadonlySet<RunDirProblem> = new Set([
  "empty-path",
  "exists",
  "not-a-run",
  "no-run",
  "no-checkpoint",
  "other-owner",
  "unwritable",
]);

/** The fix a script prints for a run-folder refusal, in terms of its flags. */
function runDirFix(error: RunDirError, canResume: boolean): string {
  switch (error.problem) {
    case "exists":
      return canResume
        ? "pass --resume to continue it, --overwrite to replace it, or choose another --out"
        : "pass --overwrite to replace it, or choose another --out";
    case "no-run":
      return `${error.fix.split(";")[0]}; drop --resume to start a new run, or check --out`;
    case "no-checkpoint":
      return error.fix.replace("start it again with overwrite", "start it again with --overwrite");
    case "empty-path":
      return "give --out a folder, e.g. --out runs/my-run";
    default:
      return error.fix.replace(/write to another folder$/, "choose another --out")
        .replace(/write to a new or empty folder$/, "choose a new or empty --out");
  }
}

function describeFailure<F extends FlagTable>(
  spec: CliSpec<F>,
  error: unknown,
): { message: string; exitCode: 1 | 2 } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof RunDirError) {
    const e = new CliError(
      spec.name,
      error.what,
      error.path,
      runDirFix(error, "resume" in spec.flags),
      USAGE_PROBLEMS.has(error.problem) ? 2 : 1,
    );
    return { message: e.message, exitCode: e.exitCode };
  }
  if (error instanceof NonFiniteLossError) {
    const hint = "resume" in spec.flags
      ? "\nThe last good checkpoint is untouched: continue from it with --resume (a lower " +
        "learning rate may help)."
      : "";
    return { message: `${spec.name}: ${error.message}${hint}`, exitCode: 1 };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    message: message.startsWith(`${spec.name}:`) ? message : `${spec.name}: ${message}`,
    exitCode: 1,
  };
}

// ------------------------------------------------------------------------------- common flags

/** `--preset full|tiny`, defaulting to `full`. */
export function presetFlag(describe: Record<Preset, string>, defaultPreset: Preset = "full") {
  return flag.choice(PRESETS, {
    help: "which setting to run (see Presets)",
    default: defaultPreset,
    describe,
  });
}

/** `--backend auto|cpu|webgpu`, else `$TETHER_BACKEND`, else auto. */
export const backendFlag = flag.choice(BACKEND_CHOICES, {
  help: "where tensors live: auto takes WebGPU on a hardware adapter, else the CPU",
  env: "TETHER_BACKEND",
  defaultText: "$TETHER_BACKEND, else auto",
});

/**
 * `--out DIR`, defaulting to `runs/<name>-<preset>` (or `runs/<name>` without presets).
 *
 * @param name The script's name.
 * @param withPreset Whether the default names the preset.
 */
export function outFlag(name: string, withPreset = true) {
  return flag.path({
    help: "the run folder: metrics.jsonl, checkpoints, tables, the tuned model",
    default: withPreset ? perPreset((p) => `runs/${name}-${p}`) : `runs/${name}`,
    example: "runs/my-run",
  });
}

/** `--seed N`. */
export const seedFlag = flag.int({
  help: "seed of the data order, sampling and initial weights",
  min: 0,
  default: 0,
});

/** `--resume`. */
export const resumeFlag = flag.boolean({
  help: "continue the run in --out from its last checkpoint (an error when there is none)",
});

/** `--overwrite`. */
export const overwriteFlag = flag.boolean({
  help: "replace the run in --out (it is deleted first); without it an existing run is refused",
});

/** `--report-to none|tensorboard`: also write TensorBoard event files into the run folder. */
export const reportToFlag = flag.choice(["none", ...REPORT_TARGETS], {
  help: "also write the run's scalars and sample tables as TensorBoard event files",
  default: "none",
});

/** The trainers' `reportTo` list for a `--report-to` value. */
export function reportTargets(value: "none" | ReportTarget): ReportTarget[] {
  return value === "none" ? [] : [value];
}

/**
 * The flags of a script that writes a run folder: `--backend`, `--out`, `--resume` (when it can
 * resume), `--overwrite`, `--seed` and `--report-to`.
 *
 * @param name The script's name (the default run folder).
 * @param o Whether `--resume` exists and whether the default folder names the preset.
 */
export function runFlags<const R extends boolean = true>(
  name: string,
  o: { resume?: R; withPreset?: boolean } = {},
) {
  const out = outFlag(name, o.withPreset ?? true);
  const withResume = {
    backend: backendFlag,
    out,
    resume: resumeFlag,
    overwrite: overwriteFlag,
    seed: seedFlag,
    "report-to": reportToFlag,
  };
  const without = {
    backend: backendFlag,
    out,
    overwrite: overwriteFlag,
    seed: seedFlag,
    "report-to": reportToFlag,
  };
  return (o.resume === false ? without : withResume) as R extends false ? typeof without
    : typeof withResume;
}

/**
 * Open the script's run folder before anything loads: `--resume` continues it (and needs a
 * checkpoint in one of `checkpoints`), `--overwrite` replaces it, and otherwise an existing run
 * is refused. The folder is locked until the returned handle is released; a lock left by a run
 * that died is taken over and said so.
 *
 * @param cli The script's command line (for its name).
 * @param args `out`, and `resume` / `overwrite` when the script has them.
 * @param o Checkpoint folders (relative to `out`) that `--resume` continues from; the log.
 */
export async function openRun(
  cli: { name: string },
  args: { out: string; resume?: boolean; overwrite?: boolean },
  o: { checkpoints?: readonly string[]; log?: (line: string) => void; argv?: readonly string[] } =
    {},
): Promise<RunDir> {
  if (args.resume && args.overwrite) {
    throw new CliError(
      cli.name,
      "--resume and --overwrite together",
      args.out,
      "pick one: --resume continues the run, --overwrite replaces it",
    );
  }
  const run = await openRunDir(args.out, {
    mode: args.resume ? "resume" : args.overwrite ? "overwrite" : "new",
    owner: cli.name,
    checkpoints: o.checkpoints,
    command: o.argv,
  });
  if (run.staleHolder) {
    const h = run.staleHolder;
    (o.log ?? console.log)(
      `${cli.name}: took over the lock of ${args.out} left by ${h.owner} (pid ${h.pid} on host ` +
        `${h.host}, started ${h.startedAt}), which is no longer running`,
    );
  }
  return run;
}
