/**
 * POST pods/NAME/eviction as kube-apiserver's EvictionREST (pkg/registry/core/pod/storage/eviction.go,
 * Kubernetes 1.32): a pod is deleted only when its PodDisruptionBudget allows it.
 *
 *   admission (CREATE pods/eviction, as the requesting user)
 *   pod terminal, Pending or already deleting ─▶ delete, no budget consulted
 *   budgets selecting the pod: none ─▶ delete │ more than one ─▶ 500
 *   pod not Ready and (AlwaysAllow, or the budget is healthy) ─▶ delete unless the pod changed (else 429)
 *   otherwise check-and-decrement on the budget's status (conflict-safe read-modify-write):
 *     generation not observed yet ─▶ 429 · disruptionsAllowed 0 ─▶ 429 · else allowed-1 and
 *     disruptedPods[pod] = now, so the disruption controller counts the pod as gone until it is
 *   delete: DisruptionTarget=True on the pod's status first, then the delete with the caller's options
 *
 * The writes after admission are the API server's own (upstream's loopback client and store calls
 * with ValidateAllObjectFunc): authorization for pods/eviction is what lets a user evict.
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339 } from '../apis/time.ts';
import { ApiError, errors, type Status } from '../errors/index.ts';
import {
  DISRUPTION_BUDGET_CAUSE, DISRUPTION_TARGET, budgetSelects, updateDisruptionAllowedCondition, type BudgetStatus,
} from '../apis/pod-disruption-budget.ts';
import type { ResourceStore } from './resource-store.ts';
import { deleteObject, type DeleteOptions } from './store-delete.ts';
import { SYSTEM_USER } from './admission/admission.ts';

/** EvictionsRetry: conflicts on the pod are retried this many times. */
const RETRIES = 20;
/** MaxDisruptedPodSize: evictions approved but not yet seen by the controller, at most. */
export const MAX_DISRUPTED_PODS = 2000;
const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

/** A 500 whose Status carries no reason: the Status EvictionREST returns for a pod with several budgets. */
class MultipleBudgets extends ApiError {
  constructor() {
    super('BERTH_INTERNAL', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }

  override toStatus(): Status {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, code: this.http };
  }
}

/** NewTooManyRequests with the DisruptionBudget cause, as kubectl drain retries every 5 s. */
function tooManyRequests(cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError('BERTH_TOO_MANY_REQUESTS', VIOLATION, {
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }],
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });
}

const stillProcessing = (pdb: string) => tooManyRequests(`The disruption budget ${pdb} is still being processed by the server.`, 10);

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** canIgnorePDB: a terminal or Pending pod disrupts nothing more, and a deleting one is going anyway. */
function canIgnoreBudget(pod: KubeObject): boolean {
  return isTerminal(pod) || pod.status?.phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'Conflict';
}

/** The options with a resourceVersion precondition, so a pod that changed since it was read is not deleted. */
function withResourceVersion(opts: DeleteOptions, resourceVersion: string | undefined): DeleteOptions {
  return { ...opts, preconditions: { ...(opts.preconditions ?? {}), resourceVersion } };
}

/**
 * addConditionAndDeletePod: the pod's status gets DisruptionTarget=True (EvictionByEvictionAPI)
 * first — unless this is a dry run — then the pod is deleted. A resourceVersion precondition
 * moves to the version the condition wrote.
 */
