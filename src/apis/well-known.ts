/**
 * Well-known labels, annotations and taints that more than one part of Berth reads or writes
 * (k8s.io/api/core/v1 well_known_labels.go, well_known_taints.go and Berth's own `berth.dev/` keys).
 * A key used by one file only stays in that file.
 */

/** Label on EndpointSlices naming their Service (discovery/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label on EndpointSlices naming the controller that manages them. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Label every Namespace carries with its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Node label with the node's host name. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Job pod labels (batch/v1): the owning Job's uid and name. */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** Node condition taints (well_known_taints.go); pods get default tolerations for the first two. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
/** Set by a human (or tooling) on a node known to be shut down: its pods may be force-deleted and their volumes detached (KEP-2268, non-graceful node shutdown). */
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

/** Node annotation with the URL of the node agent's log/exec server (set by the agent, read by the API server). */
export const AGENT_URL_ANNOTATION = 'berth.dev/agent-url';
/** Label on Nodes that `berth sim` runs (hollow: nothing runs on them). */
export const SIMULATED_LABEL = 'berth.dev/simulated';
