/**
 * One pod's (or the node's) chart history as a ring of numbers (cAdvisor keeps its short in-memory
 * history in ring buffers too, utils/timed_store.go): five columns per point in one Float64Array,
 * NaN for "not known". 15 minutes of points for 100 pods as objects were 9,000 long-lived objects
 * promoted into the old generation one sample at a time; here they are 100 arrays, and points are made
 * only when a chart asks (/stats/history).
 */
import type { HistoryPoint } from './sampler.ts';

const COLS = 5;

export class HistoryRing {
  private buf: Float64Array;
  private head = 0;
  private size = 0;

  constructor(capacity = 16) {
    this.buf = new Float64Array(Math.max(1, capacity) * COLS);
  }

  get length(): number {
    return this.size;
  }

  /** Time (ms) of the newest point, or -Infinity. */
  get lastT(): number {
    return this.size ? this.buf[this.slot(this.size - 1)] : -Infinity;
  }

  /** Appends a point, then drops those older than `cutoff` (ms); grows when full. */
  push(p: HistoryPoint, cutoff: number): void {
    this.prune(cutoff);
    if (this.size * COLS === this.buf.length) this.grow();
    const at = this.slot(this.size);
    const b = this.buf;
    b[at] = p.t;
    b[at + 1] = p.cpuNanoCores ?? NaN;
    b[at + 2] = p.memoryWorkingSetBytes;
    b[at + 3] = p.rxBytes ?? NaN;
    b[at + 4] = p.txBytes ?? NaN;
    this.size++;
  }

  /** Drops the points older than `cutoff` (ms). */
  prune(cutoff: number): void {
    const cap = this.buf.length / COLS;
    while (this.size && this.buf[this.head * COLS] < cutoff) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
  }

  /** The points, oldest first (fields not known are left out). */
  points(): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const b = this.buf;
    for (let i = 0; i < this.size; i++) {
      const at = this.slot(i);
      const p: HistoryPoint = { t: b[at], memoryWorkingSetBytes: b[at + 2] };
      if (!Number.isNaN(b[at + 1])) p.cpuNanoCores = b[at + 1];
      if (!Number.isNaN(b[at + 3])) p.rxBytes = b[at + 3];
      if (!Number.isNaN(b[at + 4])) p.txBytes = b[at + 4];
      out.push(p);
    }
    return out;
  }

  private slot(i: number): number {
    return ((this.head + i) % (this.buf.length / COLS)) * COLS;
  }

  private grow(): void {
    const next = new Float64Array(this.buf.length * 2);
    for (let i = 0; i < this.size; i++) next.set(this.buf.subarray(this.slot(i), this.slot(i) + COLS), i * COLS);
    this.buf = next;
    this.head = 0;
  }
}
