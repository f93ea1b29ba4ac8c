/**
 * The web UI's one multiplexed watch stream (`GET /ui/stream`): several list+watches of the user's
 * choosing over a single long-lived response, each as the user (every list and watch authorized by
 * RBAC as if the browser had made it). Upstream has no such endpoint — Headlamp and the Kubernetes
 * Dashboard open one watch per resource, which a browser's six HTTP/1.1 connections per host cap.
 *
 *   ?w={"id":"pods","group":"","version":"v1","resource":"pods","namespace"?,"labelSelector"?,"fieldSelector"?,"resourceVersion"?}  (repeated)
 *   → one JSON line per message: {"id","type":"LIST","items","resourceVersion"} | {"id","type":"ADDED|MODIFIED|DELETED","object"}
 *     | {"id","type":"BOOKMARK","resourceVersion"} | {"id","type":"ERROR","status"} | {"type":"PING"}
 *
 * With a resourceVersion the watch resumes after it (a reconnect); a 410 Gone relists and sends a
 * fresh LIST, which replaces what the browser holds, so a reconnect never duplicates rows.
 *
 * A LIST goes out in pages read with limit/continue at one revision (`"page":N`, `"more":true` on
 * all but the last): a small first page, so the browser shows rows before the rest is read, then
 * larger ones, each written only once the previous one left (backpressure) — 30,000 pods were one
 * 30 MB line that took the server a second to read and the browser a long task to parse.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../apis/object.ts';
import type { Client, ClientWatch, ResourceRef } from '../../client/client.ts';
import { ApiError, errors } from '../../errors/index.ts';
import type { ApiRequest } from '../../api/handler-chain.ts';
import type { Route } from '../../api/route-table.ts';

/** One watch the browser asks for. */
export interface StreamWatch extends ResourceRef {
  id: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

/** At most this many watches on one stream: a view needs a handful. */
export const MAX_WATCHES_PER_STREAM = 16;
const PING_MS = 15_000;
/** The first page of a LIST: enough to fill a screen. */
export const FIRST_PAGE = 100;
/** Later pages: large enough that the reads stay few, small enough to parse within a frame. */
export const PAGE = 500;

/** The watches of a request's query, validated; a 400 for anything malformed. */
export function parseStreamWatches(values: readonly string[]): StreamWatch[] {
  if (!values.length) throw errors.badRequest('at least one w= watch is required');
  if (values.length > MAX_WATCHES_PER_STREAM) throw errors.badRequest(`at most ${MAX_WATCHES_PER_STREAM} watches per stream`);
  const ids = new Set<string>();
  return values.map((v) => {
    let w: Record<string, unknown>;
    try { w = JSON.parse(v); } catch { throw errors.badRequest(`w is not JSON: ${v.slice(0, 100)}`); }
    const str = (k: string, required: boolean) => {
      const x = w[k];
      if (x === undefined || x === '') { if (required && k !== 'group') throw errors.badRequest(`w.${k} is required`); return k === 'group' ? '' : undefined; }
      if (typeof x !== 'string') throw errors.badRequest(`w.${k} must be a string`);
      return x;
    };
    const out: StreamWatch = {
      id: str('id', true)!, group: str('group', true)!, version: str('version', true)!, resource: str('resource', true)!,
      namespace: str('namespace', false), labelSelector: str('labelSelector', false), fieldSelector: str('fieldSelector', false),
      resourceVersion: str('resourceVersion', false),
    };
    if (ids.has(out.id)) throw errors.badRequest(`watch id ${out.id} given twice`);
    ids.add(out.id);
    return out;
  });
}

/** managedFields are of no use to a browser and are often a third of an object. */
function slim(o: KubeObject): KubeObject {
  const m = o.metadata as Record<string, unknown> | undefined;
  if (!m || !('managedFields' in m)) return o;
  const { managedFields: _, ...rest } = m;
  return { ...o, metadata: rest } as KubeObject;
}

/**
 * Runs one watch until `closed()`: list (unless resuming) → watch → on 410 relist. Messages go to
 * `send`. Ends with an ERROR message when the user may not list or watch it.
 */
async function runWatch(client: Client, w: StreamWatch, send: Send, closed: () => boolean, track: (h: ClientWatch | undefined) => void): Promise<void> {
  let rv = w.resourceVersion;
  const opts = { labelSelector: w.labelSelector, fieldSelector: w.fieldSelector };
  while (!closed()) {
    if (!rv) {
      rv = await listInPages(client, w, send, closed);
      if (rv === undefined) continue;
      if (closed()) return;
    }
    let gone = false;
    let failed = false;
    const h = await client.watch(w, w.namespace, { ...opts, resourceVersion: rv, allowBookmarks: true }, (ev) => {
      if (ev.type === 'ERROR') {
        const status = ev.object as unknown as { code?: number };
        if (status.code === 410) { gone = true; return; }
        failed = true;
        send({ id: w.id, type: 'ERROR', status: ev.object });
        return;
      }
      const evRv = (ev.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (evRv) rv = evRv;
      if (ev.type === 'BOOKMARK') send({ id: w.id, type: 'BOOKMARK', resourceVersion: rv });
      else send({ id: w.id, type: ev.type, object: slim(ev.object) });
    });
    track(h);
    await h.done;
    track(undefined);
    if (closed() || failed) return;
    // 410: the start point was compacted away — relist. Any other end: resume from the last one.
    if (gone) rv = undefined;
    else await new Promise((r) => setTimeout(r, 500));
  }
}

/** Writes one message; resolves once the response can take more (backpressure). */
type Send = (m: object) => void | Promise<void>;

/**
 * Sends one LIST in pages; returns its resourceVersion, or undefined when a continue token expired
 * mid-list (410: compacted) and the list must start over.
 */
export async function listInPages(client: Client, w: StreamWatch, send: Send, closed: () => boolean): Promise<string | undefined> {
  let cont: string | undefined;
  let rv = '';
  for (let page = 0; page === 0 || (cont && !closed()); page++) {
    let list;
    try {
      list = await client.list(w, w.namespace, { labelSelector: w.labelSelector, fieldSelector: w.fieldSelector, limit: page === 0 ? FIRST_PAGE : PAGE, continue: cont });
    } catch (err) {
      if (page > 0 && err instanceof ApiError && err.http === 410) return undefined;
      throw err;
    }
    cont = list.continue;
    rv = list.resourceVersion;
    await send({ id: w.id, type: 'LIST', items: list.items.map(slim), resourceVersion: rv, page, ...(cont ? { more: true } : {}) });
  }
  return rv;
}

/** The route: `clientFor` gives a Client acting as the request's user. */
export function uiStreamRoute(clientFor: (r: ApiRequest) => Client): Route {
  return {
    path: '/ui/stream',
    async handle(r: ApiRequest, res: ServerResponse) {
      // The path is below the public shell; the data is not.
      if (!r.user.groups.includes('system:authenticated')) throw errors.unauthorized();
      const watches = parseStreamWatches(r.target.query.getAll('w'));
      const client = clientFor(r);
      let closed = false;
      const handles = new Map<string, ClientWatch>();
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      const send: Send = (m) => {
        if (closed || res.write(JSON.stringify(m) + '\n')) return;
        return new Promise<void>((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      };
      const ping = setInterval(() => send({ type: 'PING' }), PING_MS);
      const finished = new Promise<void>((resolve) => res.once('close', () => {
        closed = true;
        clearInterval(ping);
        for (const h of handles.values()) h.close();
        resolve();
      }));
      send({ type: 'PING' });
      for (const w of watches) {
        void runWatch(client, w, send, () => closed, (h) => { if (h) handles.set(w.id, h); else handles.delete(w.id); })
          .catch((err) => send({ id: w.id, type: 'ERROR', status: err instanceof ApiError ? err.toStatus() : { code: 500, message: String(err) } }));
      }
      await finished;
    },
  };
}