async function markAndDelete(pods: ResourceStore, namespace: string, name: string, opts: DeleteOptions): Promise<void> {
  let del = opts;
  if (!opts.dryRun) {
    const wantRv = opts.preconditions?.resourceVersion;
    const wantUid = opts.preconditions?.uid;
    const updated = await pods.guaranteedUpdate(namespace, name, (pod) => {
      if (wantUid && wantUid !== pod.metadata.uid) {
        throw errors.conflict('', 'pods', name, `the UID in the precondition (${wantUid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`);
      }
      const conditions: Record<string, unknown>[] = (pod.status?.conditions ?? []).slice();
      const i = conditions.findIndex((c) => c.type === DISRUPTION_TARGET);
      const next = { type: DISRUPTION_TARGET, status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(), reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
      if (i < 0) conditions.push(next);
      else if (conditions[i].status === 'True') conditions[i] = { ...next, lastTransitionTime: conditions[i].lastTransitionTime };
      else conditions[i] = next;
      pod.status = { ...(pod.status ?? {}), conditions };
      return pod;
    }, { subresource: 'status', precondition: wantRv });
    if (wantRv) del = withResourceVersion(opts, updated.metadata.resourceVersion);
  }
  await deleteObject(pods, namespace, name, del);
}

/**
 * checkAndDecrement, inside one read-modify-write of the budget's status: a concurrent eviction or
 * controller write makes the store retry it against the newer budget, so two evictions never both
 * take the last allowed disruption.
 */
async function takeDisruption(budgets: ResourceStore, namespace: string, pdbName: string, podName: string, dryRun: boolean): Promise<void> {
  await budgets.guaranteedUpdate(namespace, pdbName, (pdb) => {
    const status: BudgetStatus = pdb.status ?? {};
    const allowed = status.disruptionsAllowed ?? 0;
    if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(pdbName);
    if (allowed < 0) throw errors.forbidden('policy', 'poddisruptionbudget', pdbName, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
      throw errors.forbidden('policy', 'poddisruptionbudget', pdbName, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (allowed === 0) {
      throw tooManyRequests(`The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`, 0);
    }
    status.disruptionsAllowed = allowed - 1;
    if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(status);
    // The controller drops the entry once it sees the pod deleting (or after its DeletionTimeout).
    status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: rfc3339() };
    pdb.status = status;
    return pdb;
  }, { subresource: 'status', dryRun });
}

/**
 * Evicts pod `name` honouring its PodDisruptionBudget (see the file comment). `options` are the
 * delete options (the eviction's own merged with the request's) and the requesting user;
 * `budgets` is the PodDisruptionBudget store, undefined when the kind is not served.
 */
export async function evictWithBudgets(pods: ResourceStore, budgets: ResourceStore | undefined, namespace: string, name: string, eviction: KubeObject, options: DeleteOptions): Promise<void> {
  const { user, ...opts } = options;
  const dryRun = !!opts.dryRun;
  const review = { resource: pods.type.info, subresource: 'eviction', namespace, name, user: user ?? SYSTEM_USER, dryRun };
  const admitted = pods.admission.admit({ operation: 'CREATE', ...review, object: eviction });
  if (admitted) await admitted;
  const validated = pods.admission.validate({ operation: 'CREATE', ...review, object: eviction });
  if (validated) await validated;

  const callerRv = opts.preconditions?.resourceVersion;
  let pod!: KubeObject;
  for (let attempt = 0; ; attempt++) {
    pod = await pods.get(namespace, name);
    if (!canIgnoreBudget(pod)) break;
    // Terminal pods need no fence; others might become Ready (and count) before the delete lands.
    const fence = !isTerminal(pod) && !pod.metadata.deletionTimestamp && !callerRv;
    try {
      await markAndDelete(pods, namespace, name, fence ? withResourceVersion(opts, pod.metadata.resourceVersion) : opts);
      return;
    } catch (err) {
      if (isConflict(err) && !callerRv && attempt < RETRIES - 1) continue;
      throw err;
    }
  }

  const matching = budgets ? (await budgets.list(namespace)).items.filter((pdb) => budgetSelects(pdb, pod)) : [];
  if (matching.length > 1) throw new MultipleBudgets();
  if (matching.length === 0) { await markAndDelete(pods, namespace, name, opts); return; }
  const pdb = matching[0];
  const pdbName = pdb.metadata.name!;
  const status: BudgetStatus = pdb.status ?? {};
  // An unready pod does not count as healthy: evicting it takes nothing from the budget when the
  // policy says so, or while the budget is met without it — as long as it stays unready (the fence).
  const unhealthyGoes = !isReady(pod) && (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow'
    || ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0));
  if (!unhealthyGoes) await takeDisruption(budgets!, namespace, pdbName, name, dryRun);
  try {
    await markAndDelete(pods, namespace, name, unhealthyGoes ? withResourceVersion(opts, pod.metadata.resourceVersion) : opts);
  } catch (err) {
    // The unready pod changed (it may be Ready now): the client retries, as after any 429.
    if (isConflict(err) && unhealthyGoes && !callerRv) throw stillProcessing(pdbName);
    throw err;
  }
}
