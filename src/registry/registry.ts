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
import { readCached } from './read-modify-write.ts';

/** Namespaces that may not be deleted (NamespaceLifecycle's immortalNamespaces). */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

export class Registry {
  private readonly byResource = new Map<string, ResourceStore>();
  private admissionChain = new AdmissionChain();
  private readonly byKind = new Map<string, ResourceStore>();
  /** Stores of versions other than a resource's main one (custom resources serving several versions). */
  private readonly byVersion = new Map<string, ResourceStore>();
  private readonly listeners = new Set<() => void>();
  /** Bumped whenever a resource starts or stops being served (discovery and OpenAPI rebuild on it). */
  generation = 0;

  constructor(readonly backend: Backend, readonly types: ResourceType[]) {
    for (const t of types) this.add(t);
  }

  private add(t: ResourceType, main = true): ResourceStore {
    const s = new ResourceStore(t, this.backend);
    s.namespaceGuard = (ns) => this.checkNamespace(ns);
    s.admission = this.admissionChain;
    if (t.info.group === '' && t.info.plural === 'namespaces') {
      s.deleteGuard = (_ns, name) => {
        if (IMMORTAL_NAMESPACES.includes(name)) throw errors.forbidden('', 'namespaces', name, 'this namespace may not be deleted');
      };
    }
    if (main) this.byResource.set(`${t.info.group}/${t.info.plural}`, s);
    this.byVersion.set(`${t.info.group}/${t.info.version}/${t.info.plural}`, s);
    this.byKind.set(`${groupVersion(t.info)}/${t.info.kind}`, s);
    return s;
  }

  /**
   * Starts serving a resource at run time (a CustomResourceDefinition's versions): `types[0]` is the
   * main (storage) version, the rest are other served versions over the same stored objects. Replaces
   * whatever was served under that group and plural.
   */
  serve(types: ResourceType[], configure?: (store: ResourceStore) => void): void {
    if (!types.length) return;
    this.unserve(types[0].info.group, types[0].info.plural, false);
    types.forEach((t, i) => configure?.(this.add(t, i === 0)));
    this.changed();
  }

  /** Stops serving every version of `group`/`plural` (the objects stay in the store). */
  unserve(group: string, plural: string, notify = true): void {
    let removed = false;
    for (const [k, s] of [...this.byVersion]) {
      if (s.group !== group || s.plural !== plural) continue;
      this.byVersion.delete(k);
      if (this.byKind.get(`${s.apiVersion}/${s.type.info.kind}`) === s) this.byKind.delete(`${s.apiVersion}/${s.type.info.kind}`);
      removed = true;
    }
    if (this.byResource.delete(`${group}/${plural}`)) removed = true;
    if (removed && notify) this.changed();
  }

  /** Called after every change of what is served. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }

  /** Every served resource version (built-in kinds and custom resources), for discovery and OpenAPI. */
  served(): ResourceStore[] {
    return [...this.byVersion.values()];
  }

  /**
   * The store for `/apis/<group>/<version>/<plural>`; undefined if not served. Without a version, the
   * resource's main (storage) version.
   */
  store(group: string, plural: string, version?: string): ResourceStore | undefined {
    if (version !== undefined) return this.byVersion.get(`${group}/${version}/${plural}`);
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
    for (const s of this.byVersion.values()) s.admission = chain;
  }

  private async checkNamespace(namespace: string): Promise<void> {
    const ns = this.store('', 'namespaces');
    if (!ns) return;
    try {
      // As upstream's NamespaceLifecycle reads its informer: the watch cache's copy when it has one
      // (it holds every acknowledged write of this server), else the store, whose 404 is the answer.
      const obj = readCached(ns, undefined, namespace)?.obj ?? await ns.get(undefined, namespace);
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
