/**
 * The API objects of a hollow node, built from the same pure builders the real agent uses
 * (src/agent/node/node-info.ts): the Node (labels, taints, podCIDR, capacity = allocatable, fake
 * addresses, nodeInfo, the four kubelet conditions), its Lease in kube-node-lease, and the small merge
 * patches that renew the Lease and refresh the heartbeat conditions.
 */
import type { KubeObject } from '../apis/object.ts';
import { goArch, nodeConditions, nodeLabels, nodeSystemInfo, stampConditions, type MachineSample, type NodeCondition } from '../agent/node/node-info.ts';
import { NODE_LEASE_NAMESPACE } from '../agent/node/node-registration.ts';
import type { SimConfig } from './sim-config.ts';
import { simNodeIP, simPodCIDR } from './pod-ip-pool.ts';
import { SIMULATED_LABEL } from '../apis/well-known.ts';
import { rfc3339, rfc3339Micro } from '../apis/time.ts';

/** The kubelet port a hollow node advertises (nothing listens: logs/exec do not work). */
export const SIM_KUBELET_PORT = 10250;

/** A machine that is never under pressure, for the shared builders. */
function fakeSample(name: string, index: number): MachineSample {
  const id = `b3a7${index.toString(16).padStart(28, '0')}`;
  return {
    cpus: 4, memTotalBytes: 16 * 2 ** 30, memAvailableBytes: 16 * 2 ** 30, diskTotalBytes: 100 * 2 ** 30, diskFreeBytes: 100 * 2 ** 30,
    pidCount: 100, pidMax: 4_194_304, hostname: name, internalIP: simNodeIP(index),
    machineID: id, systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`, bootID: id,
    kernelVersion: '6.1.0-hollow', osImage: 'Berth hollow node', architecture: goArch(),
  };
}

/** The four kubelet conditions, all healthy, heartbeat `now`, transition `since`. */
export function healthyConditions(name: string, index: number, now: string, since: string): NodeCondition[] {
  const previous = nodeConditions(fakeSample(name, index), true).map((c) => ({ ...c, lastTransitionTime: since }));
  return stampConditions(nodeConditions(fakeSample(name, index), true), previous, now);
}

/** The labels of a hollow node: the kubelet's well-known ones, `berth.dev/simulated`, then the user's. */
export function hollowNodeLabels(name: string, cfg: Pick<SimConfig, 'labels'>): Record<string, string> {
  return { ...nodeLabels(name, goArch()), 'node.kubernetes.io/instance-type': 'berth-hollow', [SIMULATED_LABEL]: 'true', ...cfg.labels };
}

/** The status of a hollow node. */
export function hollowNodeStatus(name: string, index: number, cfg: Pick<SimConfig, 'cpu' | 'memory' | 'pods' | 'ephemeralStorage'>, now: string): KubeObject['status'] {
  const resources = { cpu: cfg.cpu, memory: cfg.memory, pods: String(cfg.pods), 'ephemeral-storage': cfg.ephemeralStorage };
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    conditions: healthyConditions(name, index, now, now),
    addresses: [{ type: 'InternalIP', address: simNodeIP(index) }, { type: 'Hostname', address: name }],
    daemonEndpoints: { kubeletEndpoint: { Port: SIM_KUBELET_PORT } },
    nodeInfo: nodeSystemInfo(fakeSample(name, index)),
  };
}

/** The Node object a hollow node registers. */
export function hollowNode(name: string, index: number, cfg: SimConfig, now = rfc3339()): KubeObject {
  const podCIDR = simPodCIDR(index);
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: hollowNodeLabels(name, cfg) },
    spec: { podCIDR, podCIDRs: [podCIDR], ...(cfg.taints.length ? { taints: cfg.taints } : {}) },
    status: hollowNodeStatus(name, index, cfg, now),
  };
}

/** The Lease of a hollow node, owned by its Node (so it goes when the Node does). */
export function hollowLease(name: string, nodeUid: string, durationSeconds: number, now = new Date()): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: NODE_LEASE_NAMESPACE, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }] },
    spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: rfc3339Micro(now) },
  };
}

/**
 * The Lease `lease` (as the server last returned it) renewed now: the object a kubelet's lease
 * controller sends as an update, its resourceVersion the precondition.
 */
export function renewedLease(lease: KubeObject, name: string, durationSeconds: number, now = new Date()): KubeObject {
  return { ...lease, spec: { ...lease.spec, holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: rfc3339Micro(now) } };
}

/** Merge patch renewing a Lease. */
export function leaseRenewPatch(name: string, durationSeconds: number, now = new Date()): unknown {
  return { spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: rfc3339Micro(now) } };
}

/** Merge patch (nodes/status) refreshing the heartbeat conditions. */
export function heartbeatPatch(name: string, index: number, since: string, now = rfc3339()): unknown {
  return { status: { conditions: healthyConditions(name, index, now, since) } };
}
