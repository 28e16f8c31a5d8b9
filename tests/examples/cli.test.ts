// Every example script's command line: --help answers (exit 0) with every flag its table
// declares, its defaults and an example command; a wrong flag or value exits 2 with one line in
// the `<script>: <what> (<value>): <fix>` format; a normal run prints nothing on standard error.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Cli, FlagTable } from "../../examples/common/cli.ts";
import { runScript, withoutDenoNotices } from "./script_runner.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

/** The example scripts: files in examples/ that run as a program. */
const SCRIPTS = [...Deno.readDirSync(EXAMPLES)]
  .filter((e) => e.isFile && e.name.endsWith(".ts"))
  .map((e) => e.name)
  .filter((name) => Deno.readTextFileSync(join(EXAMPLES, name)).includes("import.meta.main"))
  .sort();

async function cliOf(script: string): Promise<Cli<FlagTable>> {
  const module = await import(new URL(`../../examples/${script}`, import.meta.url).href);
  assert.ok(
    module.CLI,
    `examples/${script}: declare its flags with defineCli (examples/common/cli.ts) and export ` +
      "the result as CLI, so --help and every error come from one table",
  );
  return module.CLI as Cli<FlagTable>;
}

/** Runs `fn` over all scripts, a few processes at a time (two shared cores). */
async function eachScript(fn: (script: string) => Promise<void>): Promise<void> {
  const queue = [...SCRIPTS];
  const worker = async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) await fn(s);
  };
  await Promise.all([worker(), worker(), worker()]);
}

Deno.test("the example scripts are found", () => {
  for (const expected of ["hh_sft.ts", "imdb_ppo.ts", "imdb_demo.ts", "train_tiny_mlp.ts"]) {
    assert.ok(SCRIPTS.includes(expected), `${expected} in ${SCRIPTS}`);
  }
});

Deno.test("every script answers --help (exit 0) listing every flag, the defaults and an example", async () => {
  await eachScript(async (script) => {
    const cli = await cliOf(script);
    const r = await runScript(script, ["--help"]);
    assert.equal(r.code, 0, `${script}: ${r.stderr}`);
    assert.equal(withoutDenoNotices(r.stderr), "", `${script} printed on stderr`);
    const name = script.replace(/\.ts$/, "");
    assert.ok(r.stdout.startsWith(`${name}: `), `${script}: ${r.stdout.slice(0, 80)}`);
    assert.match(r.stdout, /\nUsage: deno run -[A-Z -]+\S+ \[flags\]\n/);
    for (const key of Object.keys(cli.flags)) {
      assert.match(r.stdout, new RegExp(`^  --${key}\\b`, "m"), `${script} --help lacks --${key}`);
    }
    assert.match(r.stdout, /^ {2}-h, --help /m);
    assert.match(r.stdout, /\nExamples:\n {2}deno /);
    assert.equal(r.stdout, cli.help() + "\n", `${script}: the text comes from its table`);
    // Only what the table says: no line runs past 100 columns.
    for (const line of r.stdout.split("\n")) assert.ok(line.length <= 100, `${script}: ${line}`);
  });
});

Deno.test("every script: an unknown flag and a bad value exit 2 with one line naming them", async () => {
  for (const script of SCRIPTS) {
    const cli = await cliOf(script);
    const name = cli.name;
    const errors: string[] = [];
    const error = console.error;
    console.error = (line: string) => errors.push(line);
    const expected: [string[], RegExp][] = [
      [
        ["--no-such-flag"],
        new RegExp(`^${name}: unknown flag \\(--no-such-flag\\): the flags are --`),
      ],
      [["stray"], new RegExp(`^${name}: unexpected argument \\(stray\\): `)],
    ];
    if ("backend" in cli.flags) {
      expected.push([
        ["--backend", "nope"],
        new RegExp(`^${name}: unknown backend \\(nope\\): use one of auto, cpu, webgpu$`),
      ]);
    }
    if ("seed" in cli.flags) {
      expected.push([
        ["--seed", "-1"],
        new RegExp(`^${name}: bad --seed \\(-1\\): use an integer >= 0, e\\.g\\. --seed 0$`),
      ]);
    }
    if ("out" in cli.flags) {
      expected.push([["--out="], new RegExp(`^${name}: bad --out \\(""\\): use a folder path`)]);
    }
    const codes: number[] = [];
    try {
      for (const [argv] of expected) {
        codes.push(await cli.run(argv, () => assert.fail("must not run")));
      }
    } finally {
      console.error = error;
    }
    assert.deepEqual(codes, expected.map(() => 2), script);
    assert.equal(errors.length, expected.length, errors.join("\n"));
    expected.forEach(([, pattern], i) => assert.match(errors[i], pattern, script));
  }
});

Deno.test("a bad flag in a real process: exit 2, one line, no stack trace", async () => {
  const r = await runScript("imdb_ppo.ts", ["--preset", "tiny", "--steps", "-3"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    withoutDenoNotices(r.stderr),
    "imdb_ppo: bad --steps (-3): use an integer >= 1, e.g. --steps 30\n",
  );
  const env = await runScript("train_tiny_mlp.ts", ["--steps", "1"], { TETHER_BACKEND: "gpu" });
  assert.equal(env.code, 2);
  assert.equal(
    withoutDenoNotices(env.stderr),
    "train_tiny_mlp: unknown backend in TETHER_BACKEND (gpu): use one of auto, cpu, webgpu\n",
  );
});

Deno.test("a normal run with the auto backend prints nothing on stderr (no WebGPU probe noise)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_quiet_" });
  try {
    const r = await runScript(
      "imdb_best_of_n.ts",
      ["--preset", "tiny", "--n", "1", "--out", join(dir, "run")],
      { TETHER_BACKEND: "auto" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(withoutDenoNotices(r.stderr), "");
    assert.match(r.stdout, /backend (cpu|webgpu) \(/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
