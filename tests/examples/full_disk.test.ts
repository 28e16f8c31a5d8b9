// A run that fills its disk, as a user would meet it: hh_sft on a 4 MiB tmpfs has room for its
// step-50 checkpoint (2.6 MiB) but not for the step-60 one beside it. The run stops with the
// full path in its message, the step-50 checkpoint is complete, no partial
// checkpoint is left taking space, and metrics.jsonl is whole lines.

import assert from "node:assert/strict";
import { join } from "node:path";
import { CHECKPOINT_MANIFEST, hasCheckpoint } from "../../algorithms/common/checkpoint.ts";
import { CAN_MOUNT_TMPFS, mountTmpfs } from "../common/tmpfs.ts";
import { runScript, withoutDenoNotices } from "./script_runner.ts";

Deno.test({
  name:
    "hh_sft on a full disk: the error names the file, the last checkpoint survives whole, metrics.jsonl stays parseable",
  ignore: !CAN_MOUNT_TMPFS,
  fn: async () => {
    const disk = (await mountTmpfs("4m"))!;
    try {
      const out = join(disk.path, "sft");
      const r = await runScript("hh_sft.ts", [
        "--preset",
        "tiny",
        "--max-steps",
        "60",
        "--train-examples",
        "256",
        "--test-examples",
        "32",
        "--samples",
        "2",
        "--backend",
        "cpu",
        "--out",
        out,
      ]);
      assert.equal(r.code, 1, r.stderr);
      const lines = withoutDenoNotices(r.stderr).trim().split("\n");
      assert.match(
        lines.at(-1)!,
        new RegExp(
          `^hh_sft: cannot write ${out}/checkpoint\\.tmp-[0-9a-f]+/[a-z]+\\.safetensors: No ` +
            "space left on device \\(os error 28\\) \\(the disk is full: free space, or write " +
            "somewhere else\\)$",
        ),
      );
      // The step-50 checkpoint is intact; the failed step-60 one was removed.
      assert.ok(await hasCheckpoint(join(out, "checkpoint")));
      const manifest = JSON.parse(
        await Deno.readTextFile(join(out, "checkpoint", CHECKPOINT_MANIFEST)),
      );
      assert.equal(manifest.step, 50);
      const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      // No partial checkpoint copy is left beside the run's own files.
      assert.deepEqual(names, ["checkpoint", "config.json", "metrics.jsonl", "run.json"]);
      // Every metrics line is whole JSON.
      const text = await Deno.readTextFile(join(out, "metrics.jsonl"));
      assert.ok(text.endsWith("\n"));
      const steps = text.trim().split("\n").map((l) => JSON.parse(l).step as number);
      assert.ok(steps.includes(50), `steps ${steps}`);
    } finally {
      await disk.unmount();
    }
  },
});
