// The README's `train()` script (the block after `<!-- train-example -->`), extracted and run as
// a user runs it, so the two cannot drift: in a fresh folder that sees the repository's
// examples/, with the package's own import map, it trains the tiny T5 and prints the eval
// rewards and a completion.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function readmeScript(): Promise<string> {
  const readme = await Deno.readTextFile(join(root, "README.md"));
  const at = readme.indexOf("<!-- train-example -->");
  assert.ok(at >= 0, "README.md has the train-example marker");
  const m = /```ts[^\n]*\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, "a ts block follows the marker");
  return m[1];
}

Deno.test("the README's train() script is at most 15 lines and runs on the tiny T5", async () => {
  const script = await readmeScript();
  const lines = script.split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length <= 15, `${lines.length} lines`);
  assert.match(script, /import \{ train \} from "@tether\/rlhf";/);

  const dir = await Deno.makeTempDir();
  await Deno.symlink(join(root, "examples"), join(dir, "examples"));
  await Deno.writeTextFile(join(dir, "main.ts"), script);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", join(root, "deno.json"), "main.ts"],
    cwd: dir,
    env: { NO_COLOR: "1", TETHER_CPU_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  // Evaluations before, midway and after, then one completion.
  const m = /^\[ ([\d.]+), ([\d.]+), ([\d.]+) \] \[ "(.*)" \]$/m.exec(stdout);
  assert.ok(m, stdout);
  // The run's checkpoint and files went to the folder the script names.
  await Deno.stat(join(dir, "runs", "shout", "checkpoint"));
  await Deno.stat(join(dir, "runs", "shout", "metrics.jsonl"));
});
