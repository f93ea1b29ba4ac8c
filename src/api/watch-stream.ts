/**
 * Streams watch events to one HTTP client: one JSON object per line, flushed per event. A client that
 * stops reading gets its events buffered up to a bound; past it the watch is closed (the client
 * re-lists), so one slow watcher never holds memory or other watchers hostage. A dropped connection
 * frees the watch at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiWatchEvent, WatchHandle } from '../registry/store-watch.ts';

/** Bytes a watcher may have queued (unsent) before it is cut off, beyond its initial events. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export interface WatchStream {
  send(ev: ApiWatchEvent): void;
  end(): void;
  attach(handle: WatchHandle): void;
  readonly closed: boolean;
}

/**
 * `encode` returns the event as a value to serialize, or as a ready JSON line (without the newline).
 * Writes within one tick are corked into one socket write.
 */
export function openWatchStream(req: IncomingMessage, res: ServerResponse, encode: (ev: ApiWatchEvent) => unknown, timeoutSeconds?: number): WatchStream {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  let handle: WatchHandle | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let corked = false;
  // The initial ADDED events (a watch without resourceVersion: the whole current state) are written
  // in one burst before the watch is attached; that burst is the list the server already holds, so
  // it does not count against the bound — a reading client of a state over 16 MiB was cut off
  // after a few hundred events, every time. What it leaves unsent at attach time raises the bound.
  let allowance = Infinity;
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    handle?.close();
    res.end();
  };
  req.on('close', close);
  res.on('close', close);
  // Node's timers hold at most 2^31-1 ms (~24.8 days); a longer timeout means "no timeout" in practice.
  if (timeoutSeconds && timeoutSeconds > 0) timer = setTimeout(close, Math.min(timeoutSeconds * 1000, 2 ** 31 - 1));
  return {
    get closed() { return closed; },
    attach(h) { handle = h; allowance = res.writableLength; if (closed) h.close(); },
    end: close,
    send(ev) {
      if (closed) return;
      if (res.writableLength > MAX_BUFFERED + allowance) { close(); return; }
      const e = encode(ev);
      if (!corked) { corked = true; res.cork(); process.nextTick(() => { corked = false; res.uncork(); }); }
      res.write((typeof e === 'string' ? e : JSON.stringify(e)) + '\n');
    },
  };
}
