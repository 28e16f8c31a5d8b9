/**
 * `rouge_score`'s `BootstrapAggregator` as `evaluate` runs it: 1000 resamples (with
 * replacement) of the per-item scores, the mean of each, and the 2.5th, 50th and 97.5th
 * percentiles of those means (numpy's "linear" method), under numpy's legacy MT19937 seeded with
 * `evaluate`'s seed. `evaluate`'s rouge reports the `mid` F-measure.
 *
 * @module
 */

import { MersenneTwister } from "./mt19937.ts";
import type { RougeScore } from "./score.ts";

/** Low, mid and high ends of a bootstrap confidence interval, per measure. */
export interface AggregateScore {
  /** The (1 − confidence) / 2 percentile. */
  low: RougeScore;
  /** The median of the resampled means. */
  mid: RougeScore;
  /** The 1 − (1 − confidence) / 2 percentile. */
  high: RougeScore;
}

/** Options of {@link bootstrapAggregate}. */
export interface BootstrapOptions {
  /** Seed of the MT19937 stream (default 42: `evaluate` after `np.random.seed(42)`). */
  seed?: number;
  /** Resamples per type (default 1000). */
  samples?: number;
  /** Confidence of the interval (default 0.95). */
  confidence?: number;
}

const MEASURES = ["precision", "recall", "fmeasure"] as const;

/** numpy's percentile of sorted values with the "linear" method, for q in [0, 100]. */
function percentile(sorted: Float64Array, q: number): number {
  const v = (sorted.length - 1) * (q / 100);
  const lo = Math.floor(v);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const g = v - lo;
  const a = sorted[lo], b = sorted[hi];
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/**
 * Bootstrap every type's per-item scores, types in the order given (each draws its own stretch
 * of one seeded stream, as `BootstrapAggregator.aggregate` does).
 *
 * @example
 * ```ts
 * import { bootstrapAggregate, computeRouge } from "@tether/rlhf/eval";
 * const predictions = ["the cat sat on the mat", "a dog barked"];
 * const references = ["the cat lay on the mat", "the dog barked loudly"];
 * const perItem = computeRouge(predictions, references, { useAggregator: false });
 * const { rouge1 } = bootstrapAggregate(perItem, { seed: 42 });
 * console.log(rouge1.low.fmeasure, rouge1.mid.fmeasure, rouge1.high.fmeasure);
 * ```
 *
 * @param items Per-item scores by type (every item has the same types).
 * @param options Seed, resamples and confidence.
 */
export function bootstrapAggregate(
  items: readonly Readonly<Record<string, RougeScore>>[],
  options: BootstrapOptions = {},
): Record<string, AggregateScore> {
  const samples = options.samples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!(Number.isInteger(samples) && samples >= 1)) {
    throw new Error(`bootstrapAggregate: samples must be an integer >= 1, got ${samples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`bootstrapAggregate: confidence must be in (0, 1), got ${confidence}`);
  }
  if (items.length === 0) return {};
  const rng = new MersenneTwister(options.seed ?? 42);
  const n = items.length;
  const delta = (1 - confidence) / 2;
  const q = [100 * delta, 100 * 0.5, 100 * (1 - delta)];
  const out: Record<string, AggregateScore> = {};
  for (const type of Object.keys(items[0])) {
    const rows = items.map((item, i) => {
      const s = item[type];
      if (!s) throw new Error(`bootstrapAggregate: item ${i} has no '${type}' score`);
      return [s.precision, s.recall, s.fmeasure];
    });
    const means = MEASURES.map(() => new Float64Array(samples));
    const picks = new Int32Array(n);
    for (let k = 0; k < samples; k++) {
      for (let j = 0; j < n; j++) picks[j] = rng.randint(n);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = 0; j < n; j++) sum += rows[picks[j]][c];
        means[c][k] = sum / n;
      }
    }
    const bounds = means.map((m) => {
      const sorted = m.sort();
      return q.map((p) => percentile(sorted, p));
    });
    const at = (j: number): RougeScore => ({
      precision: bounds[0][j],
      recall: bounds[1][j],
      fmeasure: bounds[2][j],
    });
    out[type] = { low: at(0), mid: at(1), high: at(2) };
  }
  return out;
}
