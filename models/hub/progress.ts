/**
 * Model download progress: the shared {@link ProgressBar} with the model downloader's wording
 * (`downloading org/name/file (12.0 MiB)`, then indented lines) and a quieter log cadence, since
 * one model download can be many files.
 *
 * @module
 */

import {
  formatBytes,
  ProgressBar,
  type ProgressSink,
  type TransferWording,
} from "../../common/progress.ts";

export { formatBytes };

/** `  org/name/file:  50% 2.0 KiB/4.0 KiB 171 B/s`, ending `done, 4.0 KiB in 24.0 s`. */
const downloadWording: TransferWording = {
  amount: (s) =>
    s.percent === undefined
      ? `${s.bytes} ${s.rate}`
      : `${s.percent} ${s.bytes}/${s.size} ${s.rate}`,
  start: (s) => `downloading ${s.label}${s.size === undefined ? "" : ` (${s.size})`}`,
  line: (s) => `  ${s.label}: ${downloadWording.amount(s)}`,
  done: (s) => `  ${s.label}: done, ${s.bytes} in ${s.seconds.toFixed(1)} s`,
};

/** Options for {@link DownloadProgress}. */
export interface DownloadProgressOptions {
  /** What is downloading, e.g. `gpt2/model.safetensors`. */
  label: string;
  /** Expected bytes, when the server said. */
  total?: number;
  /** Output. */
  sink: ProgressSink;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /** Minimum time between terminal redraws (default 100 ms). */
  redrawMs?: number;
  /** Minimum time between log lines (default 10 s). */
  logEveryMs?: number;
}

/** Progress of one model file download. */
export class DownloadProgress extends ProgressBar {
  /** @param options Label, expected size, output. */
  constructor(options: DownloadProgressOptions) {
    super({ ...options, logEveryMs: options.logEveryMs ?? 10_000, wording: downloadWording });
  }
}
