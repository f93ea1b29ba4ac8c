/**
 * The root CA publisher (kube-controller-manager's root-ca-cert-publisher,
 * pkg/controller/certificates/rootcacertpublisher/publisher.go): every namespace that is not
 * Terminating gets the ConfigMap `kube-root-ca.crt` holding the cluster CA as `ca.crt` — what the
 * projected ServiceAccount volume mounts so a pod can verify the API server. A changed or deleted
 * ConfigMap is put back. Keys are namespace names.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import type { Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { InformerFactory, InformerScope } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Only the published ConfigMaps are watched. */
export const ROOT_CA_SCOPE: InformerScope = { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` };
const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCaPublisher implements Reconciler {
  readonly name = 'root-ca-cert-publisher';
  readonly queue = new RateLimitedQueue();
  private readonly namespaces: SharedInformer;
  private readonly configMaps: SharedInformer;

  /** `rootCA`: the PEM to publish; undefined (no cluster CA in this context) publishes nothing. */
  constructor(private readonly client: Client, factory: InformerFactory, private readonly rootCA: string | undefined, private readonly log?: Logger) {
    this.namespaces = factory.forResource(R.namespaces);
    this.namespaces.addHandlers(enqueueHandlers(this.queue));
    this.configMaps = factory.forResource(R.configmaps, ROOT_CA_SCOPE);
    this.configMaps.addHandlers(enqueueHandlers(this.queue, (cm) => cm.metadata.namespace));
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(ns: ObjectKey): Promise<void> {
    if (this.rootCA === undefined) return;
    const namespace = this.namespaces.get(ns);
    if (!namespace || namespace.metadata.deletionTimestamp || namespace.status?.phase === 'Terminating') return;
    const data = { 'ca.crt': this.rootCA };
    const cm = this.configMaps.get(`${ns}/${ROOT_CA_CONFIGMAP}`);
    if (!cm) {
      try {
        await this.client.create(R.configmaps, ns, {
          apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns, annotations: { 'kubernetes.io/description': DESCRIPTION } }, data,
        });
        this.log?.debug('published the root CA', { namespace: ns });
      } catch (err) {
        // Already there (our cache lags) or the namespace went: the next event tells.
        if (!isAlreadyExists(err) && !isNotFound(err)) throw err;
      }
      return;
    }
    if (sameData(cm, data) && cm.metadata.annotations?.['kubernetes.io/description'] === DESCRIPTION) return;
    await this.client.update(R.configmaps, ns, {
      ...cm, data, binaryData: undefined,
      metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, 'kubernetes.io/description': DESCRIPTION } },
    });
  }
}

function sameData(cm: KubeObject, data: Record<string, string>): boolean {
  const have = (cm.data ?? {}) as Record<string, string>;
  return Object.keys(have).length === 1 && have['ca.crt'] === data['ca.crt'] && !Object.keys(cm.binaryData ?? {}).length;
}
