/**
 * A ReplicaSet's status from its active pods (calculateStatus in Kubernetes' replica_set_utils.go).
 */
import type { KubeObject } from '../../apis/object.ts';
import { isPodAvailable, isPodReady } from '../controller-utils.ts';

/** The counters of ReplicaSetStatus the controller owns. */
export interface ReplicaCounts {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration: number;
}

/** Counts `pods` (the RS's active pods): all, fully labelled by the template, ready, available. */
export function calculateStatus(rs: KubeObject, pods: KubeObject[], now = Date.now()): ReplicaCounts {
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  const minReady: number = rs.spec?.minReadySeconds ?? 0;
  let fully = 0, ready = 0, available = 0;
  for (const p of pods) {
    const labels = p.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  return {
    replicas: pods.length, fullyLabeledReplicas: fully, readyReplicas: ready, availableReplicas: available,
    observedGeneration: rs.metadata.generation ?? 0,
  };
}

/** True when the stored status already says `c`. */
export function statusEquals(rs: KubeObject, c: ReplicaCounts): boolean {
  const s = rs.status ?? {};
  return (s.replicas ?? 0) === c.replicas && (s.fullyLabeledReplicas ?? 0) === c.fullyLabeledReplicas
    && (s.readyReplicas ?? 0) === c.readyReplicas && (s.availableReplicas ?? 0) === c.availableReplicas
    && (s.observedGeneration ?? 0) === c.observedGeneration;
}
