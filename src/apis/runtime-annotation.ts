/**
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
