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
  /** Requests waiting for a seat (for tests and diagnostics). */
  readonly queued: number;
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

/**
 * Requests of one port in progress on this thread at most; the rest wait here, in order. The
 * scheduler's thread keeps up to 1,024 bindings in flight (its replies cross two event loops, so it
 * needs that many to stay busy), and with all of them in progress every turn of this thread's loop
 * carried hundreds of their continuations: an HTTP request, needing a handful of turns, waited
 * 0.5 s (median) to 6.5 s (p99) — bench sched's node patches while the scheduler bound, which is
 * why lifting the hold taint from 1,000 nodes took longer than binding 10,000 pods. kube-apiserver
 * bounds each priority level's requests in progress the same way (API Priority and Fairness: seats
 * per level, the rest queued), so no one client's flood holds back the others'. Watches take no seat.
 */
export const PORT_SEATS = 256;

/** Serves `port` from `client` until closed. */
export function servePort(port: MessagePort, client: Client, seats = PORT_SEATS): PortServer {
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

  let busy = 0;
  const waiting: Array<{ id: number; op: string; args: unknown[] }> = [];
  let head = 0;
  const start = (id: number, op: string, args: unknown[]): void => {
    busy++;
    call(op, args).then(
      (value) => out.send(value === undefined ? { id, ok: true } : { id, ok: true, value }),
      (err) => out.send({ id, ok: false, status: statusOf(err) }),
    ).finally(() => {
      busy--;
      if (head < waiting.length && !closed) {
        const next = waiting[head]!;
        waiting[head++] = undefined!;
        if (head === waiting.length) { waiting.length = 0; head = 0; }
        start(next.id, next.op, next.args);
      }
    });
  };

  const handle = (m: ToServer): void => {
    if ('unwatch' in m) {
      watches.get(m.unwatch)?.close();
      return;
    }
    const { id, op, args } = m;
    if (op === 'watch') {
      watch(id, args).then(
        (value) => out.send(value === undefined ? { id, ok: true } : { id, ok: true, value }),
        (err) => out.send({ id, ok: false, status: statusOf(err) }),
      );
      return;
    }
    if (busy < seats) start(id, op, args);
    else waiting.push({ id, op, args });
  };

  port.on('message', (batch: ToServer[]) => {
    for (const m of batch) handle(m);
  });
  return {
    get watches() { return watches.size; },
    get queued() { return waiting.length - head; },
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
