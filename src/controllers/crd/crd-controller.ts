/**
 * The CustomResourceDefinition controller: what apiextensions-apiserver's naming controller
 * (NamesAccepted, status.acceptedNames), establishing controller (Established) and finalizer
 * controller (customresourcecleanup.apiextensions.k8s.io: a deleted CRD's objects are deleted, then
 * the finalizer goes and the CRD with it) do, in one reconcile per CRD name. Keys are CRD names.
 */
import type { Client, ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { rfc3339 } from '../../apis/time.ts';
import {
  CRD_CLEANUP_FINALIZER, CRD_GROUP, CRD_PLURAL, storageVersion, type Crd, type CrdCondition, type CrdNames,
} from '../../apis/custom-resource-definition.ts';

/** apiextensions.k8s.io/v1 CustomResourceDefinitions. */
export const CRDS: ResourceRef = { group: CRD_GROUP, version: 'v1', resource: CRD_PLURAL };

/** How soon a deleting CRD is looked at again while its objects are still going. */
const CLEANUP_RECHECK_MS = 500;

export class CrdController implements Reconciler {
  readonly name = 'customresourcedefinition';
  readonly queue = new RateLimitedQueue();
  private readonly crds: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly builtIn: readonly ResourceInfo[], private readonly log?: Logger) {
    this.crds = factory.forResource(CRDS);
    // A CRD's names can be accepted once another CRD releases them: every change looks at all of one group.
    this.crds.addHandlers(enqueueHandlers(this.queue));
    this.crds.addHandlers({
      delete: (gone) => {
        for (const o of this.crds.list()) if ((o as Crd).spec?.group === (gone as Crd).spec?.group) this.queue.add(o.metadata.name!);
      },
    });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(name: ObjectKey): Promise<void> {
    let crd: Crd;
    try {
      crd = await this.client.get(CRDS, undefined, name) as Crd;
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (crd.metadata.deletionTimestamp) return this.cleanUp(crd);
    const conflict = this.nameConflict(crd);
    const conditions: CrdCondition[] = conflict
      ? [
        { type: 'NamesAccepted', status: 'False', reason: 'NameConflict', message: conflict },
        { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      ]
      : [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ];
    const acceptedNames = conflict ? crd.status?.acceptedNames ?? { plural: '', kind: '' } : crd.spec.names;
    await this.writeStatus(crd, conditions, acceptedNames);
  }

  /**
   * Why the CRD's names cannot be accepted, if they cannot: a built-in resource of the group has the
   * plural or kind, or another CRD of the group (older, or with accepted names) claims one of them.
   */
  private nameConflict(crd: Crd): string | undefined {
    const { group, names } = crd.spec;
    for (const r of this.builtIn) {
      if (r.group !== group) continue;
      if (r.plural === names.plural) return `"${names.plural}" is already in use`;
      if (r.kind === names.kind) return `"${names.kind}" is already in use`;
    }
    for (const o of this.crds.list() as Crd[]) {
      if (o.metadata.name === crd.metadata.name || o.spec?.group !== group) continue;
      const theirs = o.status?.acceptedNames as CrdNames | undefined;
      if (!theirs?.kind) continue;
      if (theirs.plural === names.plural || theirs.singular === names.plural) return `"${names.plural}" is already in use`;
      if (theirs.singular && (theirs.singular === names.singular || theirs.plural === names.singular)) return `"${names.singular}" is already in use`;
      if (theirs.kind === names.kind) return `"${names.kind}" is already in use`;
      if (names.listKind && theirs.listKind === names.listKind) return `"${names.listKind}" is already in use`;
      const taken = (names.shortNames ?? []).filter((s) => (theirs.shortNames ?? []).includes(s));
      if (taken.length) return `"${taken.join('", "')}" is already in use`;
    }
    return undefined;
  }

  /** Writes conditions and accepted names when they differ (lastTransitionTime kept for an unchanged status). */
  private async writeStatus(crd: Crd, wanted: CrdCondition[], acceptedNames: Partial<CrdNames>): Promise<void> {
    const current = crd.status?.conditions ?? [];
    let changed = JSON.stringify(crd.status?.acceptedNames ?? {}) !== JSON.stringify(acceptedNames);
    const conditions = [...current];
    for (const w of wanted) {
      const i = conditions.findIndex((c) => c.type === w.type);
      const old = i >= 0 ? conditions[i] : undefined;
      if (old && old.status === w.status && old.reason === w.reason && old.message === w.message) continue;
      const next = { ...w, lastTransitionTime: old && old.status === w.status ? old.lastTransitionTime : rfc3339() };
      if (i >= 0) conditions[i] = next; else conditions.push(next);
      changed = true;
    }
    if (!changed) return;
    try {
      await this.client.update(CRDS, undefined, { ...crd, status: { ...(crd.status ?? {}), conditions, acceptedNames } }, 'status');
    } catch (err) {
      if (isConflict(err)) { this.queue.add(crd.metadata.name!); return; }
      throw err;
    }
  }

  /** A deleting CRD: delete every object of it, then release the finalizer. */
  private async cleanUp(crd: Crd): Promise<void> {
    if (!crd.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER)) return;
    await this.writeStatus(crd, [{ type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }], crd.status?.acceptedNames ?? {});
    const version = storageVersion(crd)?.name;
    const ref: ResourceRef = { group: crd.spec.group, version: version ?? '', resource: crd.spec.names.plural };
    let remaining = 0;
    if (version) {
      let items: { metadata: { name?: string; namespace?: string; deletionTimestamp?: string } }[] = [];
      try {
        items = (await this.client.list(ref, undefined)).items;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      remaining = items.length;
      for (const o of items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(ref, o.metadata.namespace, o.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    if (remaining > 0) {
      // Objects with finalizers of their own go when those are done; look again soon.
      this.queue.addAfter(crd.metadata.name!, CLEANUP_RECHECK_MS);
      return;
    }
    const fresh = await this.client.get(CRDS, undefined, crd.metadata.name!) as Crd;
    const finalizers = (fresh.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    try {
      await this.client.update(CRDS, undefined, { ...fresh, metadata: { ...fresh.metadata, finalizers } });
      this.log?.info('custom resource definition cleaned up', { crd: crd.metadata.name });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) { this.queue.add(crd.metadata.name!); return; }
      throw err;
    }
  }
}
