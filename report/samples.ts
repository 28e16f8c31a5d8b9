/**
 * Sample tables: a few completions with their rewards (and KL to the reference, where the
 * trainer has it), logged every `logSamplesEvery` steps as TRL's `log_completions` and trlX's
 * evaluation tables are. The same rows go to `samples.jsonl`, to TensorBoard as Markdown text,
 * to the console and into the report.
 *
 * @module
 */

/** One sampled completion. */
export interface SampleRow {
  /** The prompt (query) text. */
  prompt: string;
  /** What the policy wrote. */
  completion: string;
  /** Its reward. */
  reward: number;
  /** Its KL to the reference (nats, summed over the completion's tokens), when known. */
  kl?: number;
}

/** A sample row as `samples.jsonl` stores it. */
export interface SampleRecord extends SampleRow {
  /** The step the samples were drawn at. */
  step: number;
  /** Which table: `completions` during training, `eval/completions` for held-out prompts. */
  table: string;
}

/** How often and how many samples a trainer logs. */
export interface SampleLogSettings {
  /** Log a table every this many steps (also at the first and the last step); 0 turns it off. */
  every: number;
  /** Rows per table. */
  count: number;
}

/** Rows per table unless told otherwise. */
export const DEFAULT_SAMPLE_COUNT = 4;

/**
 * Validate `logSamplesEvery` and `logSamplesCount`, naming the bad one.
 *
 * @param where Who asks, for the message (e.g. `trainPPO`).
 * @param every `logSamplesEvery` (undefined: `defaultEvery`).
 * @param count `logSamplesCount` (undefined: {@link DEFAULT_SAMPLE_COUNT}).
 * @param defaultEvery The trainer's default cadence.
 */
export function resolveSampleLog(
  where: string,
  every: number | undefined,
  count: number | undefined,
  defaultEvery: number,
): SampleLogSettings {
  const e = every ?? defaultEvery, c = count ?? DEFAULT_SAMPLE_COUNT;
  if (!(Number.isInteger(e) && e >= 0)) {
    throw new Error(`${where}: logSamplesEvery must be an integer >= 0 (0: off), got ${every}`);
  }
  if (!(Number.isInteger(c) && c >= 1)) {
    throw new Error(`${where}: logSamplesCount must be an integer >= 1, got ${count}`);
  }
  return { every: e, count: c };
}

/**
 * Whether step `step` of `total` logs samples: every `every` steps, and the first and the last.
 *
 * @param step The step (1-based).
 * @param total Steps of the run, when known.
 * @param settings The cadence.
 */
export function isSampleStep(
  step: number,
  total: number | undefined,
  settings: SampleLogSettings,
): boolean {
  if (settings.every === 0) return false;
  return step === 1 || step % settings.every === 0 || step === total;
}

function cell(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

const num = (v: number | undefined) => (v === undefined ? "" : v.toFixed(3));

/**
 * The rows as a Markdown table (prompt, completion, reward, and KL when any row has it).
 *
 * @param rows Sample rows.
 * @param width Longest text kept per cell (default 200).
 */
export function samplesMarkdown(rows: readonly SampleRow[], width = 200): string {
  const withKl = rows.some((r) => r.kl !== undefined);
  const head = withKl
    ? ["| prompt | completion | reward | kl |", "|---|---|---:|---:|"]
    : ["| prompt | completion | reward |", "|---|---|---:|"];
  return [
    ...head,
    ...rows.map((r) =>
      `| ${cell(r.prompt, width)} | ${cell(r.completion, width)} | ${num(r.reward)} |` +
      (withKl ? ` ${num(r.kl)} |` : "")
    ),
  ].join("\n");
}

/**
 * The rows as console lines under a heading: `reward 1.234 | kl 0.120 | prompt ⟶ completion`.
 *
 * @param label Who logged them and when, e.g. `ppo step 10 samples`.
 * @param rows Sample rows.
 * @param width Longest prompt or completion text kept (default 80).
 */
export function samplesLines(label: string, rows: readonly SampleRow[], width = 80): string {
  const lines = rows.map((r) =>
    `  reward ${num(r.reward)}${r.kl === undefined ? "" : ` | kl ${num(r.kl)}`} | ` +
    `${cell(r.prompt, width)} ⟶ ${cell(r.completion, width)}`
  );
  return [`${label}:`, ...lines].join("\n");
}
