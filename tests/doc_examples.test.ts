// The doc examples run in `deno task test` (`deno test --doc` over the folders the task lists).
// This checks the list and the examples' form: every @example in a listed folder is a fenced
// ```ts block (an unfenced one is neither type-checked nor run), and the only blocks left out
// (`ignore`) are the known ones below, each with its reason.

import assert from "node:assert/strict";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** Blocks left out of the doc tests, and why. */
const IGNORED: Record<string, string> = {
  "reward/classifier.ts": "classifierReward downloads an ONNX export from the Hub",
};

/**
 * Entry-point folders whose examples are not in the doc tests yet: their modules are being
 * rewritten, and they join the task's list when their examples run offline.
 */
const PENDING = ["models/", "examples/"];

/** Pages of docs/ whose code blocks are excerpts, not programs (left out of the doc tests). */
const EXCERPT_DOCS = ["docs/ARCHITECTURES.md"];

async function docArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const task: string = config.tasks.test;
  assert.match(task, /deno test -A --parallel --doc /, "the test task runs the doc tests");
  return task.split(/\s+/);
}

async function docFolders(): Promise<string[]> {
  return (await docArgs()).filter((arg) => arg.endsWith("/") && arg !== "tests/");
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* tsFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("every @example in the doc-tested folders is a fenced ts block that runs", async () => {
  const folders = await docFolders();
  const unfenced: string[] = [], ignored: string[] = [];
  let examples = 0;
  for (const folder of folders) {
    for await (const file of tsFiles(join(root, folder))) {
      const lines = (await Deno.readTextFile(file)).split("\n");
      const name = relative(root, file);
      lines.forEach((line, i) => {
        if (!/^\s*\*\s*@example\b/.test(line)) return;
        examples++;
        const fence = lines.slice(i + 1).find((l) => /^\s*\*\s*\S/.test(l)) ?? "";
        const m = /^\s*\*\s*```(\S*)\s*(.*)$/.exec(fence);
        if (!m || !["ts", "typescript"].includes(m[1])) unfenced.push(`${name}:${i + 1}`);
        else if (/\bignore\b/.test(m[2])) ignored.push(name);
      });
    }
  }
  assert.deepEqual(unfenced, [], "examples that deno test --doc would skip");
  assert.deepEqual(ignored.sort(), Object.keys(IGNORED).sort());
  assert.ok(examples >= 40, `${examples} examples found`);
});

Deno.test("every entry point's folder is doc-tested or listed as pending", async () => {
  const folders = await docFolders();
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  for (const [name, path] of Object.entries(config.exports as Record<string, string>)) {
    if (name === ".") continue; // mod.ts re-exports core
    const folder = (path as string).replace(/^\.\//, "").replace(/[^/]+$/, "");
    assert.ok(
      folders.includes(folder) || PENDING.includes(folder),
      `${name} (${folder}) is neither in the test task's --doc folders nor pending`,
    );
  }
  for (const folder of PENDING) assert.ok(!folders.includes(folder), `${folder} is listed twice`);
});

Deno.test("the README and every guide in docs/ run their code blocks in the test task", async () => {
  const args = await docArgs();
  assert.ok(args.includes("README.md"));
  for await (const entry of Deno.readDir(join(root, "docs"))) {
    if (!entry.name.endsWith(".md")) continue;
    const page = `docs/${entry.name}`;
    assert.ok(
      args.includes(page) !== EXCERPT_DOCS.includes(page),
      `${page}: list it in the test task (its ts blocks run) or in EXCERPT_DOCS, not both`,
    );
  }
});
