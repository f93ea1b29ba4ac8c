/**
 * All resource stores of one API server, looked up by URL (group + plural) or by apiVersion + kind.
 * It also admits what Kubernetes' NamespaceLifecycle admission does: no creates into missing or
 * terminating namespaces, and no deletion of the immortal namespaces.
 */
import type { Backend } from '../storage/backend.ts';
import { ApiError, errors } from '../errors/index.ts';
import { ResourceStore } from './resource-store.ts';
import type { ResourceType } from './types.ts';
import { groupVersion } from '../apis/resources.ts';
import { AdmissionChain } from './admission/admission.ts';

/** Namespaces that may not be deleted (NamespaceLifecycle's immortalNamespaces). */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

export class Registry {
  private readonly byResource = new Map<string, ResourceStore>();
  private admissionChain = new AdmissionChain();
  private readonly byKind = new Map<string, ResourceStore>();

  constructor(readonly backend: Backend, readonly types: ResourceType[]) {
    for (const t of types) {
      const s = new ResourceStore(t, backend);
      s.namespaceGuard = (ns) => this.checkNamespace(ns);
      if (t.info.group === '' && t.info.plural === 'namespaces') {
        s.deleteGuard = (_ns, name) => {
          if (IMMORTAL_NAMESPACES.includes(name)) throw errors.forbidden('', 'namespaces', name, 'this namespace may not be deleted');
        };
      }
      this.byResource.set(`${t.info.group}/${t.info.plural}`, s);
      this.byKind.set(`${groupVersion(t.info)}/${t.info.kind}`, s);
    }
  }

  /** The store for `/apis/<group>/<version>/<plural>`; undefined if not served. */
  store(group: string, plural: string): ResourceStore | undefined {
    return this.byResource.get(`${group}/${plural}`);
  }

  /** The store for an object's apiVersion and kind. */
  storeForKind(apiVersion: string, kind: string): ResourceStore | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  all(): ResourceStore[] {
    return [...this.byResource.values()];
  }

  /** The admission plugins every write through this registry passes. */
  get admission(): AdmissionChain {
    return this.admissionChain;
  }

  set admission(chain: AdmissionChain) {
    this.admissionChain = chain;
    for (const s of this.byResource.values()) s.admission = chain;
  }

  private async checkNamespace(namespace: string): Promise<void> {
    const ns = this.store('', 'namespaces');
    if (!ns) return;
    try {
      const obj = await ns.get(undefined, namespace);
      if (obj.metadata.deletionTimestamp || obj.status?.phase === 'Terminating') {
        throw new ApiError('BERTH_FORBIDDEN', `unable to create new content in namespace ${namespace} because it is being terminated`, {
          name: namespace, kind: 'namespaces',
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        });
      }
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') throw errors.notFound('', 'namespaces', namespace);
      throw err;
    }
  }
}
