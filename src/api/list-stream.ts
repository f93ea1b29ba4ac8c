/**
 * A full list answered as a stream (kube-apiserver 1.33's streaming JSON list encoder does the same):
 * the List's head with its resourceVersion, then the items chunk by chunk as the store reads them at
 * one revision, then the tail — so the server never holds the whole body (nor all the objects) of a
 * list of 150,000 pods. A client that stops reading stops the reads (backpressure); one that goes
 * away ends the list. An error after the head cuts the response (the client sees a broken body), as
 * a Status can no longer be sent. Items come as JSON text (list-reader.ts listJson: the stored bytes
 * with their resourceVersion where nothing changes them on read), not as objects to stringify.
 */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util.ts';
import type { ListOptions, ResourceStore } from '../registry/resource-store.ts';
import { listJson } from '../registry/list-reader.ts';

/** Items per write of a streamed list. */
const WRITE_ITEMS = 32;

/** Resolves once `res` can take more, rejects when the client went away. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => { res.off('drain', done); res.off('close', gone); resolve(); };
    const gone = (): void => { res.off('drain', done); res.off('close', gone); reject(new Error('the client went away during the list')); };
    res.on('drain', done);
    res.on('close', gone);
  });
}

/** Lists `store` (no limit) straight into `res` as a `<Kind>List`. */
export async function streamList(res: ServerResponse, store: ResourceStore, namespace: string | undefined, opts: Omit<ListOptions, 'stream' | 'limit' | 'continue'>): Promise<void> {
  let first = true;
  let started = false;
  await listJson(store, namespace, {
    ...opts,
    stream: async (items: string[], resourceVersion: string) => {
      let out = '';
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        out = `{"kind":${JSON.stringify(`${store.type.info.kind}List`)},"apiVersion":${JSON.stringify(store.apiVersion)},`
          + `"metadata":{"resourceVersion":${JSON.stringify(resourceVersion)}},"items":[`;
      }
      if (res.destroyed) throw new Error('the client went away during the list');
      // Written WRITE_ITEMS at a time: a string of a whole chunk (500 items, ~1.3 MB of pods) would
      // land in V8's large-object space, garbage only a full GC frees; small ones die young.
      let more = true;
      for (let i = 0; i < items.length; i += WRITE_ITEMS) {
        out += (first ? '' : ',') + items.slice(i, i + WRITE_ITEMS).join(',');
        first = false;
        more = res.write(out);
        out = '';
      }
      if (out) more = res.write(out);
      if (!more) await drained(res);
    },
  });
  res.end(']}');
}

/**
 * A limited (or continued) list as one JSON body — `{kind, apiVersion, metadata: {resourceVersion,
 * continue?, remainingItemCount?}, items}`, what sendJson of the List object gives — from the items' JSON text.
 */
export async function sendListPage(res: ServerResponse, store: ResourceStore, namespace: string | undefined, opts: Omit<ListOptions, 'stream'>): Promise<void> {
  const result = await listJson(store, namespace, opts);
  const metadata = `{"resourceVersion":${JSON.stringify(result.resourceVersion)}${result.continue ? `,"continue":${JSON.stringify(result.continue)}` : ''}`
    + `${result.remainingItemCount !== undefined ? `,"remainingItemCount":${result.remainingItemCount}` : ''}}`;
  sendJson(res, 200, `{"kind":${JSON.stringify(`${store.type.info.kind}List`)},"apiVersion":${JSON.stringify(store.apiVersion)},"metadata":${metadata},"items":[${result.items.join(',')}]}`);
}
