/**
 * The settings of a model Hub call: explicit options first, then the Hugging Face environment
 * (resolved in common/hub.ts, shared with datasets and the Python libraries), then defaults.
 *
 * @module
 */

import {
  isOfflineEnv,
  processHubEnv,
  resolveEndpoint,
  resolveHfHome,
  resolveHubCacheDir,
  resolveToken,
} from "../../common/hub.ts";
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

/** The Hugging Face home folder of this process: `$HF_HOME`, else `~/.cache/huggingface`. */
export function hfHome(): string {
  return resolveHfHome(processHubEnv());
}

/** The hub cache folder of this process: `$HF_HUB_CACHE`, else `<HF home>/hub`. */
export function hubCacheDir(): string {
  return resolveHubCacheDir(processHubEnv());
}

/**
 * Fill in every Hub setting from options, then the environment, then the defaults.
 *
 * @param options Explicit settings (win over the environment).
 */
export function hubSettings(options: HubOptions = {}): HubSettings {
  const env = processHubEnv();
  const offline = options.offline ?? isOfflineEnv(env);
  return {
    revision: options.revision ?? "main",
    token: options.token ?? (offline ? undefined : resolveToken(env)),
    offline,
    cacheDir: options.cacheDir ?? resolveHubCacheDir(env),
    endpoint: resolveEndpoint(env, options.endpoint),
    fetch: options.fetch ?? globalThis.fetch,
    progress: options.progress ?? stderrSink,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
}
