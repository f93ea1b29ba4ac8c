/**
 * ClusterIP and NodePort allocation for Services, as the service REST of kube-apiserver does it:
 * after validation and before the write, values the client asked for are checked (range, free) and
 * reserved, missing ones are picked; a failed write rolls the reservations back; values an update
 * no longer uses and everything a removed Service held are released.
 *
 *   create ─▶ prepare+validate ─▶ beforeCreate (reserve / pick) ─▶ store write ─┬─ ok: commit
 *                                                                              └─ err: rollback
 */
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Reservation, StoreHooks } from '../store-hooks.ts';
import { intToIp, ipToInt, parseCidr, formatCidr } from '../../apis/cidr.ts';
import { AllocationStore, type AllocationOwner } from './allocation-store.ts';
import { RangeFullError, RangePool } from './range-pool.ts';

export interface ServiceAllocatorOptions {
  /** e.g. 10.43.0.0/16 */
  serviceCidr: string;
  /** e.g. 30000-32767 */
  nodePortRange: string;
}

export const CLUSTER_IP_POOL = 'clusterips';
export const NODE_PORT_POOL = 'nodeports';

/** Parses `30000-32767`; throws a clear error on anything else. */
export function parseNodePortRange(text: string): { first: number; last: number } {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) throw new Error(`invalid node port range "${text}": expected FIRST-LAST within 1-65535`);
  return { first, last };
}

