/**
 * The repair loop of the service allocations (kube-apiserver's ipallocator/portallocator repair
 * controllers): reservations nobody holds any more — left by a crash between reserving and
 * writing, or between removing a Service and releasing — go back to the pool; a Service holding a
 * value without a reservation (a store restored from a backup, or data from before allocation
 * existed) gets one. Young reservations are left alone: another API server may be between its
 * reservation and its write right now.
 */
import type { Backend } from '../../storage/backend.ts';
import { decodeObject, storagePrefix } from '../object-codec.ts';
import type { KubeObject } from '../../apis/object.ts';
import type { Logger } from '../../util/log.ts';
import { CLUSTER_IP_POOL, NODE_PORT_POOL, type ServiceAllocator } from './service-allocator.ts';

export interface RepairResult {
  released: number;
  restored: number;
  /** Values two Services claim (only possible from outside data); reported, not changed. */
  conflicts: string[];
}

async function listServices(backend: Backend): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  const prefix = storagePrefix('', 'services', undefined);
  let after: string | undefined;
  for (;;) {
    const res = await backend.list(prefix, { after, limit: 1000 });
    for (const kv of res.items) out.push(decodeObject(kv));
    if (!res.more || res.items.length === 0) return out;
    after = res.items[res.items.length - 1]!.key;
  }
}

export async function repairServiceAllocations(backend: Backend, alloc: ServiceAllocator, minAgeMs = 60_000): Promise<RepairResult> {
  const result: RepairResult = { released: 0, restored: 0, conflicts: [] };
  // Reservations first: one made after this read belongs to a Service written after the list below
  // or is young, and is left alone either way.
  const reservations = [...(await alloc.store.list(CLUSTER_IP_POOL)), ...(await alloc.store.list(NODE_PORT_POOL))];
  const services = await listServices(backend);
  const holders = new Map<string, KubeObject>();
  for (const svc of services) {
    const h = alloc.held(svc);
    const values = [...(h.ip !== undefined ? [`${CLUSTER_IP_POOL}/${alloc.ips.opts.format(h.ip)}`] : []), ...[...h.ports].map((p) => `${NODE_PORT_POOL}/${p}`)];
    for (const v of values) {
      const other = holders.get(v);
      if (other && other.metadata.uid !== svc.metadata.uid) result.conflicts.push(`${v} (${other.metadata.namespace}/${other.metadata.name}, ${svc.metadata.namespace}/${svc.metadata.name})`);
      else holders.set(v, svc);
    }
  }
  const now = Date.now();
  const reserved = new Set<string>();
  for (const r of reservations) {
    const v = `${r.pool}/${r.value}`;
    reserved.add(v);
    if (holders.get(v)?.metadata.uid === r.owner.uid) continue;
    if (now - Date.parse(r.at) < minAgeMs) continue;
    await alloc.store.drop(r);
    reserved.delete(v);
    result.released++;
  }
  for (const [v, svc] of holders) {
    if (reserved.has(v)) continue;
    const [pool, value] = v.split('/') as [string, string];
    const ok = await alloc.store.reserve(pool, value, { namespace: svc.metadata.namespace, name: svc.metadata.name!, uid: svc.metadata.uid! });
    if (ok) result.restored++;
    else result.conflicts.push(`${v} (${svc.metadata.namespace}/${svc.metadata.name} holds it, reserved by another owner)`);
  }
  return result;
}

/** Runs the repair now (`firstPass`) and then every `intervalMs`; errors are logged and retried next time. */
export function startAllocationRepair(backend: Backend, alloc: ServiceAllocator, log: Logger, intervalMs = 180_000): { stop(): void; firstPass: Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    try {
      const r = await repairServiceAllocations(backend, alloc);
      if (r.released || r.restored || r.conflicts.length) log.info('service allocations repaired', { ...r });
    } catch (err) {
      log.warn('service allocation repair failed', { error: (err as Error).message });
    }
    if (!stopped) timer = setTimeout(run, intervalMs).unref();
  };
  const firstPass = run();
  return { stop() { stopped = true; if (timer) clearTimeout(timer); }, firstPass };
}
