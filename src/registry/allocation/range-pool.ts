/**
 * A pool of integers [first, last] handed out through the AllocationStore: ClusterIPs (addresses as
 * 32-bit integers) and NodePorts. Values a client asks for are checked against the range and
 * reserved; dynamic values are picked at random, preferring the upper part of the range so the
 * lower "static band" stays free for values users pick by hand — Kubernetes' KEP-3070/3668 split.
 */
import type { AllocationOwner, AllocationStore } from './allocation-store.ts';

export interface RangePoolOptions {
  /** Pool name (key segment): `clusterips`, `nodeports`. */
  pool: string;
  first: number;
  last: number;
  /** Static band: min(max(16, size / divisor), cap) values at the bottom of the range. */
  bandDivisor: number;
  bandCap: number;
  format(n: number): string;
  parse(value: string): number;
}

export class RangeFullError extends Error {}

export class RangePool {
  readonly size: number;
  private readonly band: number;

  constructor(private readonly store: AllocationStore, readonly opts: RangePoolOptions) {
    this.size = opts.last - opts.first + 1;
    this.band = Math.min(Math.max(16, Math.floor(this.size / opts.bandDivisor)), opts.bandCap, Math.floor(this.size / 2));
  }

  contains(n: number): boolean {
    return Number.isInteger(n) && n >= this.opts.first && n <= this.opts.last;
  }

  /** Reserves a value the client asked for: false when another owner holds it. */
  reserve(n: number, owner: AllocationOwner): Promise<boolean> {
    return this.store.reserve(this.opts.pool, this.opts.format(n), owner);
  }

  release(n: number, ownerUid: string): Promise<void> {
    return this.store.release(this.opts.pool, this.opts.format(n), ownerUid);
  }

  /**
   * Reserves a free value at random (upper band first). A few random probes almost always hit
   * in a sparsely used range; after that it reads the pool once and walks it.
   */
  async allocate(owner: AllocationOwner, exclude: ReadonlySet<number> = new Set()): Promise<number> {
    const { first, last } = this.opts;
    const dynFirst = first + this.band;
    for (let i = 0; i < 8; i++) {
      const n = dynFirst + Math.floor(Math.random() * (last - dynFirst + 1));
      // `exclude`: values the owner already uses elsewhere (reserve() says yes to its own).
      if (!exclude.has(n) && (await this.reserve(n, owner))) return n;
    }
    const used = new Set((await this.store.list(this.opts.pool)).map((a) => this.opts.parse(a.value)));
    for (const n of exclude) used.add(n);
    const walk = async (from: number, to: number): Promise<number | undefined> => {
      const span = to - from + 1;
      if (span <= 0) return undefined;
      const start = Math.floor(Math.random() * span);
      for (let k = 0; k < span; k++) {
        const n = from + ((start + k) % span);
        if (!used.has(n) && (await this.reserve(n, owner))) return n;
      }
      return undefined;
    };
    const n = (await walk(dynFirst, last)) ?? (await walk(first, dynFirst - 1));
    if (n === undefined) throw new RangeFullError(`range is full`);
    return n;
  }
}
