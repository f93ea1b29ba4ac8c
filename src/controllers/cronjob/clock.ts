/**
 * The clock the batch and node controllers read "now" from, so tests can move time by hand.
 */

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

/** The API's seconds-precision timestamp for a clock reading. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
