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
 * Folders with examples that are not in the doc tests yet, each with the reason. Everything
 * else with an `@example` (outside tests/, tools/ and bench/) is in the test task's list.
 */
const PENDING: Record<string, string> = {};

/** Pages of docs/ whose code blocks are excerpts, not programs (left out of the doc tests). */
const EXCERPT_DOCS = ["docs/ARCHITECTURES.md"];

async function docArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const task: string = config.tasks.test;
  assert.match(task, /deno test -A --parallel --doc /, "the test task runs the doc tests");
  return task.split(/\s+/);
}

/** Folders and single modules whose examples the test task runs. */
async function docPaths(): Promise<string[]> {
  return (await docArgs()).filter((arg) =>
    (arg.endsWith("/") && arg !== "tests/") || (arg.endsWith(".ts") && !arg.startsWith("tests/"))
  );
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && /^(\..*|node_modules|runs|fixtures)$/.test(entry.name)) continue;
    if (entry.isDirectory) yield* tsFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("every @example in the doc-tested folders is a fenced ts block that runs", async () => {
  const paths = await docPaths();
  const unfenced: string[] = [], ignored: string[] = [];
  let examples = 0;
  for (const path of paths) {
    const files = path.endsWith(".ts") ? [join(root, path)] : await Array.fromAsync(
      tsFiles(join(root, path)),
    );
    for (const file of files) {
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

Deno.test("every entry point and every module with an @example is doc-tested or pending", async () => {
  const paths = await docPaths();
  const covered = (file: string) => paths.some((p) => file === p || file.startsWith(p));
  const pending = (file: string) => Object.keys(PENDING).some((p) => file.startsWith(p));
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  for (const [name, path] of Object.entries(config.exports as Record<string, string>)) {
    const file = (path as string).replace(/^\.\//, "");
    assert.ok(
      covered(file) || pending(file),
      `${name} (${file}) is neither in the test task's --doc list nor pending`,
    );
  }
  const missing: string[] = [];
  for await (const file of tsFiles(root)) {
    const name = relative(root, file);
    if (/^(tests|tools|bench|node_modules|\.git)\//.test(name)) continue;
    if (!/^\s*\*\s*@example\b/m.test(await Deno.readTextFile(file))) continue;
    if (!covered(name) && !pending(name)) missing.push(name);
    if (covered(name) && pending(name)) missing.push(`${name} (listed and pending)`);
  }
  assert.deepEqual(missing, [], "modules whose examples deno task test does not run");
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

Deno.test("an entry point's page shows its own API: no wholesale re-export of another module", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const wholesale: string[] = [];
  for (const [name, path] of Object.entries(config.exports as Record<string, string>)) {
    if (name === "." || name === "./core") continue; // the root re-exports core by design
    const source = await Deno.readTextFile(join(root, path));
    for (const m of source.matchAll(/^export (?:type )?\* from "([^"]+)"/gm)) {
      // A module's own sub-folders are its API; another module's whole surface is not (a
      // curated list such as common/group_api.ts may be shared).
      if (!m[1].startsWith("./") && m[1].endsWith("mod.ts")) wholesale.push(`${name}: ${m[0]}`);
    }
  }
  assert.deepEqual(
    wholesale,
    [],
    "export just the types the signatures need (export type { ... })",
  );
});
