// The report of a short tiny PPO run: every logged scalar has its chart with one drawn point
// per logged step (counted in the SVG that ECharts rendered), the sample tables hold the logged
// rows, the reward histogram shows the first and the last step, and the config is there. Two
// runs in one report overlay their curves.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { writeReport } from "../../report/report.ts";
import { readSamples } from "../../report/run_files.ts";
import { main as reportCli } from "../../report/cli.ts";
import { decodeLetters, tinyPpoRun } from "./tiny_run.ts";

/** The figures of a report page: metric name → its attributes and SVG. */
function figures(html: string) {
  const out = new Map<string, { attrs: string; svg: string }>();
  const re = /<figure class="chart" data-metric="([^"]+)"([^>]*)>([\s\S]*?)<\/figure>/g;
  for (const m of html.matchAll(re)) out.set(m[1], { attrs: m[2], svg: m[3] });
  return out;
}

/** Drawn points of series `series` in an ECharts SVG: one symbol element per data point. */
function drawnPoints(svg: string, series: number): number {
  const re = new RegExp(
    `ecmeta_series_index="${series}" ecmeta_data_index="\\d+" ecmeta_ssr_type="chart"`,
    "g",
  );
  return svg.match(re)?.length ?? 0;
}

/** Rows of each sample table: `step` → rows of cells. */
function sampleTables(html: string) {
  const out = new Map<number, string[][]>();
  const re =
    /<table class="samples" data-run="[^"]*" data-table="completions" data-step="(\d+)">([\s\S]*?)<\/table>/g;
  for (const m of html.matchAll(re)) {
    const body = m[2].split("<tbody>")[1];
    const rows = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
      [...r[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1])
    );
    out.set(Number(m[1]), rows);
  }
  return out;
}

Deno.test("the report of a 6-step tiny PPO run charts every scalar, the samples, the histogram and the config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await tinyPpoRun(dir, { steps: 6, logSamplesEvery: 2, logSamplesCount: 3 });
    const { path, runs } = await writeReport([dir]);
    assert.equal(path, join(dir, "report.html"));
    assert.deepEqual(runs.length, 1);
    const html = await Deno.readTextFile(path);

    // Every scalar of metrics.jsonl has a chart with 6 drawn points.
    const metrics = await readMetrics(dir);
    assert.equal(metrics.length, 6);
    const names = Object.keys(metrics[0]).filter((k) => k !== "step");
    assert.ok(names.length >= 30, `only ${names.length} scalars logged`);
    const charts = figures(html);
    for (const name of names) {
      const chart = charts.get(name);
      assert.ok(chart, `no chart for ${name}`);
      assert.equal(drawnPoints(chart.svg, 0), 6, `${name}: drawn points`);
      assert.equal(drawnPoints(chart.svg, 1), 0, `${name}: a second series`);
      assert.ok(chart.svg.startsWith("<svg") && chart.svg.includes(">" + name + "<"), name);
    }
    // Sections as TRL groups them.
    for (const id of ["reward", "kl", "losses", "clipfrac", "policy", "value", "returns"]) {
      assert.match(html, new RegExp(`<section id="${id}">`), `section ${id}`);
    }
    assert.ok(
      html.indexOf('data-metric="env/reward_mean"') < html.indexOf('data-metric="ppo/loss/total"'),
    );

    // Sample tables at steps 1, 2, 4, 6 (every 2, plus the first), 3 rows each, as logged.
    const tables = sampleTables(html);
    assert.deepEqual([...tables.keys()], [1, 2, 4, 6]);
    const logged = await readSamples(dir);
    assert.equal(logged.length, 12);
    for (const [step, rows] of tables) {
      const expected = logged.filter((s) => s.step === step);
      assert.equal(rows.length, 3, `step ${step} rows`);
      rows.forEach((cells, i) => {
        assert.equal(cells.length, 4); // prompt, completion, reward, kl
        assert.equal(cells[0], expected[i].prompt);
        assert.equal(cells[1], expected[i].completion);
        assert.equal(Number(cells[2]), Number(expected[i].reward.toFixed(4)));
        assert.match(cells[1], /^[a-f]{4}$/);
      });
    }
    // The batch's first rows, decoded by the run's decode.
    assert.match(logged[0].prompt, /^[a-f]{2}$/);
    assert.equal(decodeLetters([0, 5]), "af");

    // Reward histogram: the first and the last step.
    const hist = html.match(
      /<figure class="chart histogram" data-run="[^"]*" data-metric="env\/reward_dist" data-steps="2">([\s\S]*?)<\/figure>/,
    );
    assert.ok(hist, "no reward histogram");
    assert.match(hist[1], /step 1 \(start\)/);
    assert.match(hist[1], /step 6 \(end\)/);

    // The config, as the run wrote it.
    const config = html.match(/<pre class="config" data-run="[^"]*">([\s\S]*?)<\/pre>/);
    assert.ok(config, "no config");
    const parsed = JSON.parse(config[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
    assert.equal(parsed.ppo.batchSize, 8);
    assert.equal(parsed.ppo.initKlCoef, 0.05);
    assert.deepEqual(parsed.loop, { steps: 6, seed: 7, checkpointEvery: 10 });

    // Self-contained: nothing is fetched when the page opens.
    assert.doesNotMatch(html, /<script|<link|src="http|href="http|@import/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two runs in one report overlay their curves, one series per run", async () => {
  const root = await Deno.makeTempDir();
  try {
    await tinyPpoRun(join(root, "seed7"), { steps: 4, seed: 7 });
    await tinyPpoRun(join(root, "seed8"), { steps: 3, seed: 8 });
    const out = join(root, "both.html");
    // A folder of runs stands for the runs in it, as the CLI is called on the comparison.
    assert.equal(await reportCli([root, "--out", out]), 0);
    const html = await Deno.readTextFile(out);
    const chart = figures(html).get("env/reward_mean");
    assert.ok(chart);
    assert.match(chart.attrs, /data-series="seed7,seed8"/);
    assert.equal(drawnPoints(chart.svg, 0), 4);
    assert.equal(drawnPoints(chart.svg, 1), 3);
    assert.match(chart.svg, />seed7</);
    assert.match(chart.svg, />seed8</);
    assert.equal(await reportCli([join(root, "missing")]), 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
