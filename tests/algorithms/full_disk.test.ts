// A full disk loses nothing: a metrics line that does not fit is cut back (the file stays whole
// lines), a checkpoint that does not fit leaves the previous one complete and loadable, and
// every error names the file. Each case runs on a real full tmpfs where one can be mounted, and
// on an injected write failure everywhere.

import assert from "node:assert/strict";
import { join } from "node:path";
import { MetricsWriter, readMetrics } from "../../algorithms/common/metrics.ts";
import {
  CHECKPOINT_MANIFEST,
  loadCheckpoint,
  saveCheckpoint,
} from "../../algorithms/common/checkpoint.ts";
import { tensor } from "../../core/mod.ts";
import { CAN_MOUNT_TMPFS, mountTmpfs } from "../common/tmpfs.ts";

/** A metrics line of about 500 bytes. */
const WIDE = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`stat/${i}`, i / 7]));

/** Every line of a metrics file is JSON, and it ends with a newline. */
async function assertWholeLines(path: string): Promise<number[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text === "" || text.endsWith("\n"), "ends with a whole line");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).step as number);
}

async function fillDisk(dir: string): Promise<void> {
  // One large write takes whatever space is left, then fails.
  await Deno.writeFile(join(dir, "filler"), new Uint8Array(1 << 20)).catch(() => {});
}

Deno.test({
  name:
    "metrics on a full tmpfs: the part of a line that fitted is cut back; the error names the file",
  ignore: !CAN_MOUNT_TMPFS,
  fn: async () => {
    const disk = (await mountTmpfs("64k"))!;
    try {
      const path = join(disk.path, "metrics.jsonl");
      // 3994 bytes: the first page has room for 102 more, so the next line lands in part.
      await Deno.writeTextFile(path, JSON.stringify({ step: 0, pad: "x".repeat(3974) }) + "\n");
      assert.equal((await Deno.stat(path)).size, 3994);
      await fillDisk(disk.path);
      const writer = await MetricsWriter.open(disk.path);
      await assert.rejects(
        writer.write(1, WIDE),
        new RegExp(`^PathError: cannot write ${path}: No space left on device.*the disk is full`),
      );
      writer.close();
      assert.equal((await Deno.stat(path)).size, 3994, "no half line left behind");
      assert.deepEqual(await assertWholeLines(path), [0]);
      // With room again, the next line starts on a line of its own.
      await Deno.remove(join(disk.path, "filler"));
      const again = await MetricsWriter.open(disk.path);
      await again.write(2, WIDE);
      again.close();
      assert.deepEqual(await assertWholeLines(path), [0, 2]);
      assert.deepEqual((await readMetrics(path)).map((m) => m.step), [0, 2]);
    } finally {
      await disk.unmount();
    }
  },
});

