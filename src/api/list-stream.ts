/**
 * A full list answered as a stream (kube-apiserver 1.33's streaming JSON list encoder does the same):
 * the List's head with its resourceVersion, then the items chunk by chunk as the store reads them at
 * one revision, then the tail — so the server never holds the whole body (nor all the objects) of a
 * list of 150,000 pods. A client that stops reading stops the reads (backpressure); one that goes
 * away ends the list. An error after the head cuts the response (the client sees a broken body), as
 * a Status can no longer be sent. Items come as the stored bytes with their resourceVersion where
 * nothing changes them on read (list-reader.ts listJsonItems), not as objects to stringify. The list
 * shares the event loop: it reads and writes in slices of at most LIST_SLICE_MS, then lets the loop
 * turn, so the server's other requests are not held behind it (issue 19: a mutation waited behind
 * lists of 150,000 pods — each 500-item chunk written in one go — and their garbage's scavenges).
 */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util.ts';
import type { ListOptions, ResourceStore } from '../registry/resource-store.ts';
import { LIST_SLICE_MS, listJson, listJsonItems, nextTurn, type JsonItem } from '../registry/list-reader.ts';

/**
 * Bytes a streamed list gathers before a write: the items are copied into one buffer, written, and
 * the buffer is filled again once the socket has taken it. Building each item's text (the stored
 * value with its resourceVersion) and joining items into strings put the whole body — 688 MB for
 * 150,000 pods — through the young generation: scavenges every few hundred ms during a list.
 */
const WRITE_BYTES = 256 * 1024;

const wentAway = (): Error => new Error('the client went away during the list');

/** Writes `chunk` and resolves once the socket has taken it (its buffer may be filled again); rejects when the client went away. */
function written(res: ServerResponse, chunk: Buffer | string): Promise<void> {
  if (res.destroyed) return Promise.reject(wentAway());
  return new Promise((resolve, reject) => {
    const gone = (): void => reject(wentAway());
    res.once('close', gone);
    res.write(chunk, (err) => {
      res.off('close', gone);
      if (err) reject(err); else resolve();
    });
  });
}

/** Lists `store` (no limit) straight into `res` as a `<Kind>List`. */
export async function streamList(res: ServerResponse, store: ResourceStore, namespace: string | undefined, opts: Omit<ListOptions, 'stream' | 'limit' | 'continue'>): Promise<void> {
  const buf = Buffer.allocUnsafeSlow(WRITE_BYTES);
  let n = 0;
  let first = true;
  let started = false;
  let sliceStart = performance.now();
  // Writes what the buffer holds; after LIST_SLICE_MS of work, a turn of the loop for the other requests
  // (a TLS write completes on a later turn anyway, a plain socket's at once).
  const flush = async (): Promise<void> => {
    if (n > 0) await written(res, buf.subarray(0, n));
    n = 0;
    if (performance.now() - sliceStart >= LIST_SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  };
  // Copies `s` into the buffer when it fits (UTF-8: at most 3 bytes a UTF-16 unit, else counted).
  const fits = (chars: number, parts: string[]): boolean => {
    const room = WRITE_BYTES - n;
    if (room >= chars * 3) return true;
    let bytes = 0;
    for (const p of parts) bytes += Buffer.byteLength(p);
    return bytes <= room;
  };
  await listJsonItems(store, namespace, {
    ...opts,
    stream: async (items: JsonItem[], resourceVersion: string) => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        n += buf.write(`{"kind":${JSON.stringify(`${store.type.info.kind}List`)},"apiVersion":${JSON.stringify(store.apiVersion)},`
          + `"metadata":{"resourceVersion":${JSON.stringify(resourceVersion)}},"items":[`, n);
      }
      if (res.destroyed) throw wentAway();
      for (const item of items) {
        // The item's parts as they are (slices of the stored value share its bytes): nothing the size
        // of the item is built on the heap.
        const parts = typeof item === 'string' ? [item] : [item.value.slice(0, item.at), item.insert, item.value.slice(item.at)];
        const chars = 1 + (typeof item === 'string' ? item.length : item.value.length + item.insert.length);
        if (!fits(chars, parts)) {
          await flush();
          if (!fits(chars, parts)) {
            // Larger than the buffer (an object near the 3 MB limit): as a string of its own.
            await written(res, (first ? '' : ',') + parts.join(''));
            first = false;
            continue;
          }
        }
        if (!first) buf[n++] = 0x2c; // ','
        first = false;
        for (const p of parts) n += buf.write(p, n);
      }
    },
  });
  await flush();
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
