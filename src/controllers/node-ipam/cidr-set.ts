/**
 * The pool of node pod ranges carved out of the cluster CIDR (upstream's
 * pkg/controller/nodeipam/ipam/cidrset/cidr_set.go): a bitmap of /maskSize subnets, allocation
 * starting after the last one handed out (so a range released by a deleted Node is not handed to
 * the next Node at once, while routes to the old one may still be in flight), occupy/release of a
 * given range, and ranges outside the cluster CIDR refused.
 */
import { cidrContains, cidrsOverlap, formatCidr, intToIp, parseCidr, type Cidr } from '../../apis/cidr.ts';

export class CidrSetFullError extends Error {
  constructor(cluster: string) {
    super(`no remaining CIDRs in ${cluster}`);
  }
}

export class CidrSet {
  readonly cluster: Cidr;
  readonly maskSize: number;
  readonly size: number;
  private readonly used: Uint8Array;
  private nextCandidate = 0;
  private allocated = 0;

  constructor(clusterCidr: string, maskSize: number) {
    this.cluster = parseCidr(clusterCidr, true);
    if (!Number.isInteger(maskSize) || maskSize < this.cluster.prefix || maskSize > 32) {
      throw new Error(`node CIDR mask size /${maskSize} does not fit in the cluster CIDR ${formatCidr(this.cluster)}`);
    }
    // Upstream refuses more than 2^16 subnets per set (clusterSubnetMaxDiff): the bitmap stays small.
    if (maskSize - this.cluster.prefix > 16) {
      throw new Error(`node CIDR mask size /${maskSize} gives more than 65536 node ranges in ${formatCidr(this.cluster)}; use a smaller mask size or a smaller cluster CIDR`);
    }
    this.maskSize = maskSize;
    this.size = 2 ** (maskSize - this.cluster.prefix);
    this.used = new Uint8Array(this.size);
  }

  /** How many ranges are handed out (or occupied). */
  get allocatedCount(): number {
    return this.allocated;
  }

  private rangeAt(i: number): string {
    return `${intToIp((this.cluster.base + i * 2 ** (32 - this.maskSize)) >>> 0)}/${this.maskSize}`;
  }

  /** The next free range after the last one allocated; throws {@link CidrSetFullError} when none is left. */
  allocateNext(): string {
    for (let n = 0; n < this.size; n++) {
      const i = (this.nextCandidate + n) % this.size;
      if (this.used[i]) continue;
      this.used[i] = 1;
      this.allocated++;
      this.nextCandidate = (i + 1) % this.size;
      return this.rangeAt(i);
    }
    throw new CidrSetFullError(formatCidr(this.cluster));
  }

  /** The bitmap indexes a range covers (a larger range covers several, a smaller one part of one). */
  private indexesOf(cidr: string): [number, number] {
    const c = parseCidr(cidr);
    if (!cidrsOverlap(this.cluster, c)) throw new Error(`${cidr} is outside the cluster CIDR ${formatCidr(this.cluster)}`);
    const step = 2 ** (32 - this.maskSize);
    const lo = Math.max(c.base, this.cluster.base);
    const hi = Math.min(c.base + 2 ** (32 - c.prefix) - 1, this.cluster.base + 2 ** (32 - this.cluster.prefix) - 1);
    return [Math.floor((lo - this.cluster.base) / step), Math.floor((hi - this.cluster.base) / step)];
  }

  /** Marks `cidr` (and whatever subnets it overlaps) as in use: existing Nodes' ranges, the service range. */
  occupy(cidr: string): void {
    const [from, to] = this.indexesOf(cidr);
    for (let i = from; i <= to; i++) {
      if (!this.used[i]) { this.used[i] = 1; this.allocated++; }
    }
  }

  /** Frees `cidr` (a deleted Node's range). */
  release(cidr: string): void {
    const [from, to] = this.indexesOf(cidr);
    for (let i = from; i <= to; i++) {
      if (this.used[i]) { this.used[i] = 0; this.allocated--; }
    }
  }

  /** True when `cidr` is one of this set's ranges (inside the cluster CIDR, of the set's mask size). */
  fits(cidr: string): boolean {
    try {
      const c = parseCidr(cidr, true);
      return c.prefix === this.maskSize && cidrContains(this.cluster, c);
    } catch {
      return false;
    }
  }
}
