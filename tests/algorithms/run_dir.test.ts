// Run folders: one writer at a time (a second process is refused naming the holder; a lock left
// by a killed process is taken over and reported), an existing run continued only on purpose,
// nothing that is not a run ever deleted, and an unwritable folder refused before any work.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acquireRunLock,
  openRunDir,
  RUN_INFO_FILE,
  RUN_LOCK_FILE,
  RunDirError,
} from "../../algorithms/common/run_dir.ts";
import { saveCheckpoint } from "../../algorithms/common/checkpoint.ts";
import { tensor } from "../../core/mod.ts";
import { CAN_MOUNT_TMPFS, mountTmpfs } from "../common/tmpfs.ts";

const RUN_DIR_MODULE = new URL("../../algorithms/common/run_dir.ts", import.meta.url).href;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "run_dir_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

function rejectsWith(problem: string, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RunDirError, String(e));
    assert.equal(e.problem, problem, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

Deno.test("openRunDir: a new run, then a rerun refused until it says resume or overwrite", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "run");
    const run = await openRunDir(dir, { owner: "t", command: ["--seed", "1"] });
    assert.deepEqual(names(dir), [RUN_INFO_FILE, RUN_LOCK_FILE]);
    const info = JSON.parse(await Deno.readTextFile(join(dir, RUN_INFO_FILE)));
    assert.equal(info.owner, "t");
    assert.deepEqual(info.command, ["--seed", "1"]);
    await Deno.writeTextFile(join(dir, "metrics.jsonl"), '{"step":1}\n');
    await run.release();
    assert.deepEqual(names(dir), ["metrics.jsonl", RUN_INFO_FILE], "the lock goes with the run");

    await assert.rejects(
      openRunDir(dir, { owner: "t" }),
      rejectsWith("exists", /^run folder already holds a run \(.*run\): resume it, overwrite it/),
    );
    assert.deepEqual(names(dir), ["metrics.jsonl", RUN_INFO_FILE], "a refusal touches nothing");
    // Resuming needs a complete checkpoint where the caller says one lives.
    await assert.rejects(
      openRunDir(dir, { owner: "t", mode: "resume", checkpoints: ["checkpoint"] }),
      rejectsWith("no-checkpoint", /no checkpoint to resume from .*stopped before its first save/),
    );
    await assert.rejects(
      openRunDir(dir, { owner: "other", mode: "resume" }),
      rejectsWith("other-owner", /started by t/),
    );
    const w = tensor([1, 2], [2], { requiresGrad: true });
    await saveCheckpoint(join(dir, "checkpoint"), { model: { parameters: () => [w] }, step: 3 });
    w.dispose();
    const resumed = await openRunDir(dir, {
      owner: "t",
      mode: "resume",
      checkpoints: ["checkpoint"],
    });
    assert.equal(resumed.checkpoint, join(dir, "checkpoint"));
    await resumed.release();
    assert.deepEqual(names(dir), ["checkpoint", "metrics.jsonl", RUN_INFO_FILE]);

    const replaced = await openRunDir(dir, { owner: "t", mode: "overwrite" });
    assert.deepEqual(names(dir), [RUN_INFO_FILE, RUN_LOCK_FILE], "the old run is gone");
    await replaced.release();
    // It wrote nothing: its run.json goes again, so a rerun is not refused.
    assert.deepEqual(names(dir), []);
    const fresh = await openRunDir(join(root, "fresh"), { owner: "t" });
    await fresh.release();
    assert.deepEqual(names(root), ["run"], "a folder it created and left empty is removed");
  });
});

Deno.test("openRunDir: never deletes what is not a run; refuses an empty path and a missing run", async () => {
  await withTempDir(async (root) => {
    await Deno.writeTextFile(join(root, "thesis.tex"), "precious");
    for (const mode of ["new", "overwrite", "resume"] as const) {
      await assert.rejects(
        openRunDir(root, { mode }),
        rejectsWith("not-a-run", /holds files that are not a run .*thesis\.tex.*nothing there/),
      );
    }
    assert.deepEqual(names(root), ["thesis.tex"]);
    await assert.rejects(openRunDir("", {}), rejectsWith("empty-path", /^empty run folder \(""\)/));
    await assert.rejects(openRunDir("  ", {}), rejectsWith("empty-path"));
    await assert.rejects(
      openRunDir(join(root, "nope"), { mode: "resume" }),
      rejectsWith("no-run", /does not exist/),
    );
    assert.deepEqual(names(root), ["thesis.tex"]);
  });
});

