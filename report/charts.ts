/**
 * Charts as SVG, rendered without a browser by ECharts' server-side SVG renderer: a line chart
 * per logged scalar (one series per run) and a histogram of a distribution at the start and the
 * end of a run. Every drawn point carries ECharts' `ecmeta_series_index` / `ecmeta_data_index`
 * attributes, so the points of a chart can be counted in the SVG itself.
 *
 * @module
 */

import * as echarts from "echarts";
import { histogramBuckets } from "./tensorboard/events.ts";

/** One line of a chart: a run's points. */
export interface LineSeries {
  /** The run's name (the legend). */
  name: string;
  /** `[step, value]` points; non-finite values leave a gap. */
  points: [number, number][];
}

/** Chart size in pixels. */
export interface ChartSize {
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** The size of every metric chart. */
export const CHART_SIZE: ChartSize = { width: 280, height: 210 };

/** Above this many points a series is drawn as a line alone, without a marker per point. */
const MAX_MARKED_POINTS = 150;

function render(option: echarts.EChartsCoreOption, size: ChartSize): string {
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width,
    height: size.height,
  });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const titleStyle = { fontSize: 12, fontWeight: "bold" as const, fontFamily: "monospace" };

/**
 * A line chart of one metric, a series per run, x = step.
 *
 * @param title The metric's name.
 * @param series One per run that logged it.
 * @param size Pixels (default {@link CHART_SIZE}).
 */
export function lineChartSvg(
  title: string,
  series: readonly LineSeries[],
  size: ChartSize = CHART_SIZE,
): string {
  const legend = series.length > 1;
  return render({
    title: { text: title, left: 8, top: 4, textStyle: titleStyle },
    legend: legend ? { bottom: 0, type: "plain", textStyle: { fontSize: 10 } } : undefined,
    grid: { left: 56, right: 16, top: 34, bottom: legend ? 52 : 34 },
    xAxis: {
      type: "value",
      name: "step",
      nameLocation: "middle",
      nameGap: 22,
      minInterval: 1,
      scale: true,
    },
    yAxis: { type: "value", scale: true, axisLabel: { fontSize: 10 } },
    series: series.map((s) => ({
      type: "line",
      name: s.name,
      data: s.points.map(([x, y]) => [x, Number.isFinite(y) ? y : null]),
      showSymbol: s.points.length <= MAX_MARKED_POINTS,
      showAllSymbol: true,
      symbolSize: 4,
      connectNulls: false,
      lineStyle: { width: 1.5 },
    })),
  }, size);
}

/** A distribution at one step, for {@link histogramSvg}. */
export interface HistogramSeries {
  /** Legend, e.g. `step 1 (start)`. */
  name: string;
  /** The values. */
  values: readonly number[];
}

/**
 * Histograms of a few distributions over shared equal-width bins, as grouped bars.
 *
 * @param title What is counted, e.g. `env/reward_dist`.
 * @param series The distributions (e.g. the first and the last step).
 * @param bins Number of bins (default 20).
 * @param size Pixels.
 */
export function histogramSvg(
  title: string,
  series: readonly HistogramSeries[],
  bins = 20,
  size: ChartSize = { width: 560, height: 260 },
): string {
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const edges = all.length === 0 ? { limits: [0], counts: [0] } : histogramBuckets(all, bins);
  const lo = all.length === 0 ? 0 : Math.min(...all);
  const limits = edges.limits;
  const centers = limits.map((hi, i) => ((i === 0 ? lo : limits[i - 1]) + hi) / 2);
  const countsOf = (values: readonly number[]) => {
    const counts = new Array(limits.length).fill(0);
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      let i = limits.findIndex((hi) => v <= hi);
      if (i < 0) i = limits.length - 1;
      counts[i]++;
    }
    return counts;
  };
  return render({
    title: { text: title, left: 8, top: 4, textStyle: titleStyle },
    legend: { bottom: 0, textStyle: { fontSize: 10 } },
    grid: { left: 48, right: 16, top: 34, bottom: 56 },
    xAxis: {
      type: "category",
      data: centers.map((c) => c.toPrecision(3)),
      name: "value",
      nameLocation: "middle",
      nameGap: 24,
      axisLabel: { fontSize: 9 },
    },
    yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 10 } },
    series: series.map((s) => ({
      type: "bar",
      name: s.name,
      data: countsOf(s.values),
      barGap: "0%",
      itemStyle: { opacity: 0.8 },
    })),
  }, size);
}
