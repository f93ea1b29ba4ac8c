/**
 * Past events from etcd: etcd keeps history only inside its watch machinery, so a catch-up is a
 * one-off watch over ALL keys from `after + 1`, read until the event at `upTo` arrives. Watching all
 * keys (not just the prefix) guarantees that event exists: every revision is some key's write.
 */
import { Range, type Etcd3, type IWatchResponse } from 'etcd3';
import type { WatchEvent } from '../backend.ts';
import { toWatchEvent } from './etcd-events.ts';

/** The byte range covering every key (`\0` to `\0`: from the smallest key, no upper bound). */
export const ALL_KEYS = new Range(Buffer.from([0]), Buffer.from([0]));

/**
 * Events with `after < revision <= upTo` under `prefix`, in revision order. Rejects with the watch's
 * error (the caller maps compaction); the caller checks compaction first, so that is rare.
 */
export function readHistory(client: Etcd3, prefix: string, after: number, upTo: number): Promise<WatchEvent[]> {
  if (upTo <= after) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const out: WatchEvent[] = [];
    let last = after;
    let done = false;
    const watcher = client.watch().inRange(ALL_KEYS).startRevision(String(after + 1)).withPreviousKV().watcher();
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      void watcher.cancel().catch(() => undefined);
      if (err) reject(err);
      else resolve(out);
    };
    watcher.on('data', (res: IWatchResponse) => {
      if (done) return;
      for (const ev of res.events) {
        const event = toWatchEvent(ev);
        if (event.revision < last) continue;
        if (event.revision > upTo) return finish();
        last = event.revision;
        if (event.kv.key.startsWith(prefix)) out.push(event);
      }
      if (last >= upTo) finish();
    });
    // The client resumes from the last header revision on reconnect, which can skip events we have
    // not read yet; resume from the last event we actually have instead.
    watcher.on('disconnected', () => { watcher.request.start_revision = String(last + 1); });
    watcher.on('error', (err: Error) => finish(err));
  });
}
