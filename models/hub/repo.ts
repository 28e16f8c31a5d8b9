/**
 * Resolving a model reference, either a local folder or a Hub id (`org/name`), to local files:
 * from the folder, from the shared cache, or downloaded into the cache.
 *
 * A cached file is used without asking the Hub, so anything Python already downloaded loads
 * offline. Within one {@link ModelFiles}, every file comes from the same commit: the first
 * file resolved pins it.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { cachedCommit, lookupCachedFile, repoCacheDir, writeRef } from "./cache.ts";
import { downloadToCache } from "./download.ts";
import { envVar } from "../../common/hub.ts";
import { type HubOptions, type HubSettings, hubSettings } from "./env.ts";
import { fileURLToPath } from "node:url";
import { HubError } from "./errors.ts";

/** Options for one file lookup. */
export interface FileOptions {
  /** Return null instead of throwing when the repo has no such file. */
  optional?: boolean;
}

/** The files of one model, local or on the Hub. */
export interface ModelFiles {
  /** `local` for a folder, `hub` for a Hub repo. */
  readonly kind: "local" | "hub";
  /** The folder (absolute) or the repo id. */
  readonly id: string;
  /** The revision asked for (`main` by default; unused for folders). */
  readonly revision: string;
  /** True for a Hub repo read with the network off: only files already cached count. */
  readonly offline?: boolean;
  /**
   * The local path of a file of the model, downloading it into the cache when needed.
   *
   * @param file Path inside the model folder or repo, e.g. `config.json`.
   * @param options `optional: true` returns null when the file does not exist.
   */
  file(file: string, options: { optional: true }): Promise<string | null>;
  /**
   * The local path of a file of the model, downloading it into the cache when needed.
   *
   * @param file Path inside the model folder or repo.
   * @param options Lookup options.
   */
  file(file: string, options?: FileOptions): Promise<string>;
}

const REPO_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Whether a string is a syntactically valid Hub model id (`name` or `org/name`).
 *
 * @param id The candidate.
 */
export function isRepoId(id: string): boolean {
  return REPO_ID.test(id) && !id.includes("--") && !id.includes("..") && !id.endsWith(".git");
}

function looksLikePath(ref: string): boolean {
  return isAbsolute(ref) || ref.startsWith("./") || ref.startsWith("../") || ref === "." ||
    ref === ".." || ref.startsWith("~") || ref.startsWith("file:") || ref.includes("\\") ||
    ref.split("/").length > 2;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function checkFileName(file: string, repo: string): void {
  if (file === "" || file.startsWith("/") || file.split("/").some((p) => p === ".." || p === "")) {
    throw new HubError(
      "invalid-id",
      repo,
      file,
      `"${file}" is not a file path inside a model repo`,
    );
  }
}

class LocalModelFiles implements ModelFiles {
  readonly kind = "local";
  readonly revision = "main";
  constructor(readonly id: string) {}

  file(file: string, options: { optional: true }): Promise<string | null>;
  file(file: string, options?: FileOptions): Promise<string>;
  async file(file: string, options: FileOptions = {}): Promise<string | null> {
    checkFileName(file, this.id);
    const path = join(this.id, file);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (options.optional) return null;
    throw new HubError(
      "not-found",
      this.id,
      file,
      `The model folder ${this.id} has no "${file}"`,
    );
  }
}

class HubModelFiles implements ModelFiles {
  readonly kind = "hub";
  readonly #settings: HubSettings;
  readonly #repoDir: string;
  #commit: string | null = null;

  constructor(readonly id: string, settings: HubSettings) {
    this.#settings = settings;
    this.#repoDir = repoCacheDir(settings.cacheDir, id);
  }

  get revision(): string {
    return this.#settings.revision;
  }

  get offline(): boolean {
    return this.#settings.offline;
  }

  file(file: string, options: { optional: true }): Promise<string | null>;
  file(file: string, options?: FileOptions): Promise<string>;
  async file(file: string, options: FileOptions = {}): Promise<string | null> {
    checkFileName(file, this.id);
    const settings = this.#settings;
    const what = `"${file}" of model "${this.id}" (revision ${settings.revision})`;
    this.#commit ??= await cachedCommit(this.#repoDir, settings.revision);
    if (this.#commit !== null) {
      const cached = await lookupCachedFile(this.#repoDir, this.#commit, file);
      if (cached.state === "present") return cached.path;
      if (cached.state === "absent") return this.#missing(file, what, options);
    }
    if (settings.offline) {
      if (options.optional) return null;
      const cause = this.#commit === null
        ? `the cache has no ref "${settings.revision}" for this model at ${this.#repoDir}`
        : `the cached snapshot ${this.#commit} at ${this.#repoDir} lacks the file`;
      throw new HubError(
        "offline-miss",
        this.id,
        file,
        `Cannot load ${what} offline (HF_HUB_OFFLINE is set): ${cause}. Fix: pass a local ` +
          `folder path, or fill the cache first (run once online, or download it with ` +
          `Python's huggingface_hub into ${settings.cacheDir}).`,
      );
    }
    // Pin later files to the commit the first one came from, so a snapshot stays coherent.
    const result = await downloadToCache(
      settings,
      this.id,
      this.#commit ?? settings.revision,
      file,
    );
    if (result.commit !== null) {
      this.#commit ??= result.commit;
      // Record the revision asked for: the download itself may have used the pinned commit.
      await writeRef(this.#repoDir, settings.revision, result.commit);
    }
    if (result.status === "ok") return result.path;
    return this.#missing(file, what, options);
  }

  #missing(file: string, what: string, options: FileOptions): null {
    if (options.optional) return null;
    throw new HubError("not-found", this.id, file, `The Hub has no ${what}`);
  }
}

/**
 * Open a model by Hub id (`org/name`) or local folder. A string that names an existing folder is
 * a folder (as in transformers); explicit paths (`./x`, `/x`, `../x`) must exist.
 *
 * @example
 * ```ts
 * import { openModel } from "@tether/rlhf/models";
 * // A folder; a Hub id ("openai-community/gpt2", { offline: true }) reads the cache instead.
 * const model = await openModel("examples/assets/tiny-imdb/policy");
 * const configPath = await model.file("config.json");
 * console.log(configPath.endsWith("config.json")); // true
 * ```
 *
 * @param ref A folder path or a Hub model id.
 * @param options Revision, token, offline mode, cache folder, fetch.
 */
export async function openModel(ref: string, options: HubOptions = {}): Promise<ModelFiles> {
  if (ref.startsWith("file:")) ref = fileURLToPath(ref);
  const home = envVar("HOME") ?? envVar("USERPROFILE");
  if ((ref === "~" || ref.startsWith("~/")) && home !== undefined) ref = home + ref.slice(1);
  if (await isDirectory(ref)) return new LocalModelFiles(resolve(ref));
  if (looksLikePath(ref) || !isRepoId(ref)) {
    throw new HubError(
      looksLikePath(ref) ? "not-found" : "invalid-id",
      ref,
      undefined,
      looksLikePath(ref)
        ? `Model folder ${ref} does not exist`
        : `"${ref}" is neither an existing folder nor a Hub model id like "org/name"`,
    );
  }
  return new HubModelFiles(ref, hubSettings(options));
}
