/**
 * The scheduler's own list+watch of one resource (no shared informer): list, hand the full set to
 * `replace`, then watch from the list's resourceVersion; when the watch ends or reports an error,
 * list again after a pause. One of these runs for nodes and one for pods.
 */
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatch, ClientWatchEvent, ResourceRef } from '../client/client.ts';
import type { Logger } from '../util/log.ts';

/** What the list+watch delivers. */
export interface ListWatchHandlers {
  replace(items: KubeObject[]): void;
  event(ev: ClientWatchEvent): void;
}

/** A running list+watch. */
export interface ListWatch {
  stop(): void;
}

/** Starts the loop; resolves after the first list has been delivered. */
export async function listAndWatch(client: Client, ref: ResourceRef, log: Logger, handlers: ListWatchHandlers, retryMs = 1000): Promise<ListWatch> {
  let stopped = false;
  let watch: ClientWatch | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function cycle(): Promise<void> {
    const list = await client.list(ref, undefined);
    if (stopped) return;
    handlers.replace(list.items);
    watch = await client.watch(ref, undefined, { resourceVersion: list.resourceVersion, allowBookmarks: true }, (ev) => {
      if (stopped) return;
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') handlers.event(ev);
    });
    if (stopped) { watch.close(); return; }
    void watch.done.then(() => restart());
  }

  function restart(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      cycle().catch((err) => {
        log.warn('scheduler list+watch failed; retrying', { resource: ref.resource, error: String(err) });
        restart();
      });
    }, retryMs);
  }

  await cycle();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      watch?.close();
    },
  };
}
