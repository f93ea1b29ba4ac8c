/**
 * Which runtime runs a container. In order (the agent's driver choice and PodSecurity both resolve
 * it this way):
 *   1. Berth's per-container override annotation (below);
 *   2. the pod's RuntimeClass (`spec.runtimeClassName`);
 *   3. the node's `--default-runtime-class`, when its administrator set one;
 *   4. the container's image: the process convention `image: host` runs as a host process, any
 *      other image as an OCI container under runc — so stock manifests written for Kubernetes get
 *      containers, and Berth's own process pods stay processes.
 *
 * Berth's per-container runtime override (Nomad task-group style mixed pods):
 * `runtime.berth.dev/<container-name>: process|runc` runs one container of a pod under another
 * driver than the pod's RuntimeClass; all containers still share the pod's network namespace,
 * volumes and lifecycle. The API server validates it; the agent's driver choice reads it.
 */
export const RUNTIME_ANNOTATION_PREFIX = 'runtime.berth.dev/';

/** The runtime handlers an override may name (the drivers every Berth node knows). */
export const RUNTIME_HANDLERS = ['process', 'runc'] as const;

/** The override for `containerName`, if any. */
export function runtimeOverride(annotations: Record<string, string> | undefined, containerName: string): string | undefined {
  return annotations?.[RUNTIME_ANNOTATION_PREFIX + containerName];
}

/** The image name that means "a host command, no image" (the `process` runtime's convention). */
export const PROCESS_IMAGE = 'host';

/** The handler of a container whose pod names no RuntimeClass on a node with no default (rule 4). */
export function handlerForImage(image: unknown): 'process' | 'runc' {
  return image === PROCESS_IMAGE ? 'process' : 'runc';
}

/** A container of `spec` by name, among its containers, init containers and ephemeral containers. */
export function containerNamed(spec: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined {
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = spec?.[key];
    if (!Array.isArray(list)) continue;
    const found = list.find((c) => (c as Record<string, unknown> | undefined)?.name === name);
    if (found) return found as Record<string, unknown>;
  }
  return undefined;
}
