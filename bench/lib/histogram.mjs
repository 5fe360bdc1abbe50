/**
 * A fixed-size latency histogram in microseconds (log-linear buckets, HDR style): exact below
 * 256 µs, then 128 buckets per power of two (every bucket within 0.8 % of its values), up to
 * 2^32 µs (71 minutes). Load clients record every delivery in one of these instead of keeping
 * samples, and send the bucket counts (a Float64Array) to the orchestrator, which merges them.
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128 buckets per power of two
const LINEAR = 2 * SUB; // values below 256 µs have a bucket each
export const BUCKETS = LINEAR + (32 - SUB_BITS - 1) * SUB; // 3 328

/** Bucket of a value in µs (rounded, clamped to [0, 2^32 - 1]). */
export function bucketOf(us) {
  let v = us <= 0 ? 0 : us >= 4294967295 ? 4294967295 : Math.round(us);
  if (v < LINEAR) return v;
  v >>>= 0;
  const shift = 31 - Math.clz32(v) - SUB_BITS; // >= 1
  return LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** Smallest value (µs) of bucket `i`, and its width. */
function bucketRange(i) {
  if (i < LINEAR) return [i, 1];
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  const m = ((i - LINEAR) % SUB) + SUB;
  return [m * 2 ** shift, 2 ** shift];
}

export class Histogram {
  constructor(counts) {
    this.counts = counts ?? new Float64Array(BUCKETS);
    this.max = 0;
  }

  add(us) {
    this.counts[bucketOf(us)]++;
    if (us > this.max) this.max = us;
  }

  /** Adds another histogram's counts (a Histogram or its `counts` array) and max. */
  merge(counts, max = 0) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += counts[i];
    if (max > this.max) this.max = max;
    return this;
  }

  /** How many recorded values are at least `us` (to bucket precision). */
  countAtLeast(us) {
    let n = 0;
    for (let i = bucketOf(us); i < BUCKETS; i++) n += this.counts[i];
    return n;
  }

  get total() {
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) n += this.counts[i];
    return n;
  }

  /**
   * p50 / p90 / p99 / p99.9 / max in ms, the shape bench/lib/common.mjs percentiles() returns.
   * A percentile is the middle of its bucket (the exact value for anything under 256 µs).
   */
  percentiles() {
    const n = this.total;
    const ranks = { p50: 50, p90: 90, p99: 99, p999: 99.9 };
    const out = { samples: n };
    const want = Object.entries(ranks).map(([k, p]) => [k, Math.max(1, Math.ceil((p / 100) * n))]);
    let seen = 0;
    let w = 0;
    for (let i = 0; i < BUCKETS && w < want.length; i++) {
      seen += this.counts[i];
      while (w < want.length && seen >= want[w][1]) {
        const [lo, width] = bucketRange(i);
        const mid = width === 1 ? lo : lo + width / 2;
        out[want[w][0]] = Math.round(Math.min(mid, this.max)) / 1000;
        w++;
      }
    }
    for (const [k] of want) out[k] ??= NaN;
    out.max = n === 0 ? NaN : Math.round(this.max) / 1000;
    return out;
  }
}
