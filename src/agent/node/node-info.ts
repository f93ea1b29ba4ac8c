/**
 * What a node agent reports about its machine in the Node object: capacity and allocatable, addresses,
 * nodeInfo, well-known labels and the four kubelet conditions (Ready, MemoryPressure, DiskPressure,
 * PIDPressure). Reading the machine (`sampleMachine`) is kept apart from turning a sample into Node
 * fields (the pure functions), so the latter are tested with fixed samples.
 */
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { HOSTNAME_LABEL } from '../../apis/well-known.ts';

export const KUBELET_VERSION = 'v1.32.0-berth';
export const CONTAINER_RUNTIME_VERSION = 'berth://0.1.0';
export const DEFAULT_MAX_PODS = 110;

const KI = 1024;
const MI = 1024 * KI;
const GI = 1024 * MI;
/** MemoryPressure when MemAvailable is below this (the kubelet's default memory.available<100Mi). */
export const MEMORY_PRESSURE_BYTES = 100 * MI;
/** DiskPressure when free space is below this fraction of the data dir's filesystem, or below 1Gi. */
export const DISK_PRESSURE_FRACTION = 0.1;
export const DISK_PRESSURE_BYTES = GI;
/** PIDPressure when fewer than this fraction of pid_max is left. */
export const PID_PRESSURE_FRACTION = 0.1;

/** Resources held back from allocatable (kube-reserved + system-reserved in one). */
export interface Reserved {
  /** Millicores. */
  cpuMillis?: number;
  memoryBytes?: number;
  ephemeralStorageBytes?: number;
}

/** One reading of the machine. */
export interface MachineSample {
  cpus: number;
  memTotalBytes: number;
  /** undefined when /proc/meminfo lacks MemAvailable. */
  memAvailableBytes?: number;
  diskTotalBytes: number;
  diskFreeBytes: number;
  pidCount: number;
  pidMax: number;
  hostname: string;
  internalIP: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** `/proc/meminfo` → bytes per key (values there are in kB). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (line.includes('kB') ? KI : 1);
  }
  return out;
}