Deno.test("openRunDir: inside one process the lock is shared (a script hands its folder to a trainer)", async () => {
  await withTempDir(async (root) => {
    const outer = await openRunDir(root, { owner: "script" });
    const inner = await acquireRunLock(root, "trainer");
    assert.equal(inner.nested, true);
    const again = await openRunDir(root, { owner: "script" });
    await again.release();
    await inner.release();
    assert.ok(names(root).includes(RUN_LOCK_FILE), "the outer holder still holds it");
    await outer.release();
    assert.ok(!names(root).includes(RUN_LOCK_FILE));
  });
});

/** A child process that takes the lock, says so, and holds it until killed. */
function lockHolder(dir: string): Deno.ChildProcess {
  const code = `
    const { acquireRunLock } = await import(${JSON.stringify(RUN_DIR_MODULE)});
    await acquireRunLock(${JSON.stringify(dir)}, "holder_script");
    console.log("locked");
    setInterval(() => {}, 60_000);
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.trim();
}

Deno.test("a second process is refused at once, naming the holder; a killed holder's lock is taken over", async () => {
  await withTempDir(async (dir) => {
    const child = lockHolder(dir);
    try {
      assert.equal(await firstLine(child.stdout), "locked");
      const t0 = performance.now();
      await assert.rejects(
        openRunDir(dir, { owner: "second" }),
        (e: unknown) => {
          assert.ok(e instanceof RunDirError);
          assert.equal(e.problem, "in-use");
          assert.equal(e.holder?.pid, child.pid);
          assert.equal(e.holder?.owner, "holder_script");
          assert.match(
            e.message,
            new RegExp(
              `^run folder in use \\(.*\\): held by holder_script \\(pid ${child.pid} on host ` +
                `${Deno.hostname()}, started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ, \\d+ s ago\\); ` +
                `wait for it to finish, or write to another folder$`,
            ),
          );
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 1000, "refused at once, not after a wait");
      assert.deepEqual(names(dir), [RUN_LOCK_FILE], "the refused run wrote nothing");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    // SIGKILL left the lock file behind with the dead holder's name; the kernel dropped its lock.
    assert.match(await Deno.readTextFile(join(dir, RUN_LOCK_FILE)), /holder_script/);
    const run = await openRunDir(dir, { owner: "third" });
    assert.equal(run.staleHolder?.pid, child.pid);
    assert.equal(run.staleHolder?.owner, "holder_script");
    assert.match(await Deno.readTextFile(join(dir, RUN_LOCK_FILE)), /"owner":"third"/);
    await run.release();
  });
});

Deno.test("an unwritable run folder is refused before anything runs (a path under a regular file)", async () => {
  // Tests run as root, where chmod stops no write: a folder that cannot exist fails for anyone.
  await withTempDir(async (root) => {
    const file = join(root, "a-file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(
      openRunDir(join(file, "run"), { owner: "t" }),
      rejectsWith("unwritable", /^cannot create the run folder \(.*a-file\/run\): Not a directory/),
    );
  });
});

Deno.test({
  name: "a read-only file system is refused before anything runs (a read-only tmpfs)",
  ignore: !CAN_MOUNT_TMPFS,
  fn: async () => {
    const ro = (await mountTmpfs("64k", true))!;
    try {
      await assert.rejects(
        openRunDir(join(ro.path, "run"), { owner: "t" }),
        rejectsWith("unwritable", /^cannot create the run folder .*Read-only file system/),
      );
      await assert.rejects(
        openRunDir(ro.path, { owner: "t" }),
        rejectsWith("unwritable", /creating run\.lock failed: Read-only file system/),
      );
    } finally {
      await ro.unmount();
    }
  },
});
