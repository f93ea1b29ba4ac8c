/**
 * A Deployment's status and conditions (calculateStatus, syncRolloutStatus and the condition helpers
 * of pkg/controller/deployment): replica counters from its ReplicaSets, Available from
 * maxUnavailable, Progressing from progress since the last status and progressDeadlineSeconds.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isComplete, maxUnavailable, specReplicas, sumSpec, sumStatus } from './deployment-util.ts';
import { rfc3339 } from '../../apis/time.ts';

/** A DeploymentCondition. */
export interface DeploymentCondition {
  type: 'Available' | 'Progressing' | 'ReplicaFailure';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** Progressing reasons, as Kubernetes words them. */
export const REASONS = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minAvailable: 'MinimumReplicasAvailable',
  minUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** A new condition stamped now. */
export function newCondition(type: DeploymentCondition['type'], status: DeploymentCondition['status'], reason: string, message: string): DeploymentCondition {
  const now = rfc3339();
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/** The condition of `type` in a status, if any. */
export function getCondition(status: { conditions?: DeploymentCondition[] } | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * SetDeploymentCondition: same status and reason → unchanged; same status → keeps the transition
 * time; otherwise replaces.
 */
export function setCondition(status: { conditions?: DeploymentCondition[] }, c: DeploymentCondition): void {
  const conds = status.conditions ?? [];
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...conds.filter((x) => x.type !== c.type), next];
}

/** The counters and the Available condition (calculateStatus). */
export function calculateStatus(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject | undefined): Record<string, any> {
  const available = sumStatus(allRSs, 'availableReplicas');
  const status: Record<string, any> = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumSpec(allRSs) - available),
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', REASONS.minAvailable, 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition('Available', 'False', REASONS.minUnavailable, 'Deployment does not have minimum availability.'));
  }
  return status;
}

/** DeploymentProgressing: more updated, ready or available replicas, or fewer old ones, than before. */
export function hasProgressed(d: KubeObject, next: Record<string, number>): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = next.replicas - next.updatedReplicas;
  return next.updatedReplicas > (old.updatedReplicas ?? 0) || newOld < oldOld
    || next.readyReplicas > (old.readyReplicas ?? 0) || next.availableReplicas > (old.availableReplicas ?? 0);
}

/** DeploymentTimedOut: no progress for progressDeadlineSeconds since the Progressing condition's update. */
export function hasTimedOut(d: KubeObject, status: Record<string, any>, now = Date.now()): boolean {
  const deadline = d.spec?.progressDeadlineSeconds;
  if (typeof deadline !== 'number') return false;
  const c = getCondition(status, 'Progressing');
  if (!c) return false;
  if (c.reason === REASONS.newRSAvailable) return false;
  if (c.reason === REASONS.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + deadline * 1000 < now;
}

/**
 * The rollout status (syncRolloutStatus): counters, Available, and Progressing — complete, progressing
 * (keeps its transition time), or timed out. `pending` is a condition set earlier in the sync
 * (NewReplicaSetCreated, FoundNewReplicaSet, paused/resumed).
 */
export function rolloutStatus(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject | undefined, pending?: DeploymentCondition): Record<string, any> {
  const status = calculateStatus(d, allRSs, newRS);
  if (pending) setCondition(status, pending);
  const hasDeadline = typeof d.spec?.progressDeadlineSeconds === 'number';
  if (!hasDeadline) {
    status.conditions = status.conditions.filter((c: DeploymentCondition) => c.type !== 'Progressing');
    return status;
  }
  if (d.spec?.paused) return status;
  const cur = getCondition(status, 'Progressing');
  const done = status.replicas === status.updatedReplicas && cur?.reason === REASONS.newRSAvailable;
  if (done || !newRS) return status;
  const name = newRS.metadata.name;
  if (isComplete(d, status)) {
    setCondition(status, newCondition('Progressing', 'True', REASONS.newRSAvailable, `ReplicaSet "${name}" has successfully progressed.`));
  } else if (hasProgressed(d, status)) {
    const c = newCondition('Progressing', 'True', REASONS.rsUpdated, `ReplicaSet "${name}" is progressing.`);
    // Progress refreshes lastUpdateTime (the deadline's start) even with an unchanged reason.
    if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
    status.conditions = [...status.conditions.filter((x: DeploymentCondition) => x.type !== 'Progressing'), c];
  } else if (hasTimedOut(d, status)) {
    setCondition(status, newCondition('Progressing', 'False', REASONS.timedOut, `ReplicaSet "${name}" has timed out progressing.`));
  }
  return status;
}