Deno.test("metrics with an injected short write and failure: the line is cut back", async () => {
  const dir = await Deno.makeTempDir();
  const proto = Deno.FsFile.prototype;
  const write = proto.write;
  try {
    const writer = await MetricsWriter.open(dir);
    await writer.write(1, WIDE);
    let calls = 0;
    proto.write = async function (this: Deno.FsFile, p: Uint8Array) {
      // Half of the line reaches the file, then the disk is full.
      if (calls++ === 0) return await write.call(this, p.subarray(0, p.length >> 1));
      throw Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
    };
    await assert.rejects(writer.write(2, WIDE), /cannot write .*metrics\.jsonl: No space left/);
    proto.write = write;
    assert.equal(calls, 2, "the failure came after a partial write");
    await writer.write(3, WIDE);
    writer.close();
    assert.deepEqual(await assertWholeLines(join(dir, "metrics.jsonl")), [1, 3]);
  } finally {
    proto.write = write;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metrics: a torn last line left by a crash is cut off at open; resume truncates in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "metrics.jsonl");
    await Deno.writeTextFile(path, '{"step":1}\n{"step":2}\n{"step":3}\n{"step":4,"lo');
    const w = await MetricsWriter.open(dir, { resumeStep: 2 });
    await w.write(3, { loss: 1 });
    w.close();
    assert.equal(await Deno.readTextFile(path), '{"step":1}\n{"step":2}\n{"step":3,"loss":1}\n');
    await Deno.writeTextFile(path, '{"step":5}\n{"step":6,"x', { append: true });
    const w2 = await MetricsWriter.open(dir);
    await w2.write(7, { loss: 2 });
    w2.close();
    assert.deepEqual(await assertWholeLines(path), [1, 2, 3, 5, 7]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A model of `n` parameters filled with `value`. */
function model(n: number, value: number) {
  const w = tensor(new Float32Array(n).fill(value), [n], { requiresGrad: true });
  return { w, model: { parameters: () => [w] } };
}

async function assertCheckpointAt(dir: string, step: number, value: number, n: number) {
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, CHECKPOINT_MANIFEST)));
  assert.equal(manifest.step, step);
  const target = model(n, 0);
  const loaded = await loadCheckpoint(dir, { model: target.model });
  assert.equal(loaded.step, step);
  assert.equal(loaded.dir, dir);
  const values = await target.w.toArray();
  assert.ok(values.every((v) => v === value), "the weights are the saved ones");
  target.w.dispose();
}

Deno.test({
  name: "a checkpoint on a full tmpfs: the previous one stays complete; the error names the file",
  ignore: !CAN_MOUNT_TMPFS,
  fn: async () => {
    // Room for one 256 KiB checkpoint, not for a second beside it.
    const disk = (await mountTmpfs("400k"))!;
    const n = 64 * 1024;
    try {
      const dir = join(disk.path, "checkpoint");
      const first = model(n, 1);
      await saveCheckpoint(dir, { model: first.model, step: 1 });
      first.w.dispose();
      const second = model(n, 2);
      await assert.rejects(
        saveCheckpoint(dir, { model: second.model, step: 2 }),
        /^PathError: cannot write .*checkpoint\.tmp-[0-9a-f]+\/model\.safetensors: No space left/,
      );
      second.w.dispose();
      await assertCheckpointAt(dir, 1, 1, n);
      const left = [...Deno.readDirSync(disk.path)].map((e) => e.name);
      assert.deepEqual(left, ["checkpoint"], "the partial checkpoint was removed, freeing space");
    } finally {
      await disk.unmount();
    }
  },
});

Deno.test("a checkpoint whose write fails (injected ENOSPC): the previous one stays complete", async () => {
  const dir = await Deno.makeTempDir();
  const writeTextFile = Deno.writeTextFile;
  const n = 1024;
  try {
    const target = join(dir, "checkpoint");
    const first = model(n, 1);
    await saveCheckpoint(target, { model: first.model, step: 1 });
    first.w.dispose();
    // The new checkpoint's files go under a temporary sibling: fail the manifest, written last.
    Object.defineProperty(Deno, "writeTextFile", {
      configurable: true,
      writable: true,
      value: (path: string | URL, data: string, options?: Deno.WriteFileOptions) =>
        String(path).endsWith(CHECKPOINT_MANIFEST)
          ? Promise.reject(
            Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" }),
          )
          : writeTextFile(path, data, options),
    });
    const second = model(n, 2);
    await assert.rejects(
      saveCheckpoint(target, { model: second.model, step: 2 }),
      /cannot write .*checkpoint\.tmp-[0-9a-f]+\/checkpoint\.json: No space left.*disk is full/,
    );
    second.w.dispose();
    Object.defineProperty(Deno, "writeTextFile", { value: writeTextFile });
    await assertCheckpointAt(target, 1, 1, n);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["checkpoint"]);
  } finally {
    Object.defineProperty(Deno, "writeTextFile", { value: writeTextFile });
    await Deno.remove(dir, { recursive: true });
  }
});
