/**
 * Run folders that are never clobbered.
 *
 * - **One writer at a time.** {@link acquireRunLock} takes an exclusive advisory lock (`flock`)
 *   on `<dir>/run.lock` and writes who holds it (pid, host, start time, owner). A second
 *   process that asks for the same folder is refused at once, naming the holder. The kernel
 *   drops the lock when its process dies, so a lock left by a crashed run is taken over, and
 *   reported through {@link RunLock.staleHolder}. Inside one process the lock is re-entrant: a
 *   script that holds its run folder can hand it to a trainer that locks it again.
 * - **Continue or replace, on purpose.** {@link openRunDir} refuses a folder that already holds
 *   a run unless it is asked to resume it (which needs a complete checkpoint when the caller
 *   names where one lives) or to overwrite it. A folder holding anything that is not a run is
 *   never deleted. Creating the folder and its lock and writing `run.json` happen first, so an
 *   unwritable folder fails before any model loads.
 *
 * Failures are {@link RunDirError}s whose message reads `<what> (<path>): <fix>`.
 *
 * @example
 * ```ts
 * import { openRunDir } from "./run_dir.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using run = await openRunDir(`${dir}/run`, { owner: "my_script" });
 *   await Deno.writeTextFile(`${run.path}/notes.txt`, "training…");
 * }
 * // A second run into the same folder must say what it wants:
 * await openRunDir(`${dir}/run`, { owner: "my_script" }).catch((e) => console.log(e.message));
 * await (await openRunDir(`${dir}/run`, { owner: "my_script", mode: "overwrite" })).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { PathError, withPath } from "../../common/fs_errors.ts";
import { hasCheckpoint } from "./checkpoint.ts";

/** The lock file inside a run folder (present only while a run holds the folder). */
export const RUN_LOCK_FILE = "run.lock";

/** The file that marks a folder as a run: who started it, when, and how. */
export const RUN_INFO_FILE = "run.json";

/** Files whose presence marks a folder written by a run of an earlier version. */
const RUN_MARKERS = [RUN_INFO_FILE, "metrics.jsonl", "checkpoint"];

/** Who holds (or held) a run folder's lock. */
export interface LockHolder {
  /** Process id. */
  pid: number;
  /** Host name of the machine it runs on. */
  host: string;
  /** When it took the lock (ISO 8601). */
  startedAt: string;
  /** What holds it: a script or trainer name. */
  owner: string;
}

/** Why a run folder was refused. */
export type RunDirProblem =
  | "empty-path"
  | "in-use"
  | "exists"
  | "not-a-run"
  | "no-run"
  | "no-checkpoint"
  | "other-owner"
  | "unwritable";

/** A run folder that cannot be used as asked; the message reads `<what> (<path>): <fix>`. */
export class RunDirError extends Error {
  /** Which rule refused it. */
  readonly problem: RunDirProblem;
  /** The folder. */
  readonly path: string;
  /** What is wrong, without the path. */
  readonly what: string;
  /** How to fix it. */
  readonly fix: string;
  /** The live holder, for `in-use`. */
  readonly holder: LockHolder | null;

  /**
   * Describe a refusal.
   *
   * @param problem Which rule refused it.
   * @param path The folder.
   * @param what What is wrong.
   * @param fix How to fix it.
   * @param holder The lock's holder, for `in-use`.
   * @param cause The underlying error, if any.
   */
  constructor(
    problem: RunDirProblem,
    path: string,
    what: string,
    fix: string,
    holder: LockHolder | null = null,
    cause?: unknown,
  ) {
    super(`${what} (${path}): ${fix}`, cause === undefined ? undefined : { cause });
    this.name = "RunDirError";
    this.problem = problem;
    this.path = path;
    this.what = what;
    this.fix = fix;
    this.holder = holder;
  }
}

interface HeldLock {
  file: Deno.FsFile;
  count: number;
  holder: LockHolder;
}

// Locks this process holds, by lock-file path: flock is per open file, so a second open in the
// same process would conflict with the first.
const held = new Map<string, HeldLock>();

