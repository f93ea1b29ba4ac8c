/**
 * Pods (pkg/registry/core/pod/strategy.go): defaults, the create-time status and tolerations that
 * admission adds, spec validation and the narrow set of fields a pod update may change.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { defaultPod } from '../defaults/pod-spec.ts';
import { podQOSClass } from '../../apis/pod-qos.ts';
import { validatePodSpec } from '../validation/pod-spec.ts';
import { validatePodStatusUpdate, validatePodUpdate } from '../validation/pod-update.ts';
import { validateRuntimeAnnotations } from '../validation/runtime-annotations.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from '../../apis/well-known.ts';
import { rfc3339 } from '../../apis/time.ts';

/** DefaultTolerationSeconds admission: how long a pod stays bound to a not-ready/unreachable node. */
const DEFAULT_TOLERATION_SECONDS = 300;

/** Adds the DefaultTolerationSeconds admission tolerations unless the pod already tolerates those taints. */
export function addDefaultTolerations(spec: Record<string, any>): void {
  const tols: Record<string, any>[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  // A toleration with no key and operator Exists tolerates every taint (Kubernetes' admission agrees).
  const tolerates = (key: string) => tols.some((t) => (t?.key === key || (!t?.key && t?.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
  const add: Record<string, any>[] = [];
  for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
    if (!tolerates(key)) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  if (add.length) spec.tolerations = [...tols, ...add];
}

export const podStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    defaultPod(obj);
  },

  prepareForCreate(obj: KubeObject): void {
    const spec = obj.spec as Record<string, any>;
    addDefaultTolerations(spec);
    // Priority admission without a default PriorityClass.
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    const status: Record<string, any> = { phase: 'Pending', qosClass: podQOSClass(spec) };
    if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) {
      status.conditions = [{
        type: 'PodScheduled', status: 'False', reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
        lastProbeTime: null, lastTransitionTime: rfc3339(),
      }];
    }
    obj.status = status;
  },

  validate(obj: KubeObject) {
    return [...validatePodSpec(obj.spec, 'spec'), ...validateRuntimeAnnotations(obj.metadata, obj.spec, 'metadata')];
  },

  validateUpdate(obj: KubeObject, old: KubeObject) {
    return [...validatePodUpdate(obj, old), ...validateRuntimeAnnotations(obj.metadata, obj.spec, 'metadata')];
  },

  validateStatusUpdate(obj: KubeObject, old: KubeObject) {
    return validatePodStatusUpdate(obj, old);
  },
};

