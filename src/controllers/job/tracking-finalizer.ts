/**
 * The `batch.kubernetes.io/job-tracking` finalizer on a Job's pods: while it is on, a finished pod
 * cannot vanish before its Job has counted it (pkg/controller/job: hasJobTrackingFinalizer,
 * removeTrackingFinalizerPatch).
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { JOB_TRACKING_FINALIZER } from './job-policy.ts';

export function hasTrackingFinalizer(pod: KubeObject): boolean {
  return (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/**
 * Removes the finalizer from `pod` (this very uid, with the finalizers it was read with: a pod that
 * changed meanwhile fails the patch and is looked at again). A pod already gone is fine.
 */
export async function removeTrackingFinalizer(client: Client, pod: KubeObject): Promise<void> {
  const fins = pod.metadata.finalizers ?? [];
  if (!fins.includes(JOB_TRACKING_FINALIZER)) return;
  try {
    await client.patch(R.pods, pod.metadata.namespace, pod.metadata.name!, 'json', [
      { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
      { op: 'test', path: '/metadata/finalizers', value: fins },
      { op: 'replace', path: '/metadata/finalizers', value: fins.filter((f) => f !== JOB_TRACKING_FINALIZER) },
    ]);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