/** A held run-folder lock; release it (or `await using` it) when the run ends. */
export class RunLock implements AsyncDisposable {
  /** The lock file. */
  readonly path: string;
  /** This process, as recorded in the lock file. */
  readonly holder: LockHolder;
  /**
   * The holder recorded by a run that died without releasing the lock (taken over), or null.
   */
  readonly staleHolder: LockHolder | null;
  /** True when this process already held the lock (a nested acquisition). */
  readonly nested: boolean;
  #released = false;

  /** @internal */
  constructor(path: string, holder: LockHolder, staleHolder: LockHolder | null, nested = false) {
    this.path = path;
    this.holder = holder;
    this.staleHolder = staleHolder;
    this.nested = nested;
  }

  /** Release the lock (the last release in this process removes the lock file). */
  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    const entry = held.get(this.path);
    if (!entry || --entry.count > 0) return Promise.resolve();
    held.delete(this.path);
    try {
      // Removed while still locked: whoever opens the path next gets a fresh file.
      Deno.removeSync(this.path);
    } catch {
      // Already gone, or the folder was removed: nothing left to release but the lock itself.
    }
    try {
      entry.file.close();
    } catch {
      // Closed already.
    }
    return Promise.resolve();
  }

  /** Same as {@link RunLock.release}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown host"; // no --allow-sys
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h?.pid === "number" && typeof h.startedAt === "string") {
      return {
        pid: h.pid,
        host: String(h.host ?? "unknown host"),
        startedAt: h.startedAt,
        owner: String(h.owner ?? "a run"),
      };
    }
  } catch {
    // Not written yet, or not ours.
  }
  return null;
}

/**
 * A holder as a phrase: `imdb_ppo (pid 4242 on host gpu1, started 2025-01-01 12:00:00Z, 35 s
 * ago)`.
 *
 * @param h The holder.
 */
export function describeHolder(h: LockHolder): string {
  const started = Date.parse(h.startedAt);
  const ago = Number.isFinite(started) ? `, ${formatAge(Date.now() - started)} ago` : "";
  return `${h.owner} (pid ${h.pid} on host ${h.host}, started ${
    h.startedAt.replace("T", " ").replace(/\.\d+Z$/, "Z")
  }${ago})`;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

async function readAllText(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  // A lock file is a few hundred bytes; more than this is not ours anyway.
  const buffer = new Uint8Array(16384);
  let at = 0;
  for (
    let n = await file.read(buffer);
    n !== null && n > 0;
    n = await file.read(buffer.subarray(at))
  ) {
    at += n;
    if (at === buffer.length) break;
  }
  return new TextDecoder().decode(buffer.subarray(0, at));
}

/**
 * Take the run folder's lock (creating the folder). Refuses at once, naming the holder, when
 * another process holds it; takes over a lock whose process died (see
 * {@link RunLock.staleHolder}). Re-entrant within one process.
 *
 * @param dir The run folder.
 * @param owner What takes it (a script or trainer name), recorded for others to read.
 */
export async function acquireRunLock(dir: string, owner: string): Promise<RunLock> {
  if (dir.trim() === "") {
    throw new RunDirError("empty-path", '""', "empty run folder", "name a folder");
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new RunDirError(
      "unwritable",
      dir,
      "cannot create the run folder",
      `${(error as Error).message}; write to another folder`,
      null,
      error,
    );
  }
  const path = join(await Deno.realPath(dir), RUN_LOCK_FILE);
  const mine = held.get(path);
  if (mine) {
    mine.count++;
    return new RunLock(path, mine.holder, null, true);
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true });
    } catch (error) {
      throw new RunDirError(
        "unwritable",
        dir,
        "cannot write to the run folder",
        `creating ${RUN_LOCK_FILE} failed: ${(error as Error).message}; write to another folder`,
        null,
        error,
      );
    }
    let locked: boolean;
    try {
      locked = await file.tryLock(true);
    } catch (error) {
      file.close();
      throw new PathError("lock", path, error);
    }
    if (!locked) {
      file.close();
      const holder = parseHolder(await Deno.readTextFile(path).catch(() => ""));
      throw new RunDirError(
        "in-use",
        dir,
        "run folder in use",
        `held by ${
          holder ? describeHolder(holder) : "another process (it has not written its name yet)"
        }; wait for it to finish, or write to another folder`,
        holder,
      );
    }
    // The previous holder may have removed the file between our open and our lock: then we
    // hold a lock on a file no one else can find. Start over on the current one.
    const ours = await file.stat();
    const current = await Deno.stat(path).catch(() => null);
    if (!current || current.ino !== ours.ino || current.dev !== ours.dev) {
      file.close();
      continue;
    }
    try {
      const staleHolder = parseHolder(await readAllText(file));
      const holder: LockHolder = {
        pid: Deno.pid,
        host: hostName(),
        startedAt: new Date().toISOString(),
        owner,
      };
      const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
      await withPath("write", path, async () => {
        await file.truncate(0);
        await file.seek(0, Deno.SeekMode.Start);
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      });
      held.set(path, { file, count: 1, holder });
      return new RunLock(path, holder, staleHolder);
    } catch (error) {
      file.close();
      throw error;
    }
  }
  throw new RunDirError(
    "in-use",
    dir,
    "run folder lock keeps changing hands",
    "another process is starting and stopping runs in it; write to another folder",
  );
}

