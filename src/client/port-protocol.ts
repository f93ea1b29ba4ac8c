/**
 * The messages a `PortClient` (port-client.ts) and its server (port-server.ts) exchange over a
 * MessagePort, and the outbox both use to send them. No upstream equivalent: client-go's place is
 * HTTP; this is the same Client contract between two threads of one process.
 *
 * Requests carry their arguments as structured-clone values (refs, small bodies: bindings, events,
 * status patches). Watch events carry the object's JSON text, not the object: the API server already
 * has the stored bytes (store-watch.ts's `raw`), so the serving thread copies a string instead of
 * walking the object graph, and the receiving thread decodes it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Status } from '../errors/index.ts';
import type { ListOptions, ResourceRef, WatchEventType } from './client.ts';

export type PortOp = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'createMany';

/**
 * `createMany`'s arguments: `[ref, items]`, each item `[namespace, object]`; its reply's value lists
 * only the failures, as `[index, Status]`: the created objects are not sent back (the caller of a
 * batch, the scheduler's Scheduled events, does not read them; each would be cloned on both threads).
 */
export type CreateManyItem = [namespace: string | undefined, object: unknown];
export type CreateManyFailure = [index: number, status: Status];

/**
 * A `list` reply as text: the items as one JSON array, decoded by the receiving thread. A served
 * Client that can list stored bytes (the in-process one, `JsonLister`) answers in this form, so the
 * API server's thread neither decodes a listed object nor clones its graph across the port — only a
 * string is copied (the scheduler thread's list of every pod on a cold start).
 */
export interface JsonList {
  itemsJson: string;
  resourceVersion: string;
  continue?: string;
}

/** A Client that can answer a list as JSON text (local-client.ts). */
export interface JsonLister {
  listJson(ref: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<JsonList>;
}

/** Client → server. */
export type ToServer =
  | { id: number; op: PortOp; args: unknown[] }
  | { unwatch: number };

/** Server → client: a reply to request `id`, a watch event, or the end of a watch. */
export type ToClient =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; status: Status }
  | { w: number; type: WatchEventType; json: string }
  | { w: number; end: true };

/**
 * Queues messages and posts what one turn of the event loop queued as one array (setImmediate): a
 * burst of bindings between the scheduler's yields, or the replies and watch events of one turn,
 * cost one postMessage and one wake-up of the other thread instead of one each. The delay is the
 * rest of the current turn.
 */
export class PortOutbox<T> {
  private queued: T[] = [];
  private closed = false;

  constructor(private readonly port: MessagePort) {}

  send(msg: T): void {
    if (this.closed) return;
    this.queued.push(msg);
    if (this.queued.length === 1) setImmediate(() => this.flush());
  }

  /** Posts what is queued now. */
  flush(): void {
    if (!this.queued.length || this.closed) return;
    const batch = this.queued;
    this.queued = [];
    this.port.postMessage(batch);
  }

  /** Drops what is queued; later sends are ignored. */
  close(): void {
    this.closed = true;
    this.queued = [];
  }
}

/** The Status of a failure that was not an API error (a bug, a broken port): 500 InternalError. */
export function internalStatus(message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
