/**
 * Settings of `berth sim` and the parsing of its flag values: node names (`<prefix>-<zero-padded
 * index>`), `--taint key=value:Effect` and `--label k=v`. Pure, so the command and tests share it.
 */
import type { Taint } from '../agent/node/node-registration.ts';

/** What the simulated fleet looks like and how hard it may push the API server. */
export interface SimConfig {
  /** How many hollow nodes. */
  nodes: number;
  /** Node names are `<prefix>-<index>` (default `sim`). */
  prefix: string;
  /** Capacity = allocatable per node (Kubernetes quantities). */
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  /** Extra node labels, over the well-known ones. */
  labels: Record<string, string>;
  /** Taints set when a node is created. */
  taints: Taint[];
  /** API requests in flight at most (registration, leases, heartbeats, pod status). */
  concurrency: number;
  /** Lease renewal period (default 2 000 ms, a Berth agent's: controllers/node-lifecycle/node-lease-timing.ts). */
  leaseIntervalMs: number;
  /** spec.leaseDurationSeconds (default 10). */
  leaseDurationSeconds: number;
  /**
   * Node status heartbeat period (default 300 000 ms: the kubelet's nodeStatusReportFrequency, how
   * often it writes an unchanged status; the Lease is the heartbeat the lifecycle controller reads).
   * A hollow node's status never changes, so this is the only status write it makes.
   */
  statusIntervalMs: number;
  /** Delete the Nodes (their Leases follow by owner reference) when stopping. */
  deleteNodesOnExit: boolean;
}

/** The defaults: 4 cpu, 16Gi, 110 pods, 100Gi ephemeral-storage, 50 requests in flight. */
export const DEFAULT_SIM_CONFIG: Readonly<SimConfig> = Object.freeze({
  nodes: 1, prefix: 'sim', cpu: '4', memory: '16Gi', pods: 110, ephemeralStorage: '100Gi',
  labels: {}, taints: [], concurrency: 50, leaseIntervalMs: 2_000, leaseDurationSeconds: 10,
  statusIntervalMs: 300_000, deleteNodesOnExit: false,
});

/** The label every hollow node carries. */

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Digits of the zero-padded index: at least 4, more when `count` needs them. */
export function indexWidth(count: number): number {
  return Math.max(4, String(Math.max(0, count - 1)).length);
}

/** `sim-0042` for index 42 of 5,000. */
export function simNodeName(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index).padStart(indexWidth(count), '0')}`;
}

/** Checks a prefix makes valid node names. */
export function validatePrefix(prefix: string): void {
  if (!DNS1123_LABEL.test(prefix) || prefix.length > 50) {
    throw new Error(`invalid --prefix "${prefix}": lower-case letters, digits and '-', starting and ending alphanumeric, at most 50 characters`);
  }
}

/** `key=value:Effect` or `key:Effect` → a Taint. */
export function parseTaint(s: string): Taint {
  const m = /^([^=:\s]+)(?:=([^:\s]*))?:(\w+)$/.exec(s.trim());
  if (!m) throw new Error(`invalid taint "${s}": want key=value:Effect or key:Effect`);
  const effect = m[3] as Taint['effect'];
  if (!EFFECTS.includes(effect)) throw new Error(`invalid taint effect "${m[3]}" in "${s}": one of ${EFFECTS.join(', ')}`);
  return m[2] ? { key: m[1], value: m[2], effect } : { key: m[1], effect };
}

/** `k=v` → [k, v]. */
export function parseLabel(s: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new Error(`invalid label "${s}": want key=value`);
  return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
}

/** A positive integer flag value. */
export function parsePositiveInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got "${s}"`);
  return n;
}

/**
 * `--lease-interval`, `--lease-duration`, `--status-interval` (seconds) → the config's timing. The
 * renewal period is free (the server's grace is the server's flag: at 5,000 nodes a 2 s period is
 * 2,500 writes/s, so large fleets renew every 10 s against `--node-monitor-grace-period 40`, as
 * Kubernetes' defaults); the Lease's duration defaults to 5 periods (at least 10 s, an agent's).
 */
export function parseLeaseTiming(interval: string, duration: string | undefined, status: string): Pick<SimConfig, 'leaseIntervalMs' | 'leaseDurationSeconds' | 'statusIntervalMs'> {
  const seconds = (s: string, what: string) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number of seconds, got "${s}"`);
    return n;
  };
  const leaseS = seconds(interval, '--lease-interval');
  const durationS = duration === undefined ? Math.max(10, Math.ceil(5 * leaseS)) : parsePositiveInt(duration, '--lease-duration');
  if (durationS <= leaseS) throw new Error(`--lease-duration ${durationS} s must exceed --lease-interval ${leaseS} s`);
  return { leaseIntervalMs: Math.round(leaseS * 1000), leaseDurationSeconds: durationS, statusIntervalMs: Math.round(seconds(status, '--status-interval') * 1000) };
}
