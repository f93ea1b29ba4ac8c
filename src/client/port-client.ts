/**
 * A `Client` over a MessagePort: a component in a worker thread talks to the API server of its
 * process through it, answered by `servePort` (port-server.ts) on the other side. The third Client
 * beside the in-process and the HTTP ones (client-go's rest client, with a thread boundary for a
 * wire), passing the same behaviour suite (client.case.ts).
 *
 * Errors arrive as the API's Status and are thrown as `HttpStatusError`s (errors.ts), so `isNotFound`,
 * `isConflict`… and `code`/`reason` read as over HTTP. Watch events arrive as JSON text and are
 * decoded here, in the component's thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatch, ClientWatchEvent, ListOptions, ObjectList, PatchType, ResourceRef, UpdateSubresource, WatchOptions } from './client.ts';
import { HttpStatusError } from './errors.ts';
import { internalStatus, PortOutbox, type CreateManyFailure, type CreateManyItem, type JsonList, type PortOp, type ToClient, type ToServer } from './port-protocol.ts';
import { watchEnd } from './watch-end.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** A watch's start: on close it resolves, as a watch the server ended at once (not an error). */
  watch?: boolean;
}

interface OpenWatch {
  onEvent(ev: ClientWatchEvent): void;
  finish(): void;
}

/** A Client whose calls are answered on the other end of `port`. */
export class PortClient implements Client {
  private readonly out: PortOutbox<ToServer>;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<number, OpenWatch>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly port: MessagePort) {
    this.out = new PortOutbox(port);
    port.on('message', (batch: ToClient[]) => {
      for (const m of batch) this.receive(m);
    });
    // A port whose other end went away fails what waits on it, as a dropped connection does.
    port.on('close', () => this.close());
  }

  private receive(m: ToClient): void {
    if ('w' in m) {
      const w = this.watches.get(m.w);
      if (!w) return;
      if ('end' in m) { w.finish(); return; }
      let object: KubeObject;
      try {
        object = JSON.parse(m.json) as KubeObject;
      } catch {
        return;
      }
      w.onEvent({ type: m.type, object });
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new HttpStatusError(m.status));
  }

  private call<T>(op: PortOp, args: unknown[], id = this.nextId++): Promise<T> {
    if (this.closed) return Promise.reject(new HttpStatusError(internalStatus('the port client is closed')));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, watch: op === 'watch' });
      this.out.send({ id, op, args });
    });
  }

  get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.call('get', [ref, namespace, name]);
  }

  /** A list; its items decoded here when the serving side sent them as JSON text (JsonList). */
  async list(ref: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList> {
    const res = await this.call<ObjectList | JsonList>('list', [ref, namespace, opts]);
    if (!('itemsJson' in res)) return res;
    const list: ObjectList = { items: JSON.parse(res.itemsJson) as KubeObject[], resourceVersion: res.resourceVersion };
    if (res.continue) list.continue = res.continue;
    return list;
  }

  async watch(ref: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch> {
    const id = this.nextId++;
    const end = watchEnd(() => this.watches.delete(id));
    const finish = end.finish;
    // Registered before the request: the initial events can come before the reply.
    this.watches.set(id, {
      onEvent: (ev) => {
        if (end.finished) return;
        try {
          onEvent(ev);
        } catch {
          // A throwing handler must not break the other watches' delivery.
        }
      },
      finish,
    });
    try {
      await this.call('watch', [ref, namespace, opts], id);
    } catch (err) {
      finish();
      throw err;
    }
    return {
      done: end.done,
      close: () => {
        if (end.finished) return;
        finish();
        this.out.send({ unwatch: id });
      },
    };
  }

  create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    return this.call('create', [ref, namespace, obj, subresource]);
  }

  /**
   * Creates many objects of one resource in one request: the serving thread starts them all in one
   * turn (one group commit) and answers once. Resolves with one entry per item: undefined when it
   * was created, else its error (never rejects for an item's failure; a closed port fails them all).
   */
  async createMany(ref: ResourceRef, items: { namespace: string | undefined; object: KubeObject }[]): Promise<(HttpStatusError | undefined)[]> {
    const results: (HttpStatusError | undefined)[] = new Array(items.length).fill(undefined);
    if (!items.length) return results;
    let failed: CreateManyFailure[];
    try {
      failed = await this.call<CreateManyFailure[]>('createMany', [ref, items.map((i): CreateManyItem => [i.namespace, i.object])]);
    } catch (err) {
      return results.fill(err as HttpStatusError);
    }
    for (const [i, status] of failed) results[i] = new HttpStatusError(status);
    return results;
  }

  update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: UpdateSubresource): Promise<KubeObject> {
    return this.call('update', [ref, namespace, obj, subresource]);
  }

  patch(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: UpdateSubresource): Promise<KubeObject> {
    return this.call('patch', [ref, namespace, name, type, patch, subresource]);
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts?: Parameters<Client['delete']>[3]): Promise<void> {
    await this.call('delete', [ref, namespace, name, opts]);
  }

  /** Fails what waits and ends every watch; later calls reject. The port itself is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    const err = new HttpStatusError(internalStatus('the port client is closed'));
    for (const w of [...this.watches.values()]) w.finish();
    for (const p of this.pending.values()) {
      if (p.watch) p.resolve(undefined);
      else p.reject(err);
    }
    this.pending.clear();
  }
}
