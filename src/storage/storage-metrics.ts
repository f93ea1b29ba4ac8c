/**
 * The store's Prometheus metrics (k8s.io/apiserver/pkg/storage/etcd3/metrics): request latency by
 * operation and resource (etcd_request_duration_seconds, for either backend), and objects per
 * resource (apiserver_storage_objects, counted when scraped, at most every 30 s). One registry per
 * process; the API server's /metrics serves it.
 */
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Backend } from './backend.ts';

export const storageRegistry = new Registry();

const registers = [storageRegistry];
const latency = new Histogram({
  name: 'etcd_request_duration_seconds', help: 'Etcd request latency in seconds for each operation and object type.', labelNames: ['operation', 'type'], registers,
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
});

/** `/registry/<group|core>/<plural>/…` → `<plural>.<group>` (core: `<plural>`), as upstream names types by resource. */
export function resourceOfKey(key: string): string {
  const parts = key.split('/');
  if (parts[1] !== 'registry' || parts.length < 4) return parts[1] ?? '';
  return parts[2] && parts[2] !== 'core' ? `${parts[3]}.${parts[2]}` : parts[3];
}

const TIMED = new Set(['create', 'update', 'delete', 'get', 'list', 'count']);

/** The same backend, its key-value calls timed (a Proxy: everything else passes through). */
export function instrumentBackend(backend: Backend): Backend {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (typeof prop !== 'string' || !TIMED.has(prop)) return v.bind(target);
      return async (...args: unknown[]) => {
        const end = latency.startTimer({ operation: prop, type: resourceOfKey(String(args[0] ?? '')) });
        try {
          return await v.apply(target, args);
        } finally {
          end();
        }
      };
    },
  });
}

/** Resources whose objects the gauge counts: name (`pods`, `deployments.apps`) and key prefix. */
export type CountedResource = { resource: string; prefix: string };

const counted = new Set<{ backend: Backend; resources: () => CountedResource[] }>();
let cache: { at: number; values: Map<string, number> } | undefined;

new Gauge({
  name: 'apiserver_storage_objects', help: 'Number of stored objects at the time of last check split by kind.', labelNames: ['resource'], registers,
  async collect() {
    if (!cache || Date.now() - cache.at > 30_000) {
      const values = new Map<string, number>();
      for (const c of counted) {
        for (const r of c.resources()) values.set(r.resource, (values.get(r.resource) ?? 0) + await c.backend.count(r.prefix).catch(() => 0));
      }
      cache = { at: Date.now(), values };
    }
    this.reset();
    for (const [resource, n] of cache.values) this.set({ resource }, n);
  },
});

/** Counts `resources` in `backend` for apiserver_storage_objects until the returned function is called. */
export function countStoredObjects(backend: Backend, resources: () => CountedResource[]): () => void {
  const entry = { backend, resources };
  counted.add(entry);
  cache = undefined;
  return () => { counted.delete(entry); cache = undefined; };
}
