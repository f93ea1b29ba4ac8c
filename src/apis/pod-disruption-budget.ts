/**
 * PodDisruptionBudget vocabulary that both the eviction subresource (registry/) and the disruption
 * controller (controllers/disruption) speak: which budgets select a pod, the DisruptionAllowed
 * condition with its reasons, and metav1.Condition bookkeeping. Upstream: the constants of
 * k8s.io/api policy/v1, k8s.io/component-helpers/apps/poddisruptionbudget (UpdateDisruptionAllowedCondition,
 * ConditionsAreUpToDate) and apimachinery's meta.SetStatusCondition / FindStatusCondition.
 */
import type { KubeObject } from './object.ts';
import { rfc3339 } from './time.ts';
import { fromLabelSelectorSpec } from './selectors/label-selector-spec.ts';

/** The condition type the disruption controller and the eviction subresource keep. */
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
/** Reasons of DisruptionAllowed (policy/v1 SyncFailedReason, SufficientPodsReason, InsufficientPodsReason). */
export const PDB_REASONS = { syncFailed: 'SyncFailed', sufficientPods: 'SufficientPods', insufficientPods: 'InsufficientPods' } as const;
/** The StatusCause type of a 429 from the eviction subresource (policy/v1 DisruptionBudgetCause). */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
/** The pod condition set before a pod is deleted by a disruption (core/v1 DisruptionTarget). */
export const DISRUPTION_TARGET = 'DisruptionTarget';
/** unhealthyPodEvictionPolicy values, sorted as Kubernetes lists them in errors. */
export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

/** metav1.Condition as stored: `message` is always present (no omitempty), observedGeneration omitted when 0. */
export interface MetaCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The condition of this type, if any (meta.FindStatusCondition). */
export function findCondition(conditions: readonly MetaCondition[] | undefined, type: string): MetaCondition | undefined {
  return (conditions ?? []).find((c) => c?.type === type);
}

/**
 * meta.SetStatusCondition: adds the condition or updates the one of its type in place; the
 * transition time moves only when the status changes. Returns whether anything changed.
 */
export function setCondition(conditions: MetaCondition[], next: Omit<MetaCondition, 'lastTransitionTime'> & { lastTransitionTime?: string }, now = Date.now()): boolean {
  const existing = findCondition(conditions, next.type);
  const observedGeneration = next.observedGeneration || undefined;
  if (!existing) {
    conditions.push({
      type: next.type, status: next.status, ...(observedGeneration ? { observedGeneration } : {}),
      lastTransitionTime: next.lastTransitionTime ?? rfc3339(now), reason: next.reason, message: next.message,
    });
    return true;
  }
  let changed = false;
  if (existing.status !== next.status) {
    existing.status = next.status;
    existing.lastTransitionTime = next.lastTransitionTime ?? rfc3339(now);
    changed = true;
  }
  if (existing.reason !== next.reason) { existing.reason = next.reason; changed = true; }
  if ((existing.message ?? '') !== next.message) { existing.message = next.message; changed = true; }
  if ((existing.observedGeneration || undefined) !== observedGeneration) {
    if (observedGeneration) existing.observedGeneration = observedGeneration;
    else delete existing.observedGeneration;
    changed = true;
  }
  return changed;
}

/** The parts of a PDB's status the helpers below read and write. */
export interface BudgetStatus {
  observedGeneration?: number;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  disruptedPods?: Record<string, string>;
  conditions?: MetaCondition[];
}

/**
 * UpdateDisruptionAllowedCondition: DisruptionAllowed True (SufficientPods) when disruptions are
 * allowed, else False (InsufficientPods), observed at the status' observedGeneration.
 */
export function updateDisruptionAllowedCondition(status: BudgetStatus, now = Date.now()): void {
  status.conditions ??= [];
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setCondition(status.conditions, {
    type: DISRUPTION_ALLOWED, status: allowed ? 'True' : 'False',
    reason: allowed ? PDB_REASONS.sufficientPods : PDB_REASONS.insufficientPods, message: '',
    observedGeneration: status.observedGeneration,
  }, now);
}

/** ConditionsAreUpToDate: the DisruptionAllowed condition says what disruptionsAllowed says, for this generation. */
export function conditionsAreUpToDate(pdb: KubeObject): boolean {
  const status: BudgetStatus = pdb.status ?? {};
  const c = findCondition(status.conditions, DISRUPTION_ALLOWED);
  if (!c || (status.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  return (status.disruptionsAllowed ?? 0) > 0
    ? c.status === 'True' && c.reason === PDB_REASONS.sufficientPods
    : c.status === 'False' && c.reason === PDB_REASONS.insufficientPods;
}

/**
 * Whether a budget covers a pod: same namespace and its selector matches. In policy/v1 an empty
 * selector (`{}`) selects every pod of the namespace and a missing one none; an invalid selector
 * selects nothing (both the eviction subresource and the controller's lister agree since 1.29).
 */
export function budgetSelects(pdb: KubeObject, pod: KubeObject): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  try {
    return fromLabelSelectorSpec(pdb.spec?.selector).matches(pod.metadata.labels);
  } catch {
    return false;
  }
}
