/**
 * Field table for autoscaling/v1 Scale, the body of the scale subresource of Deployments,
 * ReplicaSets and StatefulSets. Upstream equivalent: Scale, ScaleSpec and ScaleStatus in k8s.io/api
 * autoscaling/v1 generated.proto (Kubernetes 1.33, a superset of 1.32). Notation: see
 * schema-meta.ts.
 */
/** Field tables of autoscaling/v1 messages, by message name. */
export const autoscalingMessages: Record<string, string> = {
  Scale: '1 metadata ObjectMeta; 2 spec ScaleSpec; 3 status ScaleStatus',
  ScaleSpec: '1 replicas int32',
  ScaleStatus: '1 replicas int32!; 2 selector string',
};
