/**
 * A concurrency limiter: at most `max` async tasks run at once, the rest wait in FIFO order. The
 * simulator funnels every API write (registration, lease renewals, heartbeats, pod status) through one,
 * so 5,000 hollow nodes never put more than `max` requests on the wire.
 */

/** Runs async tasks with at most `max` in flight. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`concurrency must be a positive integer, got ${max}`);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; settles as `fn` does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next task
      else {
        this.active--;
        if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
      }
    }
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
