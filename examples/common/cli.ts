/**
 * The flags every tutorial example shares: `--preset full|tiny`, `--backend`, `--out`,
 * `--resume`, `--seed`, plus the example's own. Unknown flags and bad values fail with a message
 * that names the flag, the value and what is accepted.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type ReportTarget, resolveReportTo } from "../../report/run_files.ts";

/** The two presets: the tutorial on real Hub checkpoints, or the offline tiny version. */
export const PRESETS = ["full", "tiny"] as const;

/** One of {@link PRESETS}. */
export type Preset = typeof PRESETS[number];

/** Flags common to all examples, parsed. */
export interface CommonArgs {
  /** `full` (default: real checkpoints and data from the Hub) or `tiny` (offline). */
  preset: Preset;
  /** `auto`, `cpu` or `webgpu`; undefined leaves it to `TETHER_BACKEND`, then `auto`. */
  backend?: string;
  /** Output folder of the run (metrics.jsonl, checkpoints, tables, adapters). */
  out: string;
  /** Continue from the checkpoint in `out`. */
  resume: boolean;
  /** Seed of data order, sampling and initial weights. */
  seed: number;
  /** `--report-to tensorboard`: also write TensorBoard event files into the run folder. */
  reportTo: ReportTarget[];
}

/** An example's extra flag: a string (numbers are parsed by {@link intFlag}/{@link numberFlag}). */
export interface ExtraFlag {
  /** `string` or `boolean`. */
  type: "string" | "boolean";
  /** Value when the flag is absent. */
  default?: string | boolean;
}

/** What {@link parseExampleArgs} returns: common flags plus the raw extra values. */
export interface ExampleArgs<Extra extends string> extends CommonArgs {
  /** Raw values of the example's own flags. */
  extra: Record<Extra, string | boolean | undefined>;
}

/**
 * Parse an example's command line.
 *
 * @param name The example's name, for the default output folder `runs/<name>-<preset>`.
 * @param args Command-line arguments (usually `Deno.args`).
 * @param extra The example's own flags.
 */
export function parseExampleArgs<Extra extends string = never>(
  name: string,
  args: readonly string[],
  extra: Record<Extra, ExtraFlag> = {} as Record<Extra, ExtraFlag>,
): ExampleArgs<Extra> {
  const options = {
    preset: { type: "string", default: "full" },
    backend: { type: "string" },
    out: { type: "string" },
    resume: { type: "boolean", default: false },
    seed: { type: "string", default: "0" },
    "report-to": { type: "string" },
    ...extra,
  } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (e) {
    const known = Object.keys(options).map((k) => `--${k}`).join(", ");
    throw new Error(`${name}: ${(e as Error).message}. Known flags: ${known}`);
  }
  const preset = String(values.preset);
  if (!(PRESETS as readonly string[]).includes(preset)) {
    throw new Error(`${name}: --preset must be one of ${PRESETS.join(", ")}, got '${preset}'`);
  }
  const seed = intFlag(name, "seed", values.seed, 0);
  const own = {} as Record<Extra, string | boolean | undefined>;
  for (const key of Object.keys(extra) as Extra[]) own[key] = values[key];
  return {
    preset: preset as Preset,
    backend: values.backend as string | undefined,
    out: (values.out as string | undefined) ?? `runs/${name}-${preset}`,
    resume: values.resume === true,
    seed,
    reportTo: resolveReportTo(`${name}: --report-to`, values["report-to"]),
    extra: own,
  };
}

function flagNumber(
  kind: "an integer" | "a number",
  name: string,
  flag: string,
  value: string | boolean | undefined,
  min: number,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  const ok = kind === "an integer" ? Number.isInteger(n) : Number.isFinite(n);
  if (typeof value !== "string" || value.trim() === "" || !ok || n < min) {
    throw new Error(`${name}: --${flag} must be ${kind} >= ${min}, got '${value}'`);
  }
  return n;
}

/**
 * An integer flag value, checked against a lower bound.
 *
 * @param name Example name, for the message.
 * @param flag Flag name without dashes.
 * @param value Raw value (undefined: use `fallback`).
 * @param min Smallest accepted value.
 * @param fallback Value when absent.
 */
export function intFlag(
  name: string,
  flag: string,
  value: string | boolean | undefined,
  min: number,
  fallback?: number,
): number {
  return flagNumber("an integer", name, flag, value, min, fallback);
}

/**
 * A finite number flag value, checked against a lower bound.
 *
 * @param name Example name, for the message.
 * @param flag Flag name without dashes.
 * @param value Raw value (undefined: use `fallback`).
 * @param min Smallest accepted value.
 * @param fallback Value when absent.
 */
export function numberFlag(
  name: string,
  flag: string,
  value: string | boolean | undefined,
  min: number,
  fallback?: number,
): number {
  return flagNumber("a number", name, flag, value, min, fallback);
}

/**
 * Run an example as a script: a failure prints its message once, prefixed with the example's
 * name, and exits with status 1 (the message already says what to fix; a stack adds nothing).
 *
 * @param name The example's name.
 * @param run The example's main.
 */
export async function runAsScript(name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = (error as Error).message;
    console.error(message.startsWith(`${name}:`) ? message : `${name}: ${message}`);
    Deno.exit(1);
  }
}
