/**
 * The fieldPath the kubelet gives events about one container of a pod (involvedObject.fieldPath):
 * `spec.containers{name}` or `spec.initContainers{name}`.
 */
import type { KubeObject } from '../../apis/object.ts';

/** `spec.containers{name}` / `spec.initContainers{name}`: the fieldPath the kubelet uses for a container. */
export function containerFieldPath(pod: KubeObject, containerName: string): string {
  const isInit = (pod.spec?.initContainers ?? []).some((c: any) => c?.name === containerName);
  return `${isInit ? 'spec.initContainers' : 'spec.containers'}{${containerName}}`;
}
