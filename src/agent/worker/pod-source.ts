/**
 * The pods bound to this node, from the API into the worker table — the kubelet's config source
 * (pkg/kubelet/config/apiserver.go: a watch on pods with spec.nodeName=<node>) feeding its pod
 * workers. The shared informer (src/client/informer.ts) lists, watches and re-lists after a broken
 * watch; each add, update or delete reaches the pod's worker, a new pod gets a new worker.
 *
 * The informer files pods by namespace/name, the workers go by uid: a pod deleted and created
 * again under its name while the watch was down arrives as an update with another uid, which ends
 * the old pod's worker and starts one for the new pod.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { InformerHandlers } from '../../client/controller-types.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { TableWorker, WorkerTable } from './worker-table.ts';

export class PodSource<W extends TableWorker> {
  private readonly handlers: InformerHandlers = {
    add: (pod) => this.upsert(pod),
    update: (old, pod) => {
      if (old.metadata.uid !== pod.metadata.uid) this.removeUid(old.metadata.uid!);
      this.upsert(pod);
    },
    delete: (pod) => this.removeUid(pod.metadata.uid!),
  };

  constructor(
    private readonly informer: Pick<SharedInformer, 'addHandlers' | 'removeHandlers' | 'list'>,
    private readonly workers: WorkerTable<W>,
    private readonly newWorker: (pod: KubeObject) => W,
  ) {}

  /**
   * Follows the informer from now on. Workers already in the table (re-adopted from the informer's
   * first list) whose pod has gone from the informer since are removed.
   */
  start(): void {
    this.informer.addHandlers(this.handlers);
    const live = new Set(this.informer.list().map((p) => p.metadata.uid!));
    for (const w of [...this.workers]) if (!live.has(w.uid)) w.remove();
  }

  /** Events are no longer passed on (the agent is stopping; the workers keep what they run). */
  stop(): void {
    this.informer.removeHandlers(this.handlers);
  }

  private upsert(pod: KubeObject): void {
    const w = this.workers.get(pod.metadata.uid!);
    if (w) return w.update(pod);
    const created = this.newWorker(pod);
    this.workers.add(created);
    created.schedule();
  }

  private removeUid(uid: string): void {
    this.workers.get(uid)?.remove();
  }
}
