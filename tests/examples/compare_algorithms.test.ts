import assert from "node:assert/strict";
import { join } from "node:path";
import { memory } from "../../core/mod.ts";
import { compareAlgorithms } from "../../examples/compare/compare.ts";
import { compareSettings } from "../../examples/compare/settings.ts";
import { markdownTable, TABLE_HEADER, writeCompareFiles } from "../../examples/compare/table.ts";
import { Budget } from "../../examples/compare/budget.ts";
import { DEFAULT_OUT, parseCompareArgs } from "../../examples/compare_algorithms.ts";

Deno.test("compareAlgorithms on a 1.5 s budget: a well-formed table, best-of-n's policy at KL 0", async () => {
  const before = memory();
  const r = await compareAlgorithms({
    budgetSeconds: 1.5,
    seed: 0,
    backend: "cpu",
    progress: false,
    settings: compareSettings({
      heldOutPrompts: 4,
      evalSamplesPerPrompt: 2,
      preferencePairs: 512,
      rest: { prompts: 16 },
      grpo: { batchSize: 8 },
      rloo: { batchSize: 8 },
    }),
  });
  assert.deepEqual(
    r.rows.map((row) => row.algorithm),
    ["PPO", "GRPO", "RLOO", "DPO", "ReST", "best-of-n"],
  );
  assert.deepEqual(r.heldOut, { prompts: 4, samplesPerPrompt: 2 });
  const rewardBefore = r.rows[0].rewardBefore;
  for (const row of r.rows) {
    assert.equal(row.rewardBefore, rewardBefore, `${row.algorithm}: one shared "before"`);
    for (const [name, v] of Object.entries({ after: row.rewardAfter, kl: row.kl })) {
      assert.ok(Number.isFinite(v), `${row.algorithm}: ${name} = ${v}`);
    }
    assert.ok(row.inferenceMsPerPrompt > 0, `${row.algorithm}: sampling cost measured`);
  }
  for (const row of r.rows.slice(0, 5)) {
    assert.ok(
      Number.isInteger(row.steps) && row.steps >= 1,
      `${row.algorithm}: ${row.steps} steps`,
    );
    assert.ok(row.trainSeconds > 0, `${row.algorithm}: ${row.trainSeconds} s`);
    assert.ok(Number.isFinite(row.rewardGainPerSecond), `${row.algorithm}: gain/s`);
    // A trained policy differs from the reference on its own samples.
    assert.notEqual(row.kl, 0, `${row.algorithm}: KL`);
  }
  const bon = r.rows[5];
  assert.equal(bon.kl, 0, "the best-of-n policy is the reference itself");
  assert.equal(bon.steps, 0);
  assert.equal(bon.trainSeconds, 0);
  assert.equal(bon.rewardGainPerSecond, null);
  // The best of 16 candidates beats single samples of the same policy on average.
  assert.ok(
    bon.rewardAfter > bon.rewardBefore,
    `best-of-n ${bon.rewardBefore} → ${bon.rewardAfter}`,
  );

  const table = markdownTable(r).split("\n");
  assert.match(table[0], new RegExp(`^\\| ${TABLE_HEADER[0]} +\\| ${TABLE_HEADER[1]}`));
  assert.match(table[1], /^\| -+ \| -+ \|/);
  for (let i = 0; i < r.rows.length; i++) {
    const cells = table[2 + i].split("|").slice(1, -1);
    assert.equal(cells.length, TABLE_HEADER.length, table[2 + i]);
    assert.equal(cells[0].trim(), r.rows[i].algorithm);
  }
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeCompareFiles(join(dir, "out"), r);
    const json = JSON.parse(await Deno.readTextFile(files.json));
    assert.deepEqual(json.rows, JSON.parse(JSON.stringify(r.rows)));
    assert.equal(await Deno.readTextFile(files.markdown), markdownTable(r));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(memory(), before, "every model and tensor of the comparison is freed");
});

Deno.test("Budget: the first unit always runs; another starts only while elapsed + the last unit fits", () => {
  let now = 0;
  const long = new Budget(10, { now: () => now });
  assert.equal(long.canStart(), true, "the first unit always starts");
  now = 12_000; // a first unit longer than the whole budget
  long.unitDone();
  assert.equal(long.canStart(), false, "12 s spent of 10");
  now = 0;
  const fresh = new Budget(10, { now: () => now });
  assert.equal(fresh.canStart(), true);
  fresh.unitDone(); // 0 s
  now += 4_000;
  fresh.unitDone(); // 4 s, elapsed 4
  assert.equal(fresh.canStart(), true, "4 + 4 <= 10");
  now += 4_000;
  fresh.unitDone(); // elapsed 8
  assert.equal(fresh.canStart(), false, "8 + 4 > 10");
  assert.equal(fresh.units, 3);
  assert.equal(fresh.elapsed, 8);
  assert.throws(() => new Budget(0), /seconds must be a finite number > 0, got 0/);
});

Deno.test("compare_algorithms flags: defaults, tiny only, bad values named", () => {
  assert.deepEqual(parseCompareArgs([]), {
    budgetSeconds: 60,
    seed: 0,
    backend: Deno.env.get("TETHER_BACKEND") || undefined,
    out: DEFAULT_OUT,
    overwrite: false,
  });
  assert.deepEqual(
    parseCompareArgs(["--budget-seconds", "5", "--seed", "3", "--out", "x", "--backend", "cpu"]),
    { budgetSeconds: 5, seed: 3, backend: "cpu", out: "x", overwrite: false },
  );
  assert.equal(parseCompareArgs(["--preset", "tiny"]).budgetSeconds, 60);
  assert.throws(
    () => parseCompareArgs(["--preset", "full"]),
    /^CliError: compare_algorithms: unknown preset \(full\): use one of tiny$/,
  );
  assert.throws(
    () => parseCompareArgs(["--budget-seconds", "0"]),
    /compare_algorithms: bad --budget-seconds \(0\): use a number >= 0.001, e.g. --budget-seconds 60/,
  );
  assert.throws(() => parseCompareArgs(["--resume"]), /unknown flag \(--resume\)/);
  assert.throws(
    () => parseCompareArgs(["--steps", "3"]),
    /unknown flag \(--steps\): the flags are --preset, --budget-seconds/,
  );
});
