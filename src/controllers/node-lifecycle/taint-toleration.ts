/**
 * Taints and tolerations (k8s.io/api/core/v1 toleration.go, pkg/controller/tainteviction): whether a
 * toleration tolerates a taint, which NoExecute taints a pod does not tolerate, and how long a pod may
 * stay on a node carrying NoExecute taints (the least tolerationSeconds among the matching ones).
 */

/** A node taint. */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
  timeAdded?: string;
}

/** A pod toleration. */
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal' | string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number | null;
}

/** The taint keys the node lifecycle controller manages. */

/** ToleratesTaint: effect empty or equal, key empty (with Exists) or equal, then the operator. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  // An empty key with Equal tolerates nothing (validation forbids it anyway).
  if (op === 'Equal') return !!t.key && (t.value ?? '') === (taint.value ?? '');
  return false;
}

/** True when some toleration tolerates `taint`. */
export function taintTolerated(taint: Taint, tolerations: Toleration[] | undefined): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** Taints with one of `effects` that no toleration tolerates. */
export function untoleratedTaints(taints: Taint[] | undefined, tolerations: Toleration[] | undefined, effects: string[]): Taint[] {
  return (taints ?? []).filter((tn) => effects.includes(tn.effect) && !taintTolerated(tn, tolerations));
}

/**
 * How long a pod tolerating every given NoExecute taint may stay: `undefined` for ever (no matching
 * toleration has tolerationSeconds), otherwise the least seconds among the matching tolerations
 * (negative counts as 0). Call only when every taint is tolerated.
 */
export function minTolerationSeconds(taints: Taint[], tolerations: Toleration[] | undefined): number | undefined {
  let min: number | undefined;
  for (const taint of taints) {
    for (const t of tolerations ?? []) {
      if (!toleratesTaint(t, taint) || t.tolerationSeconds == null) continue;
      const s = Math.max(0, t.tolerationSeconds);
      if (min === undefined || s < min) min = s;
    }
  }
  return min;
}

/** The eviction decision for one pod on a node with NoExecute taints. */
export type EvictionDecision = { action: 'keep' } | { action: 'evict-now' } | { action: 'evict-at'; at: number };

/**
 * Decides whether a pod on a node with `taints` is evicted: none NoExecute → keep; any untolerated →
 * at once; otherwise after the least tolerationSeconds counted from the latest relevant taint's
 * timeAdded (or `nowMs` when unknown).
 */
export function evictionDecision(taints: Taint[] | undefined, tolerations: Toleration[] | undefined, nowMs: number): EvictionDecision {
  const noExecute = (taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { action: 'keep' };
  if (untoleratedTaints(noExecute, tolerations, ['NoExecute']).length > 0) return { action: 'evict-now' };
  const secs = minTolerationSeconds(noExecute, tolerations);
  if (secs === undefined) return { action: 'keep' };
  const added = noExecute.map((t) => (t.timeAdded ? Date.parse(t.timeAdded) : NaN)).filter((n) => !Number.isNaN(n));
  const start = added.length ? Math.max(...added) : nowMs;
  const at = start + secs * 1000;
  return at <= nowMs ? { action: 'evict-now' } : { action: 'evict-at', at };
}
