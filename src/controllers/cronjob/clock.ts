/**
 * The clock the batch and node controllers read "now" from, so tests can move time by hand.
 */
import { rfc3339 } from '../../apis/time.ts';

/** A source of the current time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const realClock: Clock = { now: () => Date.now() };

/** A clock tests set and advance. */
export class FakeClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(ms: number | string | Date): void {
    this.t = typeof ms === 'number' ? ms : new Date(ms).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

