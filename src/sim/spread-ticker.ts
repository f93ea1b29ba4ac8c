/**
 * One timer that visits indices 0…count-1 once per period, spread evenly over the period: with 5,000
 * nodes and a 10 s period it visits 50 every 100 ms instead of 5,000 at once, and the simulator needs
 * no timer per node. Progress is computed from elapsed time, so a late tick catches up (but never
 * visits an index twice in one tick).
 */

export interface SpreadTickerOptions {
  /** Each index is visited once per period. */
  periodMs: number;
  /** Timer resolution (default 100 ms, at most periodMs). */
  tickMs?: number;
  /** The number of indices now (may grow while running). */
  count(): number;
  /** Called for each due index; must not throw (errors are the caller's to handle). */
  visit(index: number): void;
  /** Clock; replaceable in tests. */
  now?: () => number;
}

/** Visits every index once per period, spread over the period, from one setInterval. */
export class SpreadTicker {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** Visits made since start (index = visits % count). */
  private visits = 0;
  private readonly now: () => number;

  constructor(private readonly opts: SpreadTickerOptions) {
    if (!(opts.periodMs > 0)) throw new Error(`period must be positive, got ${opts.periodMs}`);
    this.now = opts.now ?? Date.now;
  }

  /** Starts the timer; index i is first visited about i/count of a period from now. */
  start(): void {
    if (this.timer) return;
    this.startedAt = this.now();
    this.visits = 0;
    const tickMs = Math.max(1, Math.min(this.opts.tickMs ?? 100, this.opts.periodMs));
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  /** Visits whatever is due now (the timer calls this; exposed for tests). */
  tick(): void {
    const count = this.opts.count();
    if (count <= 0) return;
    const target = Math.floor(((this.now() - this.startedAt) / this.opts.periodMs) * count);
    // A stalled loop must not visit an index twice in one go.
    if (target - this.visits > count) this.visits = target - count;
    for (; this.visits < target; this.visits++) this.opts.visit(this.visits % count);
  }

  /** Stops the timer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
