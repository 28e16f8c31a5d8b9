// The package as a user gets it: `deno publish --dry-run` passes; the files it would upload,
// copied to a folder outside the repository, serve the README's "use it from your own project"
// snippet (written to another folder and run with the README's command) and a path import; and
// `get-examples` copies the examples and their tiny checkpoints out of a registry laid out as
// JSR's, after which an example runs offline from the copy.

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const decoder = new TextDecoder();

async function deno(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The files `deno publish` would upload, relative to the repository root. */
async function publishedFiles(): Promise<string[]> {
  const r = await deno(["publish", "--dry-run", "--allow-dirty"], ROOT);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const text = r.stdout + r.stderr;
  assert.match(text, /Success.*Dry run complete/);
  const prefix = new URL("../", import.meta.url).href;
  return [...text.matchAll(/^\s+(file:\/\/\S+) \([\d.]+\w*B\)$/gm)]
    .map((m) => m[1])
    .filter((url) => url.startsWith(prefix))
    .map((url) => decodeURIComponent(url.slice(prefix.length)));
}

/** The code block after `<!-- own-project: tag -->` in the README. */
function readmeBlock(readme: string, tag: string): string {
  const at = readme.indexOf(`<!-- own-project: ${tag} -->`);
  assert.ok(at >= 0, `README has no "${tag}" block`);
  const m = /```[a-z]*\n([^]*?)```/.exec(readme.slice(at));
  assert.ok(m, `README's "${tag}" block has no code`);
  return m[1];
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("the published package serves the README's own-project snippet, a path import, and get-examples", async () => {
  const files = await publishedFiles();
  for (
    const expected of ["deno.json", "mod.ts", "examples/imdb_demo.ts", "examples/get_examples.ts"]
  ) {
    assert.ok(files.includes(expected), `${expected} is published`);
  }
  assert.ok(files.includes("examples/assets/tiny-imdb/policy/model.safetensors"));
  assert.ok(!files.some((f) => f.startsWith("tests/") || f === ".git"), "no tests, no .git");

  const tmp = await Deno.makeTempDir({ prefix: "tether_package_" });
  assert.ok(!tmp.startsWith(ROOT), "outside the repository");
  try {
    // The package exactly as it would be uploaded.
    const pkg = join(tmp, "tether");
    for (const file of files) {
      await Deno.mkdir(dirname(join(pkg, file)), { recursive: true });
      await Deno.copyFile(join(ROOT, file), join(pkg, file));
    }

    // The README's snippet, in a project next to it, run with the README's command.
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const project = join(tmp, "project");
    await Deno.mkdir(project);
    await Deno.writeTextFile(join(project, "deno.json"), readmeBlock(readme, "deno.json"));
    await Deno.writeTextFile(join(project, "main.ts"), readmeBlock(readme, "main.ts"));
    const command = readmeBlock(readme, "command").trim();
    assert.equal(command, "deno run -A main.ts");
    const run = await deno(command.split(" ").slice(1), project);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "PPO lr 0.0000141, 4 epochs; DPO losses 0.5981,0.6931\n");
    assert.match(readme, /prints `PPO lr 0\.0000141, 4 epochs; DPO losses 0\.5981,0\.6931`/);

    // A path import of the linked package resolves the package's own dependencies (zod).
    await Deno.writeTextFile(
      join(project, "by_path.ts"),
      'import { makePPOConfig } from "../tether/algorithms/ppo/mod.ts";\n' +
        "console.log(makePPOConfig({ batchSize: 8, miniBatchSize: 4 }).miniBatchSize);\n",
    );
    const byPath = await deno(["run", "-A", "by_path.ts"], project);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.equal(byPath.stdout, "4\n");

    // get-examples against a registry laid out as JSR's: <root>_meta.json lists every file.
    const manifest: Record<string, { size: number; checksum: string }> = {};
    for (const file of files) {
      const bytes = await Deno.readFile(join(pkg, file));
      manifest[`/${file}`] = { size: bytes.byteLength, checksum: `sha256-${await sha256(bytes)}` };
    }
    const base = "/@tether/rlhf/0.1.0";
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        if (path === `${base}_meta.json`) return Response.json({ manifest });
        const file = path.startsWith(`${base}/`) ? path.slice(base.length + 1) : null;
        if (file && files.includes(file)) return new Response(await Deno.readFile(join(pkg, file)));
        return new Response("not found", { status: 404 });
      },
    );
    try {
      const from = `http://127.0.0.1:${server.addr.port}${base}/`;
      const fetched = join(tmp, "fetched");
      const get = await deno(
        [
          "run",
          "-R",
          "-W",
          "-N",
          join(pkg, "examples/get_examples.ts"),
          "--from",
          from,
          "--out",
          fetched,
        ],
        tmp,
      );
      assert.equal(get.code, 0, get.stderr);
      assert.match(get.stdout, new RegExp(`copied ${files.length} files \\(.*\\) into ${fetched}`));
      // An example runs from the copy, offline, on the tiny checkpoints it brought along.
      const example = await deno([
        "run",
        "-A",
        "examples/imdb_best_of_n.ts",
        "--preset",
        "tiny",
        "--n",
        "1",
        "--backend",
        "cpu",
        "--out",
        "runs/bon",
      ], fetched);
      assert.equal(example.code, 0, example.stderr);
      assert.match(example.stdout, /reward model accuracy: train 0\.\d+/);
      await Deno.stat(join(fetched, "runs/bon/best_of_n.json"));
      // A second copy into the same folder is refused rather than mixed in.
      const again = await deno(
        [
          "run",
          "-R",
          "-W",
          "-N",
          join(pkg, "examples/get_examples.ts"),
          "--from",
          from,
          "--out",
          fetched,
        ],
        tmp,
      );
      assert.equal(again.code, 2);
      assert.match(again.stderr, /get_examples: folder is not empty \(.*fetched\): choose a new/);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