/** How {@link openRunDir} treats a folder that already holds a run. */
export type RunDirMode = "new" | "resume" | "overwrite";

/** Options of {@link openRunDir}. */
export interface RunDirOptions {
  /**
   * `new` (default): the folder must be absent or empty. `resume`: it must hold a run (with a
   * complete checkpoint in one of `checkpoints`, when given). `overwrite`: a run there is
   * deleted first (a folder holding anything else is refused).
   */
  mode?: RunDirMode;
  /** What runs (a script or trainer name): recorded in `run.json` and the lock. */
  owner?: string;
  /** Checkpoint folders, relative to the run folder, that `resume` may continue from. */
  checkpoints?: readonly string[];
  /** The command line, recorded in `run.json`. */
  command?: readonly string[];
}

/**
 * An open run folder: locked, checked, and marked with `run.json`. Releasing it removes
 * `run.json` again when nothing else was written (and the folder, when it created it), so a run
 * that failed while loading does not block its rerun.
 */
export interface RunDir extends AsyncDisposable {
  /** The folder. */
  readonly path: string;
  /** How it was opened. */
  readonly mode: RunDirMode;
  /** The checkpoint folder `resume` found (absolute or as given), else null. */
  readonly checkpoint: string | null;
  /** The lock left by a run that died, taken over now; null when there was none. */
  readonly staleHolder: LockHolder | null;
  /** Release the lock. */
  release(): Promise<void>;
}

/** What `run.json` holds. */
export interface RunInfo {
  /** Always `tether-run`. */
  format: "tether-run";
  /** What started the run. */
  owner: string;
  /** When (ISO 8601). */
  createdAt: string;
  /** The command line, when given. */
  command?: string[];
}

async function entriesOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name !== RUN_LOCK_FILE) names.push(e.name);
  return names.sort();
}

async function readRunInfo(dir: string): Promise<RunInfo | null> {
  try {
    const info = JSON.parse(await Deno.readTextFile(join(dir, RUN_INFO_FILE))) as RunInfo;
    return info?.format === "tether-run" ? info : null;
  } catch {
    return null;
  }
}

/**
 * Open a run folder for a run: take its lock, check what is there against `mode`, and mark it
 * with `run.json`; see the module notes. Everything is checked before anything is deleted.
 *
 * @param dir The run folder (created with its parents).
 * @param options Mode, owner, checkpoint folders, command line.
 */
