/**
 * T5's relative position buckets (Raffel et al. 2020, section 2.1): each (query, key) pair gets
 * the bucket of the key's position minus the query's. Small offsets have a bucket each, larger
 * ones share logarithmically wider buckets up to `maxDistance`, beyond which all offsets share
 * the last bucket. The encoder tells left from right (half the buckets each); the decoder sees
 * only the past.
 *
 * @module
 */

const f32 = Math.fround;

/**
 * The bucket of one relative position (`memory − query`), as transformers'
 * `T5Attention._relative_position_bucket` computes it, its float32 logarithm included.
 *
 * @param relative Key position minus query position.
 * @param bidirectional Encoder (true) or decoder (false).
 * @param numBuckets `relative_attention_num_buckets`.
 * @param maxDistance `relative_attention_max_distance`.
 */
export function relativePositionBucket(
  relative: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relative > 0) bucket += numBuckets;
    n = Math.abs(relative);
  } else {
    n = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (n < maxExact) return bucket + n;
  // transformers computes this in float32; f64 can land on the other side of an integer.
  const ratio = f32(Math.log(f32(n / maxExact)));
  const scaled = f32(f32(ratio / f32(Math.log(maxDistance / maxExact))) * (numBuckets - maxExact));
  const large = Math.min(maxExact + Math.trunc(scaled), numBuckets - 1);
  return bucket + large;
}

/**
 * Buckets for queries at positions `queryStart … queryStart + queries − 1` against keys at
 * `0 … keys − 1`, row-major [queries, keys].
 */
export function relativePositionBuckets(
  queries: number,
  keys: number,
  queryStart: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Float32Array {
  const out = new Float32Array(queries * keys);
  const memo = new Map<number, number>();
  for (let i = 0; i < queries; i++) {
    for (let j = 0; j < keys; j++) {
      const rel = j - (queryStart + i);
      let b = memo.get(rel);
      if (b === undefined) {
        b = relativePositionBucket(rel, bidirectional, numBuckets, maxDistance);
        memo.set(rel, b);
      }
      out[i * keys + j] = b;
    }
  }
  return out;
}
