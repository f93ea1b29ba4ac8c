/**
 * Taints and tolerations (core/v1 helper ToleratesTaint): an empty toleration effect matches every
 * effect, an empty key with Exists matches every key, Exists ignores the value, Equal (default) compares it.
 */
import type { Toleration } from './pod-info.ts';

/** A node taint as in core/v1. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** Whether one toleration tolerates the taint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** Whether any of the tolerations tolerates the taint. */
export function anyTolerates(ts: readonly Toleration[], taint: Taint): boolean {
  for (const t of ts) if (tolerates(t, taint)) return true;
  return false;
}

/**
 * The first NoSchedule or NoExecute taint no toleration tolerates, if any — the taints that keep a pod
 * off a node (TaintToleration's filter, PodTopologySpread's node inclusion). The effects are compared
 * inline: while a fleet is tainted every pod meets every node's taint (bench sched's release).
 */
export function firstHardUntolerated(taints: readonly Taint[], ts: readonly Toleration[]): Taint | undefined {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i];
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!anyTolerates(ts, taint)) return taint;
  }
  return undefined;
}
