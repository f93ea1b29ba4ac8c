/**
 * A small log-bucketed histogram of durations (ms), for what the simulator reports about itself: how
 * late each Lease renewal completes against its schedule, and how long a bound pod waits for its
 * Running status. 500 renewals a second for an hour must not keep 1.8 million samples, so values go
 * into buckets 5 % apart (a percentile is off by at most that), from 1 ms to ~10 minutes.
 */

const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds everything ≤ 1 ms; the last one everything past ~600 s. */
const BUCKETS = Math.ceil(Math.log(600_000) / LOG_GROWTH) + 2;

/** Counts of durations in 5 % buckets, with the exact maximum. */
export class LatencyHistogram {
  private counts = new Uint32Array(BUCKETS);
  private n = 0;
  private maxMs = 0;

  /** Adds one duration (negative counts as 0). */
  record(ms: number): void {
    const v = Math.max(0, ms);
    const i = v <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(v) / LOG_GROWTH));
    this.counts[i]++;
    this.n++;
    if (v > this.maxMs) this.maxMs = v;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.maxMs;
  }

  /** The p-th percentile (0–100) as its bucket's upper bound (capped at the maximum); NaN when empty. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(i === 0 ? 1 : GROWTH ** i, this.maxMs);
    }
    return this.maxMs;
  }

  /** Empties it. */
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.maxMs = 0;
  }
}
