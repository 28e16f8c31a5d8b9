/**
 * Seeing a run: the HTML report (charts of every logged scalar grouped as TRL groups them,
 * reward histograms, the sample tables, held-out comparisons and the config), TensorBoard event
 * files, the run folder's files, and the progress line the trainers report through.
 *
 * ```sh
 * deno task report runs/imdb_demo-tiny          # writes runs/imdb_demo-tiny/report.html
 * deno task report runs/a runs/b --out ab.html  # two runs, curves overlaid
 * tensorboard --logdir runs                     # runs written with reportTo: "tensorboard"
 * ```
 *
 * @module
 */

export { writeReport, type WriteReportOptions, type WriteReportResult } from "./report.ts";
export { type MetricSeries, metricSeries, type RenderOptions, renderReport } from "./html.ts";
export { findRuns, readRun, type RunData, runNames, type SideBySideRecord } from "./read_run.ts";
export type { MetricsRecord } from "../algorithms/common/metrics.ts";
export {
  displayOrder,
  groupOf,
  LEADING_METRICS,
  METRIC_GROUPS,
  type MetricGroup,
  OTHER_GROUP,
} from "./groups.ts";
export {
  type ChartSize,
  type HistogramSeries,
  histogramSvg,
  lineChartSvg,
  type LineSeries,
} from "./charts.ts";
export {
  type DistributionRecord,
  readDistributions,
  readJsonLines,
  readRunConfig,
  readSamples,
  REPORT_TARGETS,
  type ReportTarget,
  resolveReportTo,
  RUN_FILES,
  RunWriter,
  type RunWriterOptions,
  writeRunConfig,
} from "./run_files.ts";
export {
  DEFAULT_SAMPLE_COUNT,
  isSampleStep,
  resolveSampleLog,
  type SampleLogSettings,
  type SampleRecord,
  type SampleRow,
  samplesLines,
  samplesMarkdown,
} from "./samples.ts";
export {
  type DecodedEvent,
  decodeEvent,
  eventFiles,
  EventFileWriter,
  type EventFileWriterOptions,
  type EventRecord,
  FILE_VERSION,
  frameRecord,
  histogramBuckets,
  readEventFile,
  readRecords,
  type SummaryValue,
} from "./tensorboard/events.ts";
export { crc32c, maskedCrc32c } from "./tensorboard/crc32c.ts";
export {
  formatDuration,
  formatRate,
  Progress,
  type ProgressEvent,
  type ProgressSink,
  progressSink,
  setProgressSink,
  stderrSink,
  type TrainingProgressOptions,
} from "../common/progress.ts";
