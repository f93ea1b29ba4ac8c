/**
 * Fake addresses of the hollow nodes: node i has the InternalIP 10.224.0.0 + i + 1 and the pod range
 * 10.240.0.0/12 cut into /25s (node i gets the i-th, 126 usable addresses: enough for 110 pods; 8,192
 * nodes fit, beyond that ranges repeat). Nothing routes them: pods on hollow nodes run nowhere.
 * {@link PodIpPool} hands out pod addresses per node and takes them back.
 */

const NODE_IP_BASE = (10 << 24 | 224 << 16) >>> 0;
const POD_NET_BASE = (10 << 24 | 240 << 16) >>> 0;
const POD_BLOCK = 128;
const POD_BLOCKS = (1 << 20) / POD_BLOCK; // a /12 in /25s

function ipv4(n: number): string {
  return `${n >>> 24 & 255}.${n >>> 16 & 255}.${n >>> 8 & 255}.${n & 255}`;
}

function parseIpv4(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** The InternalIP of hollow node `index`. */
export function simNodeIP(index: number): string {
  return ipv4(NODE_IP_BASE + index + 1);
}

/** spec.podCIDR of hollow node `index`. */
export function simPodCIDR(index: number): string {
  return `${ipv4(POD_NET_BASE + (index % POD_BLOCKS) * POD_BLOCK)}/25`;
}

/** Pod addresses per node: the .1–.126 of each node's /25, one per pod uid. */
export class PodIpPool {
  /** pod uid → [node index, offset in the block]. */
  private readonly byPod = new Map<string, [number, number]>();
  /** node index → offsets in use (only nodes with pods have an entry). */
  private readonly used = new Map<number, Set<number>>();

  /** Addresses handed out. */
  get size(): number {
    return this.byPod.size;
  }

  /** The pod's address on `node`: the one it already has, else a free one; undefined when full. */
  allocate(node: number, podUid: string, current?: string): string | undefined {
    const base = POD_NET_BASE + (node % POD_BLOCKS) * POD_BLOCK;
    const have = this.byPod.get(podUid);
    if (have && have[0] === node) return ipv4(base + have[1]);
    if (have) this.release(podUid);
    const set = this.used.get(node) ?? new Set<number>();
    let offset: number | undefined;
    const cur = current ? parseIpv4(current) : undefined;
    if (cur !== undefined && cur > base && cur < base + POD_BLOCK - 1 && !set.has(cur - base)) offset = cur - base;
    for (let o = 1; offset === undefined && o < POD_BLOCK - 1; o++) if (!set.has(o)) offset = o;
    if (offset === undefined) return undefined;
    set.add(offset);
    this.used.set(node, set);
    this.byPod.set(podUid, [node, offset]);
    return ipv4(base + offset);
  }

  /** Frees the pod's address, if it has one. */
  release(podUid: string): void {
    const have = this.byPod.get(podUid);
    if (!have) return;
    this.byPod.delete(podUid);
    const set = this.used.get(have[0]);
    set?.delete(have[1]);
    if (set && set.size === 0) this.used.delete(have[0]);
  }
}