/** `/etc/os-release` → PRETTY_NAME (unquoted); 'Linux' when missing. */
export function parsePrettyName(text: string | undefined): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(text ?? '');
  if (!m) return 'Linux';
  return m[1].trim().replace(/^(["'])(.*)\1$/, '$2');
}

/** Node's os.arch() as Go's GOARCH. */
export function goArch(arch: string = os.arch()): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}

/** The first non-internal IPv4 address of the host, else 127.0.0.1. */
export function hostIPv4(ifaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces()): string {
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function countPids(): number {
  try { return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length; } catch { return 0; }
}

/** Reads the machine now; `dataDir` is the filesystem whose space is ephemeral-storage. */
export function sampleMachine(dataDir: string): MachineSample {
  const mem = parseMeminfo(readText('/proc/meminfo') ?? '');
  let diskTotal = 0;
  let diskFree = 0;
  try {
    const st = statfsSync(dataDir);
    diskTotal = st.blocks * st.bsize;
    diskFree = st.bavail * st.bsize;
  } catch { /* unknown: reported as 0 */ }
  const machineID = (readText('/etc/machine-id') ?? '').trim();
  return {
    cpus: os.availableParallelism(),
    memTotalBytes: mem.MemTotal ?? os.totalmem(),
    memAvailableBytes: mem.MemAvailable,
    diskTotalBytes: diskTotal,
    diskFreeBytes: diskFree,
    pidCount: countPids(),
    pidMax: Number((readText('/proc/sys/kernel/pid_max') ?? '').trim()) || 32768,
    hostname: os.hostname(),
    internalIP: hostIPv4(),
    machineID,
    systemUUID: (readText('/sys/class/dmi/id/product_uuid') ?? '').trim().toLowerCase() || machineID,
    bootID: (readText('/proc/sys/kernel/random/boot_id') ?? '').trim(),
    kernelVersion: os.release(),
    osImage: parsePrettyName(readText('/etc/os-release')),
    architecture: goArch(),
  };
}

/** Bytes as a Kubernetes quantity in Ki (rounded down). */
export function toKi(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / KI))}Ki`;
}

function cpuQuantity(millis: number): string {
  const m = Math.max(0, Math.floor(millis));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Capacity and allocatable (capacity minus `reserved`) for a sample. */
export function nodeResources(s: MachineSample, maxPods = DEFAULT_MAX_PODS, reserved: Reserved = {}): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  return {
    capacity: {
      cpu: String(s.cpus),
      memory: toKi(s.memTotalBytes),
      pods: String(maxPods),
      'ephemeral-storage': toKi(s.diskTotalBytes),
    },
    allocatable: {
      cpu: cpuQuantity(s.cpus * 1000 - (reserved.cpuMillis ?? 0)),
      memory: toKi(s.memTotalBytes - (reserved.memoryBytes ?? 0)),
      pods: String(maxPods),
      'ephemeral-storage': toKi(s.diskTotalBytes - (reserved.ephemeralStorageBytes ?? 0)),
    },
  };
}

/** InternalIP and Hostname. */
export function nodeAddresses(s: MachineSample, hostname = s.hostname): { type: string; address: string }[] {
  return [{ type: 'InternalIP', address: s.internalIP }, { type: 'Hostname', address: hostname }];
}

/** status.nodeInfo. */
export function nodeSystemInfo(s: MachineSample): Record<string, string> {
  return {
    machineID: s.machineID,
    systemUUID: s.systemUUID,
    bootID: s.bootID,
    kernelVersion: s.kernelVersion,
    osImage: s.osImage,
    containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
    kubeletVersion: KUBELET_VERSION,
    kubeProxyVersion: KUBELET_VERSION,
    operatingSystem: 'linux',
    architecture: s.architecture,
  };
}

/** The well-known labels a kubelet sets on its Node. */
export function nodeLabels(nodeName: string, architecture: string = goArch()): Record<string, string> {
  return {
    [HOSTNAME_LABEL]: nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': architecture,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': architecture,
    'node.kubernetes.io/instance-type': 'berth',
  };
}

function cond(type: string, on: boolean, yes: [string, string], no: [string, string]): NodeCondition {
  const [reason, message] = on ? yes : no;
  return { type, status: on ? 'True' : 'False', reason, message };
}

/**
 * The conditions, in the kubelet's order, without timestamps (see {@link stampConditions}). `ready`
 * is whether the agent's runtime can run pods.
 */
export function nodeConditions(s: MachineSample, ready: boolean): NodeCondition[] {
  const memPressure = s.memAvailableBytes !== undefined && s.memAvailableBytes < MEMORY_PRESSURE_BYTES;
  const diskPressure = s.diskTotalBytes > 0 && (s.diskFreeBytes < s.diskTotalBytes * DISK_PRESSURE_FRACTION || s.diskFreeBytes < DISK_PRESSURE_BYTES);
  const pidPressure = s.pidMax > 0 && s.pidMax - s.pidCount < s.pidMax * PID_PRESSURE_FRACTION;
  return [
    cond('MemoryPressure', memPressure, ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'], ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available']),
    cond('DiskPressure', diskPressure, ['KubeletHasDiskPressure', 'kubelet has disk pressure'], ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure']),
    cond('PIDPressure', pidPressure, ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'], ['KubeletHasSufficientPID', 'kubelet has sufficient PID available']),
    cond('Ready', ready, ['KubeletReady', 'kubelet is posting ready status'], ['KubeletNotReady', 'node agent is not ready: container runtime is not ready']),
  ];
}

/**
 * Adds heartbeat and transition times: lastHeartbeatTime = now; lastTransitionTime kept from
 * `previous` while the condition's status is unchanged.
 */
export function stampConditions(next: NodeCondition[], previous: NodeCondition[] | undefined, now: string): NodeCondition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const transition = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: transition };
  });
}
