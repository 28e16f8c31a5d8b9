/**
 * The report as one self-contained HTML page: inline SVG charts (no script, no network), sample
 * tables, held-out comparisons and each run's settings.
 *
 * @module
 */

import { formatMetric } from "../common/progress.ts";
import { histogramSvg, lineChartSvg, type LineSeries } from "./charts.ts";
import { displayOrder, groupOf, METRIC_GROUPS, OTHER_GROUP } from "./groups.ts";
import type { RunData, SideBySideRecord } from "./read_run.ts";
import type { SampleRecord } from "./samples.ts";

/** Options of {@link renderReport}. */
export interface RenderOptions {
  /** Page title (default: the run names). */
  title?: string;
  /** When it was written (default now). */
  generatedAt?: Date;
}

/** A metric's points in every run that logged it. */
export interface MetricSeries {
  /** The metric's name. */
  name: string;
  /** One series per run that logged it. */
  series: LineSeries[];
}

/** Distribution tags drawn first (a reward histogram leads). */
const DISTRIBUTION_ORDER = ["env/reward_dist", "rest/grow_rewards", "best_of_n/rewards"];

/**
 * Every logged scalar of the runs, in first-logged order, with each run's `[step, value]`
 * points (non-finite values stored as strings come back as NaN).
 *
 * @param runs The runs.
 */
export function metricSeries(runs: readonly RunData[]): MetricSeries[] {
  const byName = new Map<string, MetricSeries>();
  for (const run of runs) {
    const points = new Map<string, [number, number][]>();
    for (const line of run.metrics) {
      for (const [name, raw] of Object.entries(line)) {
        if (name === "step") continue;
        const value = typeof raw === "number" ? raw : Number(raw);
        if (!points.has(name)) points.set(name, []);
        points.get(name)!.push([line.step, value]);
      }
    }
    for (const [name, p] of points) {
      if (!byName.has(name)) byName.set(name, { name, series: [] });
      byName.get(name)!.series.push({ name: run.name, points: p });
    }
  }
  return [...byName.values()];
}

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");

const fmt = (v: number | undefined) =>
  v === undefined ? "" : Number.isInteger(v) && Math.abs(v) < 1e9 ? String(v) : formatMetric(v);

/**
 * The report page.
 *
 * @param runs The runs (one, or several whose curves are overlaid).
 * @param options Title and timestamp.
 */
export function renderReport(runs: readonly RunData[], options: RenderOptions = {}): string {
  const title = options.title ?? `Tether report: ${runs.map((r) => r.name).join(", ")}`;
  const generated = (options.generatedAt ?? new Date()).toISOString().replace(/\.\d+Z$/, "Z");
  const unordered = metricSeries(runs);
  const metrics = displayOrder(unordered.map((m) => m.name)).map((n) =>
    unordered.find((m) => m.name === n)!
  );
  // A metric every run logged once is a value, not a curve.
  const charted = metrics.filter((m) => m.series.some((s) => s.points.length > 1));
  const single = metrics.filter((m) => !charted.includes(m));
  const sections: string[] = [];
  const nav: string[] = [];

  for (const group of [...METRIC_GROUPS, OTHER_GROUP]) {
    const inGroup = charted.filter((m) => groupOf(m.name) === group);
    if (inGroup.length === 0) continue;
    nav.push(`<a href="#${group.id}">${escapeHtml(group.title)}</a>`);
    const figures = inGroup.map((m) => {
      const points = m.series.map((s) => s.points.filter(([, y]) => Number.isFinite(y)).length);
      return `<figure class="chart" data-metric="${escapeHtml(m.name)}" data-series="${
        m.series.map((s) => escapeHtml(s.name)).join(",")
      }" data-points="${points.join(",")}">${lineChartSvg(m.name, m.series)}</figure>`;
    });
    sections.push(
      `<section id="${group.id}"><h2>${escapeHtml(group.title)}</h2>` +
        `<div class="grid">${figures.join("\n")}</div></section>`,
    );
  }

  if (single.length > 0) {
    nav.push(`<a href="#values">Values</a>`);
    const names = runs.map((r) => r.name);
    const rows = single.map((m) => {
      const cells = names.map((n) => {
        const s = m.series.find((x) => x.name === n);
        return `<td>${s ? escapeHtml(fmt(s.points[0][1])) : ""}</td>`;
      });
      return `<tr><th>${escapeHtml(m.name)}</th>${cells.join("")}</tr>`;
    });
    sections.push(
      `<section id="values"><h2>Values</h2><p>Metrics logged once per run.</p>` +
        `<table class="values"><thead><tr><th>metric</th>${
          names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")
        }</tr></thead><tbody>${rows.join("")}</tbody></table></section>`,
    );
  }

  const histograms = histogramSection(runs);
  if (histograms) {
    nav.push(`<a href="#distributions">Distributions</a>`);
    sections.push(histograms);
  }
  const samples = samplesSection(runs);
  if (samples) {
    nav.push(`<a href="#samples">Samples</a>`);
    sections.push(samples);
  }
  const heldOut = sideBySideSection(runs);
  if (heldOut) {
    nav.push(`<a href="#held-out">Held-out</a>`);
    sections.push(heldOut);
  }
  nav.push(`<a href="#config">Config</a>`);
  sections.push(configSection(runs));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">written ${generated} · ${runs.length} run${
    runs.length === 1 ? "" : "s"
  } · ${charted.length} charts</p>
