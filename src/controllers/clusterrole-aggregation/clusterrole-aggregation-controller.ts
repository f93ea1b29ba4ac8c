/**
 * The ClusterRole aggregation controller (pkg/controller/clusterroleaggregation): a ClusterRole with
 * an aggregationRule gets, as its rules, the rules of every ClusterRole its selectors match (name
 * order, each rule once) — so `admin`, `edit` and `view` grow with the roles labelled
 * `rbac.authorization.k8s.io/aggregate-to-<name>: "true"`. Any ClusterRole event re-queues every
 * aggregated ClusterRole; a key is a ClusterRole name. Writes need `escalate` on clusterroles, which
 * its role (system:controller:clusterrole-aggregation-controller) has.
 */
import type { KubeObject } from '../../apis/object.ts';
import { needsAggregation } from '../../auth/rbac/aggregation.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';

export const CLUSTER_ROLES: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

export class ClusterRoleAggregationController implements Reconciler {
  readonly name = 'clusterrole-aggregation';
  readonly queue = new RateLimitedQueue();
  private readonly roles: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    this.roles = factory.forResource(CLUSTER_ROLES);
    const enqueueAggregated = () => {
      for (const r of this.roles.list()) if (r.aggregationRule) this.queue.add(r.metadata.name!);
    };
    this.roles.addHandlers({ add: enqueueAggregated, update: enqueueAggregated, delete: enqueueAggregated });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(name: ObjectKey): Promise<void> {
    const role = this.roles.get(name);
    if (!role) return;
    const rules = needsAggregation(role, this.roles.list());
    if (!rules) return;
    try {
      // An update from the cached version: a conflict (a newer role) is retried with back-off.
      await this.client.update(CLUSTER_ROLES, undefined, { ...role, rules } as KubeObject);
      this.log?.debug('aggregated cluster role', { name, rules: rules.length });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
