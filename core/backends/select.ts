/**
 * Backend choice for scripts: `--backend auto|cpu|webgpu` or `TETHER_BACKEND`. `auto` takes
 * WebGPU on a real (hardware) adapter and the CPU otherwise; a software adapter such as lavapipe
 * is only used when WebGPU is asked for by name.
 */

import { setBackend } from "../engine.ts";
import { initWebGPU } from "./webgpu/init.ts";
import { NoWebGPUError } from "./webgpu/device.ts";

/** The values `--backend` and `TETHER_BACKEND` accept. */
export const BACKEND_CHOICES = ["auto", "cpu", "webgpu"] as const;

/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** What `selectBackend` chose and why. */
export interface SelectedBackend {
  /** The backend now current: `cpu` or `webgpu`. */
  name: "cpu" | "webgpu";
  /** A sentence for logs: the adapter used, or why WebGPU was not. */
  reason: string;
}

/** Options of {@link selectBackend}. */
export interface SelectOptions {
  /** Do not print the one-line notice when `auto` falls back to the CPU. */
  quiet?: boolean;
}

function envChoice(): string | undefined {
  try {
    return Deno.env.get("TETHER_BACKEND") || undefined;
  } catch {
    return undefined; // no --allow-env: the flag or "auto" decides
  }
}

/**
 * Makes the chosen backend current and returns what was chosen. `choice` defaults to
 * `TETHER_BACKEND`, then `auto`. `webgpu` accepts a software adapter and throws (naming the
 * reason) when there is none at all; `auto` falls back to the CPU with a one-line notice.
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import { selectBackend } from "@tether/rlhf/core";
 * // `--backend cpu`, as the example scripts take it.
 * const args = ["--backend", "cpu"];
 * const { values } = parseArgs({ args, options: { backend: { type: "string" } } });
 * const chosen = await selectBackend(values.backend);
 * console.log(`backend: ${chosen.name} (${chosen.reason})`);
 * ```
 */
export async function selectBackend(
  choice?: string,
  opts: SelectOptions = {},
): Promise<SelectedBackend> {
  const raw = choice ?? envChoice() ?? "auto";
  const c = raw.trim().toLowerCase();
  if (!(BACKEND_CHOICES as readonly string[]).includes(c)) {
    throw new Error(
      `selectBackend: unknown backend '${raw}'${
        choice === undefined ? " (from TETHER_BACKEND)" : ""
      }; ` +
        `use one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  if (c === "cpu") {
    setBackend("cpu");
    return { name: "cpu", reason: "asked for" };
  }
  if (c === "webgpu") {
    const gpu = await initWebGPU({ allowFallback: true });
    setBackend("webgpu");
    return { name: "webgpu", reason: describe(gpu.info) };
  }
  try {
    const gpu = await initWebGPU({ allowFallback: false });
    setBackend("webgpu");
    return { name: "webgpu", reason: describe(gpu.info) };
  } catch (e) {
    const why = e instanceof NoWebGPUError ? e.reason : (e as Error).message;
    if (!opts.quiet) console.error(`backend auto: using cpu (${why})`);
    setBackend("cpu");
    return { name: "cpu", reason: why };
  }
}

function describe(
  info: { adapterInfo: { description: string; vendor: string }; isFallback: boolean },
) {
  const name = info.adapterInfo.description || info.adapterInfo.vendor || "unnamed adapter";
  return `${name}${info.isFallback ? " (software fallback adapter)" : ""}`;
}
