/**
 * The browser's end of /ui/stream (src/server/ui/ui-stream.ts): one long-lived response carrying
 * every list+watch a view needs — a browser holds six HTTP/1.1 connections per host, so one watch
 * per kind would starve its other requests. On a dropped connection it says so, retries with
 * back-off, and resumes each watch from its last resourceVersion (the server relists on 410 Gone,
 * and the LIST replaces what the store holds): no duplicate and no stale rows. No polling.
 */
import { token, onUnauthorized } from './api.ts';
import { ObjectStore, type StreamMessage } from './object-store.ts';

export interface WatchSpec {
  id: string;
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export type StreamState = 'connecting' | 'live' | 'outage';

export class WatchStream {
  readonly stores = new Map<string, ObjectStore>();
  state: StreamState = 'connecting';
  /** When the current outage began (ms), for the banner. */
  outageSince = 0;
  private abort?: AbortController;
  private stopped = false;
  private retryMs = 500;
  private timer?: ReturnType<typeof setTimeout>;
  private pending = false;

  /** `onChange` runs at most once per animation frame, however many events arrive. */
  constructor(readonly specs: readonly WatchSpec[], private readonly onChange: () => void) {
    for (const s of specs) this.stores.set(s.id, new ObjectStore());
    void this.run();
  }

  store(id: string): ObjectStore {
    return this.stores.get(id)!;
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private changed(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.onChange(); });
  }

  private setState(s: StreamState): void {
    if (s === this.state) return;
    if (s === 'outage') this.outageSince = Date.now();
    this.state = s;
    this.changed();
  }

  private url(): string {
    const q = new URLSearchParams();
    for (const s of this.specs) {
      const rv = this.store(s.id).resourceVersion;
      q.append('w', JSON.stringify({ ...s, resourceVersion: rv || undefined }));
    }
    return `/ui/stream?${q}`;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const res = await fetch(this.url(), { headers: token.get() ? { Authorization: `Bearer ${token.get()}` } : {}, signal: this.abort.signal });
        if (res.status === 401) { for (const f of onUnauthorized) f(); return; }
        if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
        await this.read(res.body);
      } catch {
        // a drop, a refused connection, or our own abort
      }
      if (this.stopped) return;
      this.setState('outage');
      await new Promise((r) => { this.timer = setTimeout(r, this.retryMs); });
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    // A line's parts so far: only each new chunk is searched for the end of a line (appending to
    // one string and searching it whole was quadratic in a large LIST page).
    let parts: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const chunk = decoder.decode(value, { stream: true });
      let from = 0;
      let nl: number;
      let any = false;
      while ((nl = chunk.indexOf('\n', from)) >= 0) {
        parts.push(chunk.slice(from, nl));
        from = nl + 1;
        const line = parts.length === 1 ? parts[0] : parts.join('');
        parts = [];
        if (!line) continue;
        const m = JSON.parse(line) as StreamMessage;
        if (this.state !== 'live') { this.state = 'live'; this.retryMs = 500; any = true; }
        if (m.type !== 'PING' && this.stores.get(m.id)?.apply(m)) any = true;
      }
      if (from < chunk.length) parts.push(chunk.slice(from));
      if (any) this.changed();
    }
  }
}
