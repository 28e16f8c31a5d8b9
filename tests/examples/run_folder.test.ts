// Run folders as a user meets them, in separate processes: two runs into one folder (the second
// refused at once naming the first, which finishes unharmed), a rerun without --resume refused
// with nothing touched, --resume with nothing to resume refused, and an unwritable --out refused
// before anything loads.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { hasCheckpoint } from "../../algorithms/common/checkpoint.ts";
import { CAN_MOUNT_TMPFS, mountTmpfs } from "../common/tmpfs.ts";
import { runScript, startScript, waitScript, withoutDenoNotices } from "./script_runner.ts";

const SHORT_SFT = [
  "--preset",
  "tiny",
  "--max-steps",
  "20",
  "--train-examples",
  "128",
  "--test-examples",
  "32",
  "--samples",
  "2",
  "--backend",
  "cpu",
];

/** Names, sizes and modification times of everything under `dir`. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string, prefix: string) => {
    for await (const e of Deno.readDir(path)) {
      const full = join(path, e.name);
      const st = await Deno.stat(full);
      out.push(`${prefix}${e.name} ${st.size} ${st.mtime?.getTime()}`);
      if (e.isDirectory) await walk(full, `${prefix}${e.name}/`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

async function waitForLockHolder(dir: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const holder = JSON.parse(await Deno.readTextFile(join(dir, "run.lock")));
      if (typeof holder.pid === "number") return holder.pid;
    } catch {
      // Not there yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no run.lock in ${dir} after ${timeoutMs} ms`);
}

Deno.test("two runs into one folder: the second is refused at once, naming the first, which finishes unharmed; a rerun without --resume is refused", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_folder_" });
  const out = join(root, "sft");
  try {
    const started = performance.now();
    const first = startScript("hh_sft.ts", [...SHORT_SFT, "--out", out]);
    const firstPid = await waitForLockHolder(out, 60_000);
    assert.equal(firstPid, first.pid);

    const second = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", out]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      withoutDenoNotices(second.stderr),
      new RegExp(
        `^hh_sft: run folder in use \\(${out}\\): held by hh_sft \\(pid ${first.pid} on host ` +
          `${Deno.hostname()}, started [^)]*\\); wait for it to finish, or choose another --out\\n$`,
      ),
    );
    assert.equal(second.stdout, "", "refused before loading anything");

    const done = await waitScript(first, started);
    assert.equal(done.code, 0, done.stderr);
    // The first run's files are its own: whole metric lines, steps in order, one writer.
    const text = await Deno.readTextFile(join(out, "metrics.jsonl"));
    assert.ok(text.endsWith("\n"));
    const steps = text.trim().split("\n").map((l) => JSON.parse(l).step as number);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), `steps ${steps}`);
    assert.equal(steps.at(-1), 20);
    assert.ok(await hasCheckpoint(join(out, "checkpoint")));
    assert.ok((await readMetrics(out)).some((m) => m.step === 20 && "train/loss" in m));
    await assert.rejects(Deno.stat(join(out, "run.lock")), Deno.errors.NotFound);

    // Running the same command again would replace that run: it must say which it wants.
    const before = await snapshot(out);
    const rerun = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", out]);
    assert.equal(rerun.code, 2, rerun.stderr);
    assert.equal(
      withoutDenoNotices(rerun.stderr),
      `hh_sft: run folder already holds a run (${out}): pass --resume to continue it, ` +
        "--overwrite to replace it, or choose another --out\n",
    );
    assert.equal(rerun.stdout, "");
    assert.deepEqual(await snapshot(out), before, "the refused rerun touched nothing");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--resume with nothing to resume, and an unwritable --out, are refused before anything loads (exit 2)", async () => {
  const root = await Deno.makeTempDir({ prefix: "run_folder_" });
  try {
    const missing = join(root, "never-ran");
    const resume = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", missing, "--resume"]);
    assert.equal(resume.code, 2);
    assert.equal(
      withoutDenoNotices(resume.stderr),
      `hh_sft: no run to resume (${missing}): the folder does not exist; drop --resume to ` +
        "start a new run, or check --out\n",
    );
    assert.equal(resume.stdout, "");

    // Tests run as root, where a chmod-ed folder stays writable: a path under a regular file
    // cannot be created by anyone.
    const file = join(root, "not-a-folder");
    await Deno.writeTextFile(file, "");
    const under = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", join(file, "run")]);
    assert.equal(under.code, 2);
    assert.match(
      withoutDenoNotices(under.stderr),
      new RegExp(
        `^hh_sft: cannot create the run folder \\(${file}/run\\): Not a directory .*; choose ` +
          "another --out\\n$",
      ),
    );
    assert.equal(under.stdout, "", "nothing loaded: the policy line never printed");

    const empty = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", ""]);
    assert.equal(empty.code, 2);
    assert.match(withoutDenoNotices(empty.stderr), /^hh_sft: bad --out \(""\): use a folder path/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "a read-only --out (a read-only tmpfs) is refused before anything loads (exit 2)",
  ignore: !CAN_MOUNT_TMPFS,
  fn: async () => {
    const ro = (await mountTmpfs("64k", true))!;
    try {
      const r = await runScript("hh_sft.ts", [...SHORT_SFT, "--out", join(ro.path, "run")]);
      assert.equal(r.code, 2);
      assert.match(
        withoutDenoNotices(r.stderr),
        /^hh_sft: cannot create the run folder \(.*\/run\): Read-only file system .*choose another --out\n$/,
      );
      assert.equal(r.stdout, "", "nothing loaded");
    } finally {
      await ro.unmount();
    }
  },
});
