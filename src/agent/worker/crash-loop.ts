/**
 * A container's wait before its next start (the kubelet's CrashLoopBackOff in
 * kuberuntime_manager.go doBackOff): while the back-off holds, the container shows waiting
 * CrashLoopBackOff with the kubelet's message, and one BackOff event marks the start of each wait.
 */
import type { KubeObject } from '../../apis/object.ts';
import { formatDelay } from '../pod/backoff.ts';
import { containerFieldPath } from '../pod/container-field-path.ts';
import { Reasons } from '../pod/pod-status.ts';
import type { Instance } from './instance.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** The back-off's key for one container of one pod. */
export function backoffKey(uid: string, container: string): string {
  return `${uid}/${container}`;
}

/** Milliseconds until the container may start again (its state set to CrashLoopBackOff), or undefined if it may start now. */
export function crashLoopDelay(pod: KubeObject, inst: Instance, deps: Pick<WorkerDeps, 'backoff' | 'recorder'>): number | undefined {
  const uid = pod.metadata.uid!;
  const key = backoffKey(uid, inst.name);
  if (!deps.backoff.inBackoff(key)) return undefined;
  const delay = Math.max(0, deps.backoff.nextStartAllowedAt(key)!.getTime() - Date.now());
  const secs = Math.max(1, Math.round(delay / 1000));
  const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
  if (!('waiting' in inst.state) || inst.state.waiting.reason !== Reasons.CrashLoopBackOff) {
    if (inst.lastTerminated) inst.lastState = inst.lastTerminated;
    inst.state = { waiting: { reason: Reasons.CrashLoopBackOff, message: `back-off ${formatDelay(secs)} restarting failed container=${inst.name} pod=${podRef}` } };
    void deps.recorder.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${inst.name} in pod ${podRef}`, { fieldPath: containerFieldPath(pod, inst.name) });
  }
  return delay;
}
