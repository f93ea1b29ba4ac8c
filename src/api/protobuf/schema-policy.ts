/**
 * Field table for policy/v1: Eviction (the body of a pod's eviction subresource; policy/v1beta1
 * Eviction has the same fields) and PodDisruptionBudget. Upstream equivalent: the matching
 * messages of k8s.io/api policy/v1 generated.proto (Kubernetes 1.33, a superset of 1.32).
 * Notation: see schema-meta.ts.
 */
/** Field tables of policy/v1 messages, by message name. */
export const policyMessages: Record<string, string> = {
  Eviction: '1 metadata ObjectMeta; 2 deleteOptions DeleteOptions',
  PodDisruptionBudget: '1 metadata ObjectMeta; 2 spec PodDisruptionBudgetSpec; 3 status PodDisruptionBudgetStatus',
  PodDisruptionBudgetSpec: `1 minAvailable IntOrString; 2 selector LabelSelector; 3 maxUnavailable IntOrString;
    4 unhealthyPodEvictionPolicy string!`,
  PodDisruptionBudgetStatus: `1 observedGeneration int64; 2 disruptedPods map<string,Time>; 3 disruptionsAllowed int32!;
    4 currentHealthy int32!; 5 desiredHealthy int32!; 6 expectedPods int32!; 7 conditions Condition[]`,
};
