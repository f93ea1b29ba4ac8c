/**
 * A concurrency limiter: at most `max` async tasks run at once, the rest wait in FIFO order. The
 * simulator has one per write lane (node writes: registrations, Lease renewals, heartbeats; pod
 * writes: status, deletes), so 5,000 hollow nodes never put more than a lane's `max` requests on the
 * wire. A lane may yield to another (`yieldTo`): while the other has tasks waiting (and `pressing()`
 * says it matters) it keeps no more than `floor` tasks in flight — the pod lane yields to the node
 * lane, because a Lease renewal that waits behind pod status writes makes its node NotReady and gets
 * every pod on it evicted, while a late status only delays one pod; the floor keeps the pods moving
 * on a server too slow for all the renewals (strictly second, they got no write at all in such a run:
 * 1 status write in 4 minutes).
 */

/** Runs async tasks with at most `max` in flight. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  /** Called once each when this limiter's queue empties (lanes that yield to it). */
  private drainWaiters: Array<() => void> = [];
  /** A wake-up is registered with `yieldTo` already. */
  private parked = false;

  constructor(readonly max: number, private readonly yieldTo?: Limiter, private readonly floor = 0, private readonly pressing: () => boolean = () => true) {
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

  /** Runs `fn` once a slot is free (and the lane it yields to has nothing waiting); settles as `fn` does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max && this.waiting.length === 0 && !this.mustYield()) this.active++;
    else {
      await new Promise<void>((resolve) => { this.waiting.push(resolve); this.pump(); });
    }
    try {
      return await fn();
    } finally {
      this.active--;
      this.pump();
      if (this.active === 0 && this.waiting.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private mustYield(): boolean {
    return this.active >= this.floor && (this.yieldTo?.queued ?? 0) > 0 && this.pressing();
  }

  /** Starts waiting tasks while slots are free; parks on the other lane while it has a queue. */
  private pump(): void {
    while (this.active < this.max && this.waiting.length > 0) {
      if (this.mustYield()) {
        if (!this.parked) {
          this.parked = true;
          this.yieldTo!.drainWaiters.push(() => { this.parked = false; this.pump(); });
        }
        break;
      }
      this.active++;
      this.waiting.shift()!();
    }
    if (this.waiting.length === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }
}
