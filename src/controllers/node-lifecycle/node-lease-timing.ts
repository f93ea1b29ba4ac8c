/**
 * The timing contract between node agents and the node lifecycle controller (the kubelet's
 * --node-lease-duration-seconds / renew interval and kube-controller-manager's
 * --node-monitor-grace-period): agents renew their Lease in kube-node-lease every 2 s; a node whose
 * Lease has not been renewed for the grace period (8 s by default: four renewals) is NotReady —
 * within 10 s of its last sign of life, counting the controller's pass and a loaded machine.
 *
 * Kubernetes renews every 10 s and waits 40 s; Berth is for small clusters that should notice a lost
 * machine in seconds, and a Lease renewal is one small write. The grace must exceed the renewal
 * interval with room for a late renewal, or every node flaps NotReady between two renewals — which
 * happened silently before the check below.
 */

/** How often agents (and `berth sim` nodes) renew their node Lease. */
export const NODE_LEASE_RENEW_INTERVAL_SECONDS = 2;
/** The Lease's spec.leaseDurationSeconds agents write (how long another agent must wait for the name). */
export const NODE_LEASE_DURATION_SECONDS = 10;
/** The node monitor grace period unless configured. */
export const DEFAULT_NODE_GRACE_PERIOD_SECONDS = 8;

/**
 * The grace period, checked: a number of seconds greater than the agents' renewal interval (two
 * intervals at least, so one late or lost renewal does not make a node NotReady).
 */
export function validateNodeGracePeriod(seconds: number, renewIntervalSeconds = NODE_LEASE_RENEW_INTERVAL_SECONDS): number {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--node-monitor-grace-period must be a positive number of seconds, got ${seconds}`);
  if (seconds < 2 * renewIntervalSeconds) {
    throw new Error(`--node-monitor-grace-period ${seconds} s is too short: node agents renew their Lease every ${renewIntervalSeconds} s, `
      + `so a grace under ${2 * renewIntervalSeconds} s (two renewals) would make healthy nodes flap NotReady; use at least ${2 * renewIntervalSeconds} (default ${DEFAULT_NODE_GRACE_PERIOD_SECONDS})`);
  }
  return seconds;
}
