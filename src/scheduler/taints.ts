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

/** The first taint with one of `effects` that no toleration tolerates, if any. */
export function firstUntolerated(taints: readonly Taint[], ts: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  for (const taint of taints) {
    if (!effects.includes(taint.effect)) continue;
    if (!anyTolerates(ts, taint)) return taint;
  }
  return undefined;
}
