/**
 * An agent never runs a pod the cluster has moved (issue 16, fencing; the kubelet's nearest is its
 * start-up reconciliation, which trusts whatever the API lists for its node). Three rules, applied
 * at start (readopt.ts), on every pod event (the filtered informer below, which PodSource follows)
 * and on re-connecting after a partition (sweepMovedPods, before the heartbeat vouches for the node
 * again):
 *   - a pod whose object is gone, or bound to another node, is stopped;
 *   - a pod carrying a fence (ANN_FENCE) that names this node is stopped and never started: the
 *     fencing controller has begun moving it, and its replacement (another uid) may already run.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_FENCE, parseFence } from '../../apis/volumes/replicated.ts';
import { R, type Client } from '../../client/client.ts';
import type { InformerHandlers } from '../../client/controller-types.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { Logger } from '../../util/log.ts';
import type { TableWorker, WorkerTable } from './worker-table.ts';
import { Heartbeat, heartbeatPath } from '../node/heartbeat.ts';

/** Whether `pod` carries a fence naming `nodeName` (for this very pod, when the fence names one). */
export function fencedHere(pod: KubeObject, nodeName: string): boolean {
  const f = parseFence(pod.metadata.annotations?.[ANN_FENCE]);
  return !!f && f.node === nodeName && (!f.pod || f.pod === pod.metadata.uid);
}

/** Whether this node may run `pod`: bound here and not fenced here. */
export function mayRunHere(pod: KubeObject, nodeName: string): boolean {
  return pod.spec?.nodeName === nodeName && !fencedHere(pod, nodeName);
}

type PodInformer = Pick<SharedInformer, 'addHandlers' | 'removeHandlers' | 'list'>;

/**
 * The pod informer as the pod source should see it: pods this node may not run are absent — a pod
 * that becomes fenced arrives as its deletion, so its worker stops its containers.
 */
export class RunnablePods implements PodInformer {
  private readonly wrapped = new Map<InformerHandlers, InformerHandlers>();

  constructor(private readonly informer: PodInformer, private readonly nodeName: string, private readonly log?: Logger) {}

  list(namespace?: string): KubeObject[] {
    return this.informer.list(namespace).filter((p) => mayRunHere(p, this.nodeName));
  }

  addHandlers(h: InformerHandlers): void {
    const ok = (p: KubeObject) => mayRunHere(p, this.nodeName);
    const w: InformerHandlers = {
      add: (p) => { if (ok(p)) h.add?.(p); },
      update: (old, p) => {
        if (ok(p)) return ok(old) ? h.update?.(old, p) : h.add?.(p);
        if (!ok(old)) return;
        this.log?.warn('pod fenced away from this node: stopping it', { pod: `${p.metadata.namespace}/${p.metadata.name}`, fence: p.metadata.annotations?.[ANN_FENCE] });
        h.delete?.(old);
      },
      delete: (p) => { if (ok(p)) h.delete?.(p); },
    };
    this.wrapped.set(h, w);
    this.informer.addHandlers(w);
  }

  removeHandlers(h: InformerHandlers): void {
    const w = this.wrapped.get(h);
    if (!w) return;
    this.wrapped.delete(h);
    this.informer.removeHandlers(w);
  }
}

/**
 * On re-connecting (the first Lease renewal after failures): reads the pods bound here from the API
 * itself — the informer may still be re-listing — and stops every worker whose pod is gone, bound
 * elsewhere or fenced here, waiting up to 3 s for their containers to stop (the Lease loop waits on
 * this, and the next renewal must come within the grace). Throws when the API
 * cannot be read: the caller then keeps the heartbeat stale, so the shims keep fencing.
 */
export async function sweepMovedPods<W extends TableWorker>(o: { client: Client; nodeName: string; workers: WorkerTable<W>; log: Logger; waitMs?: number }): Promise<number> {
  const list = await o.client.list(R.pods, undefined, { fieldSelector: `spec.nodeName=${o.nodeName}` });
  const runnable = new Set(list.items.filter((p) => mayRunHere(p, o.nodeName)).map((p) => p.metadata.uid!));
  const stopped: W[] = [];
  for (const w of [...o.workers]) {
    if (runnable.has(w.uid)) continue;
    o.log.warn('pod moved or deleted while this node was away: stopping it', { pod: `${w.pod.metadata.namespace}/${w.pod.metadata.name}`, uid: w.uid });
    w.remove();
    stopped.push(w);
  }
  let t: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(stopped.map((w) => w.done)), new Promise((r) => { t = setTimeout(r, o.waitMs ?? 3000); })]);
  clearTimeout(t);
  return stopped.length;
}

export interface SelfFencingOptions<W extends TableWorker> {
  /** fenceAfter in seconds; absent or 0: this node does not self-fence (berth up's single node). */
  afterSeconds?: number;
  dataDir: string;
  client: Client;
  nodeName: string;
  workers: WorkerTable<W>;
  log: Logger;
}

/** What the agent wires for self-fencing: the containers' part, the Lease loop's part, and arming. */
export interface SelfFencing {
  /** For the workers' container specs (stateful pods only); undefined when off. */
  spec?: { heartbeatFile: string; afterMs: number };
  /** For registerAgentNode; undefined when off. */
  node?: { afterSeconds: number; onRenewed(sentAt: number): void; onResume(): Promise<void> };
  /** Called once re-adoption has stopped what moved: the heartbeat is written from now on. */
  arm(): void;
}

/**
 * The agent's self-fencing (see heartbeat.ts and native/shim/fence.c): a disarmed heartbeat fed by
 * the Lease loop, armed after re-adoption, and on re-connecting the sweep before the next beat.
 */
export function selfFencing<W extends TableWorker>(o: SelfFencingOptions<W>): SelfFencing {
  if (!o.afterSeconds) return { arm() {} };
  const heartbeat = new Heartbeat(heartbeatPath(o.dataDir), (err) => o.log.warn('heartbeat not written: stateful containers will fence', { error: err.message }));
  return {
    spec: { heartbeatFile: heartbeat.path, afterMs: Math.round(o.afterSeconds * 1000) },
    node: {
      afterSeconds: o.afterSeconds,
      onRenewed: (at) => heartbeat.renewed(at),
      onResume: async () => {
        const n = await sweepMovedPods({ client: o.client, nodeName: o.nodeName, workers: o.workers, log: o.log });
        o.log.info('API reachable again: pods moved meanwhile stopped before the heartbeat resumes', { stopped: n });
      },
    },
    arm: () => heartbeat.arm(),
  };
}
