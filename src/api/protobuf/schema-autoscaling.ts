/**
 * Field table for autoscaling/v1 Scale, the body of the scale subresource of Deployments,
 * ReplicaSets and StatefulSets, and autoscaling/v1 HorizontalPodAutoscaler (what `kubectl autoscale`
 * sends). Upstream equivalent: Scale, ScaleSpec, ScaleStatus, HorizontalPodAutoscaler* and
 * CrossVersionObjectReference in k8s.io/api autoscaling/v1 generated.proto (Kubernetes 1.33, a superset of 1.32). Notation: see
 * schema-meta.ts.
 */
/** Field tables of autoscaling/v1 messages, by message name. */
export const autoscalingMessages: Record<string, string> = {
  Scale: '1 metadata ObjectMeta; 2 spec ScaleSpec; 3 status ScaleStatus',
  ScaleSpec: '1 replicas int32',
  ScaleStatus: '1 replicas int32!; 2 selector string',
  HorizontalPodAutoscaler: '1 metadata ObjectMeta; 2 spec HorizontalPodAutoscalerSpec; 3 status HorizontalPodAutoscalerStatus',
  HorizontalPodAutoscalerSpec: '1 scaleTargetRef CrossVersionObjectReference; 2 minReplicas int32!; 3 maxReplicas int32!; 4 targetCPUUtilizationPercentage int32!',
  CrossVersionObjectReference: '1 kind string; 2 name string; 3 apiVersion string',
  HorizontalPodAutoscalerStatus: `1 observedGeneration int64!; 2 lastScaleTime Time; 3 currentReplicas int32!; 4 desiredReplicas int32!;
    5 currentCPUUtilizationPercentage int32!`,
};
