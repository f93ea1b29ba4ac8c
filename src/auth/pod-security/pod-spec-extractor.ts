/**
 * Where a pod's metadata and spec sit in each kind Pod Security looks at (admission.go's
 * DefaultPodSpecExtractor): the pod itself, or the pod template of a workload — whose pods are
 * checked again when their controller creates them, so templates only get warnings and audit.
 */
import type { Rec } from './check.ts';

/** `group/resource` → the path to the pod template ([] for the pod itself). */
const TEMPLATE_PATHS: Record<string, string[]> = {
  '/pods': [],
  '/podtemplates': ['template'],
  '/replicationcontrollers': ['spec', 'template'],
  'apps/replicasets': ['spec', 'template'],
  'apps/deployments': ['spec', 'template'],
  'apps/statefulsets': ['spec', 'template'],
  'apps/daemonsets': ['spec', 'template'],
  'batch/jobs': ['spec', 'template'],
  'batch/cronjobs': ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Whether objects of this resource may carry a pod spec. */
export function hasPodSpec(group: string, resource: string): boolean {
  return `${group}/${resource}` in TEMPLATE_PATHS;
}

/** The pod (or template) metadata and spec; undefined when the object has no pod template. */
export function extractPodSpec(group: string, resource: string, obj: Rec): { meta: Rec; spec: Rec } | undefined {
  const path = TEMPLATE_PATHS[`${group}/${resource}`];
  if (!path) return undefined;
  let at: unknown = obj;
  for (const k of path) at = at && typeof at === 'object' ? (at as Rec)[k] : undefined;
  if (!at || typeof at !== 'object') return undefined;
  const t = at as Rec;
  const meta = t.metadata && typeof t.metadata === 'object' ? t.metadata : {};
  const spec = t.spec && typeof t.spec === 'object' ? t.spec : {};
  return { meta, spec };
}