const wantsClusterIP = (svc: KubeObject) => (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
const wantsNodePorts = (svc: KubeObject) => svc.spec?.type === 'NodePort'
  || (svc.spec?.type === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);
const wantsHealthPort = (svc: KubeObject) => svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';

function ownerOf(svc: KubeObject): AllocationOwner {
  return { namespace: svc.metadata.namespace, name: svc.metadata.name!, uid: svc.metadata.uid! };
}

/** What one Service holds: its ClusterIP (as an int) and node ports. */
interface Held { ip?: number; ports: Set<number> }

export class ServiceAllocator implements StoreHooks {
  readonly ips: RangePool;
  readonly ports: RangePool;
  readonly cidrText: string;
  readonly portRangeText: string;

  constructor(readonly store: AllocationStore, opts: ServiceAllocatorOptions) {
    const cidr = parseCidr(opts.serviceCidr, true);
    if (cidr.prefix > 28) throw new Error(`service CIDR ${opts.serviceCidr} is too small: use a /28 or larger`);
    this.cidrText = formatCidr(cidr);
    // Network and broadcast addresses are never handed out.
    this.ips = new RangePool(store, {
      pool: CLUSTER_IP_POOL, first: cidr.base + 1, last: cidr.base + 2 ** (32 - cidr.prefix) - 2,
      bandDivisor: 16, bandCap: 256, format: intToIp, parse: ipToInt,
    });
    const { first, last } = parseNodePortRange(opts.nodePortRange);
    this.portRangeText = `${first}-${last}`;
    this.ports = new RangePool(store, {
      pool: NODE_PORT_POOL, first, last, bandDivisor: 32, bandCap: 128, format: String, parse: Number,
    });
  }

  /** What `svc` holds in this allocator's ranges (values outside them were never reserved). */
  held(svc: KubeObject): Held {
    const out: Held = { ports: new Set() };
    if (wantsClusterIP(svc) && svc.spec?.clusterIP) {
      try { const n = ipToInt(svc.spec.clusterIP); if (this.ips.contains(n)) out.ip = n; } catch { /* not an IPv4 address */ }
    }
    for (const p of svc.spec?.ports ?? []) if (p?.nodePort && this.ports.contains(p.nodePort)) out.ports.add(p.nodePort);
    if (svc.spec?.healthCheckNodePort && this.ports.contains(svc.spec.healthCheckNodePort)) out.ports.add(svc.spec.healthCheckNodePort);
    return out;
  }

  beforeCreate(svc: KubeObject, dryRun: boolean): Promise<Reservation> {
    return this.allocate(svc, { ports: new Set() }, dryRun);
  }

  beforeUpdate(svc: KubeObject, old: KubeObject, dryRun: boolean): Promise<Reservation> {
    return this.allocate(svc, this.held(old), dryRun);
  }

  async afterRemove(svc: KubeObject): Promise<void> {
    const h = this.held(svc);
    const uid = svc.metadata.uid!;
    if (h.ip !== undefined) await this.ips.release(h.ip, uid);
    for (const p of h.ports) await this.ports.release(p, uid);
  }

  /**
   * Fills and reserves what `svc` needs beyond what it already holds (`prev`); the reservation's
   * commit releases what `prev` held and `svc` no longer does, its rollback what this call took.
   */
  private async allocate(svc: KubeObject, prev: Held, dryRun: boolean): Promise<Reservation> {
    const spec = svc.spec ?? {};
    const owner = ownerOf(svc);
    const taken: { pool: RangePool; n: number }[] = [];
    const errs: FieldError[] = [];
    const rollback = async () => { for (const t of taken) await t.pool.release(t.n, owner.uid); };
    const take = async (pool: RangePool, n: number): Promise<boolean> => {
      if (dryRun) {
        const held = await this.store.get(pool.opts.pool, pool.opts.format(n));
        return !held || held.owner.uid === owner.uid;
      }
      const ok = await pool.reserve(n, owner);
      if (ok) taken.push({ pool, n });
      return ok;
    };
    // Everything this Service holds or takes now: never handed out twice within it.
    const inUse = new Set<number>(prev.ports);
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) if (p?.nodePort) inUse.add(p.nodePort);
    if (spec.healthCheckNodePort) inUse.add(spec.healthCheckNodePort);
    const pick = async (pool: RangePool): Promise<number> => {
      const n = await pool.allocate(owner, pool === this.ports ? inUse : undefined).catch((err) => {
        if (err instanceof RangeFullError) throw errors.internal(`failed to allocate a ${pool === this.ips ? 'serviceIP' : 'nodePort'}: range is full`);
        throw err;
      });
      taken.push({ pool, n });
      if (pool === this.ports) inUse.add(n);
      return n;
    };
    try {
      if (wantsClusterIP(svc)) {
        if (spec.clusterIP) {
          const ip = String(spec.clusterIP);
          let n = NaN;
          try { n = ipToInt(ip); } catch { /* validation already rejected non-IPs */ }
          if (n !== prev.ip) {
            if (!this.ips.contains(n)) {
              errs.push(fieldError.invalid('spec.clusterIPs', [ip], `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidrText}`));
            } else if (!(await take(this.ips, n))) {
              errs.push(fieldError.invalid('spec.clusterIPs', [ip], `failed to allocate IP ${ip}: provided IP is already allocated`));
            }
          }
        } else if (!dryRun) {
          const ip = intToIp(await pick(this.ips));
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        }
      }
      const nodePorts = wantsNodePorts(svc);
      const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
      const mine = new Set<number>();
      for (const [i, p] of ports.entries()) {
        if (!p) continue;
        if (p.nodePort) {
          if (prev.ports.has(p.nodePort) || mine.has(p.nodePort)) { mine.add(p.nodePort); continue; }
          if (!this.ports.contains(p.nodePort)) {
            errs.push(fieldError.invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${this.portRangeText}`));
          } else if (!(await take(this.ports, p.nodePort))) {
            errs.push(fieldError.invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
          } else mine.add(p.nodePort);
        } else if (nodePorts && !dryRun) {
          p.nodePort = await pick(this.ports);
          mine.add(p.nodePort);
        }
      }
      if (wantsHealthPort(svc) && !dryRun && !spec.healthCheckNodePort) spec.healthCheckNodePort = await pick(this.ports);
    } catch (err) {
      await rollback();
      throw err;
    }
    if (errs.length) {
      await rollback();
      throw errors.invalid('', 'Service', owner.name, errs);
    }
    const now = this.held(svc);
    return {
      commit: async () => {
        if (dryRun) return;
        if (prev.ip !== undefined && prev.ip !== now.ip) await this.ips.release(prev.ip, owner.uid);
        for (const p of prev.ports) if (!now.ports.has(p)) await this.ports.release(p, owner.uid);
      },
      rollback,
    };
  }
}
