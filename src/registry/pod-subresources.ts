/**
 * pods/binding and pods/eviction (the budget logic is pod-eviction.ts), and the type-meta check on
 * posted bodies: shared by the HTTP handlers (src/api/handlers) and the in-process client, so both
 * behave the same. Upstream: pkg/registry/core/pod/storage (BindingREST, EvictionREST).
 */
import type { KubeObject } from '../apis/object.ts';
import { errors, type Status } from '../errors/index.ts';
import { storageToApi, type ResourceStore, type WriteOptions } from './resource-store.ts';
import { ConflictError } from '../storage/backend.ts';
import { SYSTEM_USER } from './admission/admission.ts';
import { fieldError, type FieldError } from '../apis/field-errors.ts';
import type { DeleteOptions } from './store-delete.ts';
import { evictWithBudgets } from './pod-eviction.ts';
import { rfc3339 } from '../apis/time.ts';
import { readModifyWrite } from './read-modify-write.ts';
import { offerWritten, withdrawWritten } from './store-watch.ts';

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
 * POST pods/NAME/binding, as kube-apiserver's BindingREST: the Binding is admitted as a CREATE of
 * pods/binding (not as an update of the pod: Pod Security and NodeRestriction leave bindings alone),
 * then one raw read-modify-write of the stored pod sets spec.nodeName, merges the Binding's
 * annotations and sets PodScheduled=True — no managedFields (upstream writes storage directly, so
 * nodeName and PodScheduled have no owner, kubernetes#127508), no generic prepare/validate/compare of
 * the whole pod: the hot path of scheduling pays one decode and one encode. 409 when the pod is
 * deleting, already bound, or not the uid / resourceVersion the Binding names (its preconditions);
 * a concurrent write of the pod is retried. Answers a 201 Success Status.
 */
export async function bindPod(store: ResourceStore, namespace: string | undefined, name: string, binding: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
  if (typeof binding !== 'object' || binding === null) throw errors.badRequest('the request body must be a JSON object');
  checkTypeMeta(binding, 'v1', 'Binding');
  if (binding.metadata?.name !== undefined && binding.metadata.name !== name) throw errors.badRequest('name in URL does not match name in Binding object');
  const target = binding.target ?? {};
  const causes: FieldError[] = [];
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') causes.push(fieldError.notSupported('target.kind', target.kind, ['Node', '<empty>']));
  if (!target.name) causes.push(fieldError.required('target.name'));
  if (causes.length) throw errors.invalid('', 'Binding', name, causes);
  const node: string = target.name;
  const review = {
    operation: 'CREATE' as const, resource: store.type.info, subresource: 'binding', namespace: namespace ?? '', name,
    user: opts.user ?? SYSTEM_USER, dryRun: !!opts.dryRun, warnings: opts.warnings, object: binding,
  };
  const admitted = store.admission.admit(review);
  if (admitted) await admitted;
  const validated = store.admission.validate(review);
  if (validated) await validated;
  const uid: string | undefined = binding.metadata?.uid || undefined;
  const wantedRv: string | undefined = binding.metadata?.resourceVersion || undefined;
  const annotations: Record<string, string> | undefined = binding.metadata?.annotations;
  const key = store.key(namespace, name);
  // Only JSON's own values (an in-process caller could pass others): then the pod is what a decode of its JSON gives.
  const exact = !annotations || Object.values(annotations).every((v) => typeof v === 'string');
  // The pod as the watch cache holds it, else as stored (read-modify-write.ts: a stale one costs a
  // re-read, never a wrong 409): a fresh decode, ours to change in place.
  return readModifyWrite(store, namespace, name, async ({ obj: pod, kv }) => {
    if (uid !== undefined && pod.metadata.uid !== uid) {
      throw errors.conflict('', 'pods', name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
    }
    if (wantedRv !== undefined && wantedRv !== String(kv.modRevision)) {
      throw errors.conflict('', 'pods', name, `Precondition failed: ResourceVersion in precondition: ${wantedRv}, ResourceVersion in object meta: ${kv.modRevision}`);
    }
    if (pod.metadata.deletionTimestamp) throw errors.conflict('', 'pods', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw errors.conflict('', 'pods', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = node;
    if (annotations && typeof annotations === 'object') pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
    setPodScheduled(pod);
    if (opts.dryRun) return successStatus(201);
    const value = store.encode(pod);
    // The bound pod is dropped after the write: its watch event may take it instead of decoding the
    // same JSON (a custom store's version transform would not give watchers this object: not offered).
    if (exact && !store.readTransform && !store.storageApiVersion) offerWritten(key, value, pod);
    try {
      await store.backend.update(key, value, kv.modRevision);
      return successStatus(201);
    } catch (err) {
      withdrawWritten(key, value);
      throw err instanceof ConflictError ? err : storageToApi(err, '', 'pods', name);
    }
  }, {
    noCache: opts.dryRun,
    // From a watch event's shared pod: a copy of only what the binding changes (below). A deep copy
    // of the whole pod was ~20 µs and ~4 KB of garbage a binding (bench sched's profile: 3 % of the
    // API server's thread); the rest of the pod is shared with the cached object, which nobody changes.
    copy: bindingCopy,
    // Someone wrote the pod between the read and the write (a status patch): read it again.
    retry: (err, attempt) => err instanceof ConflictError && attempt < 20,
  }).catch((err: unknown) => { throw err instanceof ConflictError ? storageToApi(err, '', 'pods', name) : err; });
}

/**
 * A pod to bind made from a shared one: new metadata, spec, status and conditions list — what
 * bindPod and setPodScheduled change or replace (nodeName, annotations, one condition) — the rest
 * shared. Nothing below those is changed in place: annotations get a new object, a condition is
 * replaced, not edited.
 */
function bindingCopy(shared: KubeObject): KubeObject {
  const pod: KubeObject = { ...shared, metadata: { ...shared.metadata } };
  if (shared.spec !== undefined && shared.spec !== null) pod.spec = { ...shared.spec };
  if (shared.status !== undefined && shared.status !== null) {
    const status = { ...shared.status };
    if (Array.isArray(status.conditions)) status.conditions = status.conditions.slice();
    pod.status = status;
  }
  return pod;
}

/**
 * PodScheduled=True, as podutil.UpdatePodCondition: the condition keeps its place in the list, and
 * its lastTransitionTime moves only when its status changes.
 */
function setPodScheduled(pod: KubeObject): void {
  const status = pod.status ?? (pod.status = {});
  const conditions: Array<Record<string, unknown>> = Array.isArray(status.conditions) ? status.conditions : (status.conditions = []);
  const i = conditions.findIndex((c) => c?.type === 'PodScheduled');
  const old = i >= 0 ? conditions[i] : undefined;
  const next = {
    type: 'PodScheduled', status: 'True', lastProbeTime: null,
    lastTransitionTime: old?.status === 'True' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(),
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
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
