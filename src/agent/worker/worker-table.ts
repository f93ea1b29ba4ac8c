/**
 * The node's pod workers by pod uid (the kubelet's podWorkers map): filled by re-adoption and the
 * pod source, read by the stream resolver and image GC. A worker leaves the table once it is done
 * (its pod terminated and cleaned up).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Instance } from './instance.ts';

/** What the table and its users need of a pod worker (PodWorker; tests fake it). */
export interface TableWorker {
  readonly uid: string;
  readonly pod: KubeObject;
  /** Settles when the worker is finished with its pod. */
  readonly done: Promise<void>;
  /** A newer version of the pod from the API. */
  update(pod: KubeObject): void;
  /** The pod is gone from the API: stop and clean up. */
  remove(): void;
  /** Runs a sync soon. */
  schedule(): void;
  instance(containerName: string): Instance | undefined;
  /** The log file of a container's current (or previous) instance, undefined before it first started. */
  logPath(containerName: string, previous: boolean): string | undefined;
}

export class WorkerTable<W extends TableWorker = TableWorker> {
  private readonly byUid = new Map<string, W>();

  /** Adds `w`, which leaves again when it is done. */
  add(w: W): void {
    this.byUid.set(w.uid, w);
    void w.done.then(() => {
      if (this.byUid.get(w.uid) === w) this.byUid.delete(w.uid);
    });
  }

  get(uid: string): W | undefined {
    return this.byUid.get(uid);
  }

  get size(): number {
    return this.byUid.size;
  }

  [Symbol.iterator](): IterableIterator<W> {
    return this.byUid.values();
  }

  /** The worker of pod `namespace/name` (the first one added, while an old pod of that name terminates). */
  byName(namespace: string, name: string): W | undefined {
    for (const w of this.byUid.values()) if (w.pod.metadata.namespace === namespace && w.pod.metadata.name === name) return w;
    return undefined;
  }

  /** Image references of every container of every pod here (what image GC must keep). */
  images(): string[] {
    return [...this.byUid.values()].flatMap((w) => [...(w.pod.spec?.initContainers ?? []), ...(w.pod.spec?.containers ?? [])].map((c: { image?: string }) => c.image ?? ''));
  }
}
