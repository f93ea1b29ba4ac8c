/**
 * Field table for scheduling.k8s.io/v1: PriorityClass (`kubectl create priorityclass` sends it).
 * Upstream equivalent: k8s.io/api scheduling/v1 generated.proto. value has no omitempty (a zero
 * value is kept), preemptionPolicy is a pointer. Notation: see schema-meta.ts.
 */
/** Field tables of scheduling.k8s.io/v1 messages, by message name. */
export const schedulingMessages: Record<string, string> = {
  PriorityClass: '1 metadata ObjectMeta; 2 value int32!; 3 globalDefault bool; 4 description string; 5 preemptionPolicy string!',
};
