/**
 * Pods (pkg/registry/core/pod/strategy.go): defaults, the create-time status, spec validation and
 * the narrow set of fields a pod update may change. The default not-ready/unreachable tolerations
 * come from admission (registry/admission/default-toleration-seconds.ts), as upstream's do.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { defaultPod } from '../defaults/pod-spec.ts';
import { podQOSClass } from '../../apis/pod-qos.ts';
import { validatePodSpec } from '../validation/pod-spec.ts';
import { validatePodStatusUpdate, validatePodUpdate } from '../validation/pod-update.ts';
import { validateRuntimeAnnotations } from '../validation/runtime-annotations.ts';
import { rfc3339 } from '../../apis/time.ts';

export const podStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    defaultPod(obj);
  },

  prepareForCreate(obj: KubeObject): void {
    const spec = obj.spec as Record<string, any>;
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

