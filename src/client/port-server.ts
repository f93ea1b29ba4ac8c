/**
 * The serving half of a `PortClient` (port-client.ts): answers a MessagePort's requests from a
 * Client in this thread — normally a `LocalClient` onto the Registry acting as the component's user
 * (the scheduler's `system:kube-scheduler`), so a component in a worker thread is authorized and
 * admitted exactly as in-process or over HTTP. No upstream equivalent (kube-scheduler reaches
 * kube-apiserver over HTTP); this is the API server's side of a thread boundary.
 *
 * Errors go back as their Kubernetes Status (code, reason, details). Watch events go as JSON text:
 * the in-process client hands the registry's watch event, which carries the stored bytes with the
 * resourceVersion spliced in (`raw`, store-watch.ts); only objects without it (initial events,
 * errors, bookmarks) are stringified here.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Client, ClientWatch, ClientWatchEvent, PatchType, ResourceRef, UpdateSubresource, WatchOptions } from './client.ts';
import type { KubeObject } from '../apis/object.ts';
import { errors, type Status } from '../errors/index.ts';
import { internalStatus, PortOutbox, type CreateManyFailure, type CreateManyItem, type JsonLister, type ToClient, type ToServer } from './port-protocol.ts';

/** A served port. */
export interface PortServer {
  /** Ends every watch and stops answering (the port is closed). */
  close(): void;
  /** Watches open now (for tests and diagnostics). */
  readonly watches: number;
}

function statusOf(err: unknown): Status {
  const s = (err as { toStatus?: () => Status } | null)?.toStatus?.();
  if (s && typeof s.code === 'number') return s;
  return internalStatus(err instanceof Error ? err.message : String(err));
}

/** The event's JSON: the registry's ready bytes when it has them. */
function jsonOf(ev: ClientWatchEvent): string {
  const raw = (ev as { raw?: unknown }).raw;
  return typeof raw === 'string' ? raw : JSON.stringify(ev.object);
}

/** Serves `port` from `client` until closed. */
export function servePort(port: MessagePort, client: Client): PortServer {
  const out = new PortOutbox<ToClient>(port);
  // Lists go as JSON text when the client has the stored bytes (port-protocol.ts JsonList).
  const jsonLister = typeof (client as Partial<JsonLister>).listJson === 'function' ? client as Client & JsonLister : undefined;
  const watches = new Map<number, ClientWatch>();
  let closed = false;

  /**
   * Every create of a batch starts in this turn, so the store's group commit takes them together;
   * the reply, once all are settled, names only the failures.
   */
  const createMany = async (ref: ResourceRef, items: CreateManyItem[]): Promise<CreateManyFailure[]> => {
    if (!Array.isArray(items)) throw errors.badRequest('createMany takes an array of [namespace, object] items');
    const settled = await Promise.allSettled(items.map((item) => Array.isArray(item) && item.length === 2
      ? client.create(ref, item[0] as string | undefined, item[1] as KubeObject)
      : Promise.reject(errors.badRequest('a createMany item is [namespace, object]'))));
    const failed: CreateManyFailure[] = [];
    for (let i = 0; i < settled.length; i++) {
      const r = settled[i]!;
      if (r.status === 'rejected') failed.push([i, statusOf(r.reason)]);
    }
    return failed;
  };

  const call = (op: string, a: unknown[]): Promise<unknown> => {
    const ref = a[0] as ResourceRef;
    const ns = a[1] as string | undefined;
    switch (op) {
      case 'get': return client.get(ref, ns, a[2] as string);
      case 'list': return jsonLister ? jsonLister.listJson(ref, ns, a[2] as Parameters<Client['list']>[2]) : client.list(ref, ns, a[2] as Parameters<Client['list']>[2]);
      case 'create': return client.create(ref, ns, a[2] as KubeObject, a[3] as string | undefined);
      case 'update': return client.update(ref, ns, a[2] as KubeObject, a[3] as UpdateSubresource | undefined);
      case 'patch': return client.patch(ref, ns, a[2] as string, a[3] as PatchType, a[4], a[5] as UpdateSubresource | undefined);
      case 'delete': return client.delete(ref, ns, a[2] as string, a[3] as Parameters<Client['delete']>[3]);
      case 'createMany': return createMany(ref, a[1] as CreateManyItem[]);
      default: return Promise.reject(new Error(`unknown operation ${op}`));
    }
  };

  const watch = async (id: number, a: unknown[]): Promise<void> => {
    const w = await client.watch(a[0] as ResourceRef, a[1] as string | undefined, a[2] as WatchOptions, (ev) => {
      if (!closed) out.send({ w: id, type: ev.type, json: jsonOf(ev) });
    });
    if (closed) { w.close(); return; }
    watches.set(id, w);
    void w.done.then(() => {
      if (watches.get(id) === w) watches.delete(id);
      out.send({ w: id, end: true });
    });
  };

  const handle = (m: ToServer): void => {
    if ('unwatch' in m) {
      watches.get(m.unwatch)?.close();
      return;
    }
    const { id, op, args } = m;
    const p = op === 'watch' ? watch(id, args) : call(op, args);
    p.then(
      (value) => out.send(value === undefined ? { id, ok: true } : { id, ok: true, value }),
      (err) => out.send({ id, ok: false, status: statusOf(err) }),
    );
  };

  port.on('message', (batch: ToServer[]) => {
    for (const m of batch) handle(m);
  });
  return {
    get watches() { return watches.size; },
    close() {
      if (closed) return;
      closed = true;
      for (const w of watches.values()) w.close();
      watches.clear();
      out.flush();
      out.close();
      port.close();
    },
  };
}
