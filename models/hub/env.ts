/**
 * Where the Hugging Face cache lives and how to reach the Hub, read from the same environment
 * variables the Python libraries use, so both sides share one cache.
 *
 * @module
 */

import { join } from "node:path";
import { type ProgressSink, stderrSink } from "../../common/progress.ts";

export type { ProgressSink };

/** Settings every Hub call accepts; each defaults from the environment. */
export interface HubOptions {
  /** Branch, tag or commit hash (default `main`). */
  revision?: string;
  /** Access token for gated/private repos (default `$HF_TOKEN`, then the saved login token). */
  token?: string;
  /** Never touch the network (default: `$HF_HUB_OFFLINE` is 1/true/yes/on). */
  offline?: boolean;
  /** The hub cache folder (default `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`). */
  cacheDir?: string;
  /** Hub address (default `$HF_ENDPOINT`, else `https://huggingface.co`). */
  endpoint?: string;
  /** The fetch to use (injectable for tests and proxies; default the global fetch). */
  fetch?: typeof fetch;
  /** Where download progress goes; `false` for silence (default standard error). */
  progress?: ProgressSink | false;
  /** Give up on a request whose response headers take longer than this (default 30 s). */
  timeoutMs?: number;
}

/** {@link HubOptions} with every default filled in. */
export interface HubSettings {
  /** Branch, tag or commit hash. */
  revision: string;
  /** Access token, if any. */
  token: string | undefined;
  /** Whether the network is off limits. */
  offline: boolean;
  /** The hub cache folder. */
  cacheDir: string;
  /** Hub address without a trailing slash. */
  endpoint: string;
  /** The fetch to use. */
  fetch: typeof fetch;
  /** Progress output, or false. */
  progress: ProgressSink | false;
  /** Response-header timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * An environment variable, or undefined when unset, empty or unreadable (no `--allow-env`).
 *
 * @param name Variable name.
 */
export function envVar(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === undefined || value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * Whether an environment flag is set the way huggingface_hub reads it (1, true, yes, on).
 *
 * @param value The variable's value.
 */
export function isTruthyFlag(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

function homeDir(): string {
  const home = envVar("HOME") ?? envVar("USERPROFILE");
  if (home === undefined) {
    throw new Error(
      "hub: cannot locate the Hugging Face cache: HOME is unset (or --allow-env is missing). " +
        "Set HF_HOME or HF_HUB_CACHE, or pass cacheDir",
    );
  }
  return home;
}

/** The Hugging Face home folder: `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(): string {
  return envVar("HF_HOME") ??
    join(envVar("XDG_CACHE_HOME") ?? join(homeDir(), ".cache"), "huggingface");
}

/** The hub cache folder: `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else `<HF home>/hub`. */
export function hubCacheDir(): string {
  return envVar("HF_HUB_CACHE") ?? envVar("HUGGINGFACE_HUB_CACHE") ?? join(hfHome(), "hub");
}

/** Whether the environment asks for offline mode (`HF_HUB_OFFLINE`, or `TRANSFORMERS_OFFLINE`). */
export function offlineFromEnv(): boolean {
  return isTruthyFlag(envVar("HF_HUB_OFFLINE")) || isTruthyFlag(envVar("TRANSFORMERS_OFFLINE"));
}

/** The access token: `$HF_TOKEN`, `$HUGGING_FACE_HUB_TOKEN`, else the file `huggingface-cli login` saved. */
export function tokenFromEnv(): string | undefined {
  const token = envVar("HF_TOKEN") ?? envVar("HUGGING_FACE_HUB_TOKEN");
  if (token !== undefined) return token.trim();
  try {
    const path = envVar("HF_TOKEN_PATH") ?? join(hfHome(), "token");
    const saved = Deno.readTextFileSync(path).trim();
    return saved === "" ? undefined : saved;
  } catch {
    return undefined;
  }
}

/**
 * Fill in every Hub setting from options, then the environment, then the defaults.
 *
 * @param options Explicit settings (win over the environment).
 */
export function hubSettings(options: HubOptions = {}): HubSettings {
  const offline = options.offline ?? offlineFromEnv();
  return {
    revision: options.revision ?? "main",
    token: options.token ?? (offline ? undefined : tokenFromEnv()),
    offline,
    cacheDir: options.cacheDir ?? hubCacheDir(),
    endpoint: (options.endpoint ?? envVar("HF_ENDPOINT") ?? "https://huggingface.co").replace(
      /\/+$/,
      "",
    ),
    fetch: options.fetch ?? globalThis.fetch,
    progress: options.progress ?? stderrSink,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
}
