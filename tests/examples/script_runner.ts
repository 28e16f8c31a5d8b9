/** Test helper: run an example script as a user would, in its own process. */

import { fileURLToPath } from "node:url";

/** What a script run printed and how it ended. */
export interface ScriptRun {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * The path of an example script.
 *
 * @param name File name under examples/.
 */
export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
}

/**
 * Start `deno run -A examples/<name> ...args` with piped output.
 *
 * @param name File name under examples/.
 * @param args Its arguments.
 * @param env Extra environment variables.
 */
export function startScript(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", examplePath(name), ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Run a script to the end.
 *
 * @param name File name under examples/.
 * @param args Its arguments.
 * @param env Extra environment variables.
 */
export async function runScript(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ScriptRun> {
  const started = performance.now();
  const out = await startScript(name, args, env).output();
  return finished(out, started);
}

/**
 * Collect a started script's output.
 *
 * @param child The process.
 * @param started `performance.now()` when it started.
 */
export async function waitScript(child: Deno.ChildProcess, started: number): Promise<ScriptRun> {
  return finished(await child.output(), started);
}

function finished(out: Deno.CommandOutput, started: number): ScriptRun {
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Deno's own one-time notice about npm packages' install scripts (printed by the runtime when
 * it first resolves them, not by the script), removed so a test sees only what the script says.
 *
 * @param stderr Standard error of a run.
 */
export function withoutDenoNotices(stderr: string): string {
  return stderr.replace(/╭[^]*?Ignored build scripts[^]*?╰─\n?/g, "");
}