${runsTable(runs)}
<nav>${nav.join(" · ")}</nav>
</header>
<main>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

function runsTable(runs: readonly RunData[]): string {
  const rows = runs.map((r) => {
    const steps = r.metrics.reduce((m, l) => Math.max(m, l.step), 0);
    const rewards = r.metrics.map((l) => l["env/reward_mean"]).filter((v) => typeof v === "number")
      .map(Number);
    const reward = rewards.length > 0
      ? `${fmt(rewards[0])} → ${fmt(rewards[rewards.length - 1])}`
      : "";
    return `<tr><th>${escapeHtml(r.name)}</th><td><code>${escapeHtml(r.dir)}</code></td>` +
      `<td>${steps}</td><td>${r.metrics.length}</td><td>${r.samples.length}</td>` +
      `<td>${escapeHtml(reward)}</td></tr>`;
  });
  return `<table class="runs"><thead><tr><th>run</th><th>folder</th><th>last step</th>` +
    `<th>metric lines</th><th>sample rows</th><th>env/reward_mean first → last</th></tr>` +
    `</thead><tbody>${rows.join("")}</tbody></table>`;
}

function histogramSection(runs: readonly RunData[]): string | null {
  const figures: string[] = [];
  for (const run of runs) {
    const tags = [...new Set(run.distributions.map((d) => d.tag))].sort((a, b) => {
      const ia = DISTRIBUTION_ORDER.indexOf(a), ib = DISTRIBUTION_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
    for (const tag of tags) {
      const records = run.distributions.filter((d) => d.tag === tag);
      const first = records[0], last = records[records.length - 1];
      const series = first === last ? [{ name: `step ${first.step}`, values: first.values }] : [
        { name: `step ${first.step} (start)`, values: first.values },
        { name: `step ${last.step} (end)`, values: last.values },
      ];
      const label = runs.length > 1 ? `${run.name}: ${tag}` : tag;
      figures.push(
        `<figure class="chart histogram" data-run="${escapeHtml(run.name)}" data-metric="${
          escapeHtml(tag)
        }" data-steps="${series.length}">${histogramSvg(label, series)}</figure>`,
      );
    }
  }
  if (figures.length === 0) return null;
  return `<section id="distributions"><h2>Distributions</h2><p>The first and the last logged ` +
    `step of each distribution.</p><div class="grid">${figures.join("\n")}</div></section>`;
}

function samplesSection(runs: readonly RunData[]): string | null {
  const parts: string[] = [];
  for (const run of runs) {
    const tables = new Map<string, SampleRecord[]>();
    for (const s of run.samples) {
      const key = `${s.table}\u0000${s.step}`;
      if (!tables.has(key)) tables.set(key, []);
      tables.get(key)!.push(s);
    }
    for (const rows of tables.values()) {
      const { table, step } = rows[0];
      const withKl = rows.some((r) => typeof r.kl === "number");
      const body = rows.map((r) =>
        `<tr><td class="text">${escapeHtml(r.prompt)}</td><td class="text">${
          escapeHtml(r.completion)
        }</td><td class="num">${escapeHtml(fmt(r.reward))}</td>${
          withKl ? `<td class="num">${escapeHtml(fmt(r.kl))}</td>` : ""
        }</tr>`
      );
      parts.push(
        `<h3>${runs.length > 1 ? `${escapeHtml(run.name)}: ` : ""}${
          escapeHtml(table)
        }, step ${step}` +
          `</h3><table class="samples" data-run="${escapeHtml(run.name)}" data-table="${
            escapeHtml(table)
          }" data-step="${step}"><thead><tr><th>prompt</th><th>completion</th><th>reward</th>${
            withKl ? "<th>kl</th>" : ""
          }</tr></thead><tbody>${body.join("")}</tbody></table>`,
      );
    }
  }
  if (parts.length === 0) return null;
  return `<section id="samples"><h2>Samples</h2>${parts.join("\n")}</section>`;
}

function sideBySideSection(runs: readonly RunData[]): string | null {
  const parts: string[] = [];
  for (const run of runs) {
    const s = run.sideBySide;
    if (!s || s.rows.length === 0) continue;
    const mean = (f: (r: SideBySideRecord["rows"][number]) => number) =>
      s.rows.reduce((a, r) => a + f(r), 0) / s.rows.length;
    const body = s.rows.map((r) =>
      `<tr><td class="text">${escapeHtml(r.prompt)}</td><td class="text">${
        escapeHtml(r.before)
      }</td><td class="num">${escapeHtml(fmt(r.beforeReward))}</td><td class="text">${
        escapeHtml(r.after)
      }</td><td class="num">${escapeHtml(fmt(r.afterReward))}</td></tr>`
    );
    parts.push(
      `<h3>${runs.length > 1 ? `${escapeHtml(run.name)}: ` : ""}${escapeHtml(s.labels.before)} ` +
        `vs ${escapeHtml(s.labels.after)} (mean reward ${fmt(mean((r) => r.beforeReward))} → ${
          fmt(mean((r) => r.afterReward))
        })</h3><table class="samples side-by-side" data-run="${
          escapeHtml(run.name)
        }"><thead><tr><th>prompt</th><th>${escapeHtml(s.labels.before)}</th><th>reward</th><th>${
          escapeHtml(s.labels.after)
        }</th><th>reward</th></tr></thead><tbody>${body.join("")}</tbody></table>`,
    );
  }
  if (parts.length === 0) return null;
  return `<section id="held-out"><h2>Held-out prompts: before and after</h2>${
    parts.join("\n")
  }</section>`;
}

function configSection(runs: readonly RunData[]): string {
  const parts = runs.map((run) => {
    const empty = Object.keys(run.config).length === 0;
    return `<h3>${escapeHtml(run.name)}</h3>` +
      (empty
        ? `<p class="config-missing" data-run="${escapeHtml(run.name)}">No config.json in ` +
          `<code>${escapeHtml(run.dir)}</code>.</p>`
        : `<pre class="config" data-run="${escapeHtml(run.name)}">${
          escapeHtml(JSON.stringify(run.config, null, 2))
        }</pre>`);
  });
  return `<section id="config"><h2>Config</h2>${parts.join("\n")}</section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1f24;
  background: #f6f7f9; }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #d5d8de; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: #5b6070; margin: 0 0 10px; }
nav { margin: 12px 0; }
nav a { color: #2f54c7; text-decoration: none; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #dde0e6; border-radius: 6px;
  padding: 4px; }
figure.chart svg { display: block; }
table { border-collapse: collapse; background: #fff; margin: 4px 0 8px; font-size: 13px; }
th, td { border: 1px solid #dde0e6; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #eef0f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { max-width: 460px; white-space: pre-wrap; word-break: break-word; }
pre.config { background: #fff; border: 1px solid #dde0e6; padding: 10px; overflow: auto;
  max-height: 420px; font-size: 12px; }
code { font-size: 12px; }
`;