export async function openRunDir(dir: string, options: RunDirOptions = {}): Promise<RunDir> {
  const mode = options.mode ?? "new";
  const owner = options.owner ?? "a run";
  if (dir.trim() === "") {
    throw new RunDirError(
      "empty-path",
      '""',
      "empty run folder",
      'name a folder (an empty path would write into the current one); e.g. "runs/my-run"',
    );
  }
  if (mode === "resume" && !(await isDirectory(dir))) {
    throw new RunDirError(
      "no-run",
      dir,
      "no run to resume",
      "the folder does not exist; check the path, or start a new run without resume",
    );
  }
  const created = !(await isDirectory(dir));
  const lock = await acquireRunLock(dir, owner);
  if (lock.nested) {
    // This process opened the folder already and applied `mode` then: share it.
    const release = () => lock.release();
    return {
      path: dir,
      mode,
      checkpoint: null,
      staleHolder: null,
      release,
      [Symbol.asyncDispose]: release,
    };
  }
  try {
    const names = await entriesOf(dir);
    const info = await readRunInfo(dir);
    const isRun = names.some((n) => RUN_MARKERS.includes(n)) ||
      (options.checkpoints ?? []).some((c) => names.includes(c.split(/[\\/]/)[0]));
    if (names.length > 0 && !isRun) {
      throw new RunDirError(
        "not-a-run",
        dir,
        "folder holds files that are not a run",
        `found ${preview(names)}; nothing there is deleted: write to a new or empty folder`,
      );
    }
    let checkpoint: string | null = null;
    if (mode === "resume") {
      if (names.length === 0) {
        throw new RunDirError(
          "no-run",
          dir,
          "no run to resume",
          "the folder is empty; start a new run without resume",
        );
      }
      if (info && options.owner && info.owner !== options.owner) {
        throw new RunDirError(
          "other-owner",
          dir,
          `the run there was started by ${info.owner}`,
          `resume it with ${info.owner}, or write to another folder`,
        );
      }
      if (options.checkpoints && options.checkpoints.length > 0) {
        for (const c of options.checkpoints) {
          if (await hasCheckpoint(join(dir, c))) {
            checkpoint = join(dir, c);
            break;
          }
        }
        if (checkpoint === null) {
          throw new RunDirError(
            "no-checkpoint",
            dir,
            "no checkpoint to resume from",
            `the run has no complete ${
              options.checkpoints.join(" or ")
            } (it stopped before its first save); start it again with overwrite`,
          );
        }
      }
    } else if (names.length > 0) {
      if (mode === "new") {
        throw new RunDirError(
          "exists",
          dir,
          "run folder already holds a run",
          "resume it, overwrite it, or write to another folder",
        );
      }
      for (const name of names) {
        await withPath(
          "remove",
          join(dir, name),
          () => Deno.remove(join(dir, name), { recursive: true }),
        );
      }
    }
    if (mode !== "resume" || info === null) {
      const record: RunInfo = {
        format: "tether-run",
        owner,
        createdAt: new Date().toISOString(),
        ...(options.command ? { command: [...options.command] } : {}),
      };
      await writeRunInfo(dir, record);
    }
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      // A run that wrote nothing (it failed while loading) leaves nothing behind to refuse a
      // rerun over.
      if (mode !== "resume") {
        const left = await entriesOf(dir).catch(() => [RUN_INFO_FILE, "?"]);
        if (left.length === 1 && left[0] === RUN_INFO_FILE) {
          await Deno.remove(join(dir, RUN_INFO_FILE)).catch(() => {});
        }
      }
      await lock.release();
      if (created) await Deno.remove(dir).catch(() => {}); // only when empty
    };
    return {
      path: dir,
      mode,
      checkpoint,
      staleHolder: lock.staleHolder,
      release,
      [Symbol.asyncDispose]: release,
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  const path = join(dir, RUN_INFO_FILE);
  try {
    await Deno.writeTextFile(path, JSON.stringify(info, null, 1) + "\n");
  } catch (error) {
    await Deno.remove(path).catch(() => {});
    throw new RunDirError(
      "unwritable",
      dir,
      "cannot write to the run folder",
      `writing ${RUN_INFO_FILE} failed: ${(error as Error).message}; write to another folder`,
      null,
      error,
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

function preview(names: string[]): string {
  const shown = names.slice(0, 3).join(", ");
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}
