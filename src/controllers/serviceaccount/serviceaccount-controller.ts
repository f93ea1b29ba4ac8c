/**
 * The ServiceAccounts controller (pkg/controller/serviceaccount/serviceaccounts_controller.go): makes
 * sure every namespace that is not Terminating has a `default` ServiceAccount, re-creating it when
 * deleted. Keys are namespace names.
 */
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';

/** core/v1 ServiceAccounts. */
export const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

/** The ServiceAccount reconciler; see the file comment. */
export class ServiceAccountController implements Reconciler {
  readonly name = 'serviceaccount';
  readonly queue = new RateLimitedQueue();
  private readonly sas: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    factory.forResource(R.namespaces).addHandlers(enqueueHandlers(this.queue));
    this.sas = factory.forResource(SERVICE_ACCOUNTS);
    this.sas.addHandlers({ delete: (sa) => { if (sa.metadata.name === 'default') this.queue.add(sa.metadata.namespace!); } });
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(ns: ObjectKey): Promise<void> {
    let nsObj;
    try {
      nsObj = await this.client.get(R.namespaces, undefined, ns);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') return;
    if (this.sas.get(`${ns}/default`)) return;
    try {
      await this.client.create(SERVICE_ACCOUNTS, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
      this.log?.debug('created default service account', { namespace: ns });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
