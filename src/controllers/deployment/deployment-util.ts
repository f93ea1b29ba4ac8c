/**
 * Deployment arithmetic and annotations (pkg/controller/deployment/util): revisions, surge and
 * unavailability fenceposts, the new ReplicaSet's next size, saturation and completeness.
 */
import type { KubeObject } from '../../apis/object.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** Deployment annotations not copied to its ReplicaSets. */
const SKIP_COPY = new Set([REVISION, DESIRED_REPLICAS, MAX_REPLICAS, 'kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision-history']);

/** The revision annotation as a number (0 when missing). */
export function revisionOf(obj: KubeObject | undefined): number {
  const n = Number(obj?.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** spec.replicas (default 1). */
export function specReplicas(obj: KubeObject | undefined): number {
  return obj?.spec?.replicas ?? 0;
}

/** Sum of spec.replicas. */
export function sumSpec(rss: KubeObject[]): number {
  return rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
}

/** Sum of a status counter. */
export function sumStatus(rss: KubeObject[], field: 'replicas' | 'readyReplicas' | 'availableReplicas'): number {
  return rss.reduce((n, rs) => n + (rs.status?.[field] ?? 0), 0);
}

/** An int-or-percent against `total`: percentages round up (surge) or down (unavailable). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: [maxSurge, maxUnavailable]; both 0 becomes unavailable 1 so a rollout can move. */
export function fenceposts(d: KubeObject): [number, number] {
  if (d.spec?.strategy?.type !== 'RollingUpdate') return [0, 0];
  const ru = d.spec.strategy.rollingUpdate ?? {};
  const replicas = specReplicas(d);
  const surge = scaledValue(ru.maxSurge ?? '25%', replicas, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, Math.min(unavailable, replicas)];
}

/** MaxUnavailable (0 for Recreate or no replicas). */
export function maxUnavailable(d: KubeObject): number {
  if (d.spec?.strategy?.type !== 'RollingUpdate' || specReplicas(d) === 0) return 0;
  return fenceposts(d)[1];
}

/** NewRSNewReplicas: how big the new ReplicaSet may be now. */
export function newRSNewReplicas(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject): number {
  if (d.spec?.strategy?.type !== 'RollingUpdate') return specReplicas(d);
  const [surge] = fenceposts(d);
  const current = sumSpec(allRSs);
  const maxTotal = specReplicas(d) + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, specReplicas(d) - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, up);
}

/** The new RS has all the replicas the Deployment wants, and all available. */
export function isSaturated(d: KubeObject, rs: KubeObject | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata.annotations?.[DESIRED_REPLICAS]);
  return desired === specReplicas(d) && specReplicas(rs) === specReplicas(d) && (rs.status?.availableReplicas ?? 0) === specReplicas(d);
}

/** DeploymentComplete: every replica updated and available, nothing old left, spec observed. */
export function isComplete(d: KubeObject, status: Record<string, number>): boolean {
  const r = specReplicas(d);
  return status.updatedReplicas === r && status.replicas === r && status.availableReplicas === r
    && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** The annotations a ReplicaSet gets from its Deployment (change-cause and the user's own). */
export function copiedAnnotations(d: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY.has(k)) out[k] = v;
  return out;
}
