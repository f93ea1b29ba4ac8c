/**
 * The Deployment controller (pkg/controller/deployment/deployment_controller.go): wiring only —
 * informer events become Deployment keys; each key's sync claims the Deployment's ReplicaSets
 * (adopting matching orphans, releasing ones that stopped matching) and hands them to
 * {@link DeploymentSync}, which holds the rollout policy.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  APPS, CONTROLLER_UID_INDEX, ORPHAN_INDEX, claimCandidates, claimObjects, controllerRefOf, controllerUidIndex, newControllerRef, orphanIndex,
  selectorOf, controllerEvents,
  type ControllerEvents, type SharedEventRecorder,
} from '../controller-utils.ts';
import { DeploymentSync } from './deployment-sync.ts';

const COMPONENT = 'deployment-controller';

/** The Deployment reconciler over shared informers; see the file comment. */
export class DeploymentController implements Reconciler {
  readonly name = 'deployment';
  readonly queue = new RateLimitedQueue();
  private readonly dInformer: SharedInformer;
  private readonly rsInformer: SharedInformer;
  private readonly podInformer: SharedInformer;
  private readonly events: ControllerEvents;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder } = {}) {
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.dInformer = factory.forResource(APPS.deployments);
    this.rsInformer = factory.forResource(APPS.replicasets);
    this.podInformer = factory.forResource(R.pods);
    this.podInformer.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.rsInformer.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.rsInformer.addIndex(ORPHAN_INDEX, orphanIndex);
    this.dInformer.addHandlers(enqueueHandlers(this.queue));
    this.rsInformer.addHandlers(enqueueHandlers(this.queue, (rs) => this.deploymentsFor(rs)));
    // Recreate waits for old pods to go: their deletion wakes the Deployment.
    this.podInformer.addHandlers({
      delete: (pod) => {
        const ref = controllerRefOf(pod);
        const rs = ref?.kind === 'ReplicaSet' ? this.rsInformer.get(`${pod.metadata.namespace}/${ref.name}`) : undefined;
        if (rs) for (const k of this.deploymentsFor(rs)) this.queue.add(k);
      },
    });
  }

  /** Starts `workers` reconcile loops (the informers are started by the factory). */
  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  /** The owning Deployment's key, or for an orphan every Deployment whose selector matches it. */
  private deploymentsFor(rs: KubeObject): ObjectKey[] {
    const ref = controllerRefOf(rs);
    if (ref) {
      if (ref.kind !== 'Deployment') return [];
      const d = this.dInformer.get(`${rs.metadata.namespace}/${ref.name}`);
      return d && d.metadata.uid === ref.uid ? [keyOf(d)] : [];
    }
    return this.dInformer.list(rs.metadata.namespace).filter((d) => selectorOf(d).matches(rs.metadata.labels)).map(keyOf);
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const cached = this.dInformer.get(key);
    if (!cached) return;
    const d = structuredClone(cached);
    const sel = d.spec?.selector;
    if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) {
      // An empty selector would select every pod in the namespace: refuse, as Kubernetes does.
      void this.events.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Its own ReplicaSets and its namespace's orphans (claimCandidates), not every ReplicaSet there.
    const candidates = claimCandidates(this.rsInformer, d);
    const rsList = await claimObjects(this.client, APPS.replicasets, d, newControllerRef(d, 'apps/v1', 'Deployment'), selectorOf(d), candidates, this.log);
    await new DeploymentSync({
      client: this.client, rsInformer: this.rsInformer, podInformer: this.podInformer, log: this.log, events: this.events,
      requeueAfter: (ms) => this.queue.addAfter(key, ms),
    }, d, rsList).run();
  }
}
