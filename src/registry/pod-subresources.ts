/**
 * pods/binding and pods/eviction (the budget logic is pod-eviction.ts), and the type-meta check on
 * posted bodies: shared by the HTTP handlers (src/api/handlers) and the in-process client, so both
 * behave the same.
 */
import type { KubeObject } from '../apis/object.ts';
import { errors, type Status } from '../errors/index.ts';
import type { ResourceStore, WriteOptions } from './resource-store.ts';
import type { DeleteOptions } from './store-delete.ts';
import { evictWithBudgets } from './pod-eviction.ts';
import { rfc3339 } from '../apis/time.ts';

/** A `Success` Status, as the API answers binding and eviction. */
export function successStatus(code: number): KubeObject {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  return s as unknown as KubeObject;
}

/** Refuses a body whose apiVersion/kind name another type (the API decoder's check). */
export function checkTypeMeta(obj: KubeObject, apiVersion: string, kind: string): void {
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== kind) {
    throw errors.badRequest(`${obj.kind} in version "${apiVersion.split('/').pop()}" cannot be handled as a ${kind}: the kind in the data (${obj.kind}) does not match the expected kind (${kind})`);
  }
}

/**
 * POST pods/NAME/binding: sets spec.nodeName and the PodScheduled condition in one raw update;
 * 409 when the pod is deleting or already bound. Answers a 201 Success Status.
 */
export async function bindPod(store: ResourceStore, namespace: string | undefined, name: string, binding: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
  if (typeof binding !== 'object' || binding === null) throw errors.badRequest('the request body must be a JSON object');
  checkTypeMeta(binding, 'v1', 'Binding');
  const node = binding.target?.name;
  if (!node) throw errors.invalid('', 'Binding', name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  // `applied`: managedFields stay as they were — upstream's BindingREST writes storage directly, so a
  // binding records no field manager (nodeName and PodScheduled have no owner, kubernetes#127508),
  // and it spares every binding a walk of the whole pod (the hot path of scheduling).
  await store.guaranteedUpdate(namespace, name, (pod) => {
    if (pod.metadata.deletionTimestamp) throw errors.conflict('', 'pods', name, 'pod is being deleted, cannot be assigned to a host');
    if (pod.spec?.nodeName) throw errors.conflict('', 'pods', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = node;
    const conditions = (pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() });
    pod.status = { ...(pod.status ?? {}), conditions };
    return pod;
  }, { ...opts, subresource: 'raw', applied: true });
  return successStatus(201);
}

/**
 * POST pods/NAME/eviction: deletes the pod if its PodDisruptionBudget allows (pod-eviction.ts).
 * `options` are the request's delete options and user (the HTTP handler merges the Eviction's own
 * deleteOptions and the query); what it leaves unset comes from the Eviction's deleteOptions, and
 * a dry run asked for in either is one. `budgets` is the PodDisruptionBudget store (undefined when
 * that kind is not served: no budget then). Answers a 201 Success Status.
 */
export async function evictPod(store: ResourceStore, namespace: string | undefined, name: string, eviction: KubeObject, options: DeleteOptions = {}, budgets?: ResourceStore): Promise<KubeObject> {
  if (typeof eviction !== 'object' || eviction === null) throw errors.badRequest('the request body must be a JSON object');
  checkTypeMeta(eviction, 'policy/v1', 'Eviction');
  if (eviction.metadata?.name && eviction.metadata.name !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
  const own = eviction.deleteOptions ?? {};
  const opts: DeleteOptions = {
    gracePeriodSeconds: options.gracePeriodSeconds ?? own.gracePeriodSeconds ?? undefined,
    propagationPolicy: options.propagationPolicy ?? own.propagationPolicy ?? undefined,
    orphanDependents: options.orphanDependents ?? own.orphanDependents ?? undefined,
    preconditions: options.preconditions ?? own.preconditions ?? undefined,
    dryRun: !!options.dryRun || (Array.isArray(own.dryRun) && own.dryRun.includes('All')),
    user: options.user,
  };
  await evictWithBudgets(store, budgets, namespace ?? '', name, eviction, opts);
  return successStatus(201);
}
