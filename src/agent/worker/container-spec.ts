/**
 * Turns a pod's container into the driver's ContainerSpec: argv, env, mounts (volumes plus the pod's
 * /etc/hosts and /etc/resolv.conf), user, cgroup limits, network namespace and log file.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ContainerSpec, Mount, ResourceLimits } from '../runtime/driver.ts';
import { parseQuantity } from '../../apis/quantity.ts';
import { expandArgs } from '../pod/env.ts';
import { isStatefulPod } from '../../apis/volumes/replicated.ts';

export interface SandboxInfo {
  netnsPath?: string;
  /** The pod IP: set once the network is up (see `ready`). */
  ip?: string;
  hostsPath?: string;
  resolvConfPath?: string;
  /**
   * While the pod's CNI ADD is still running: settles when it is done (ip set, /etc/hosts complete);
   * rejects with a {@link SandboxNetworkError}. Containers may be created meanwhile, not started.
   */
  ready?: Promise<void>;
}

/** The pod's network could not be set up (the kubelet's FailedCreatePodSandBox). */
export class SandboxNetworkError extends Error {
  constructor(cause: Error) {
    super(cause.message);
    this.name = 'SandboxNetworkError';
  }
}

/** `<pod-uid>_<container>_<restartCount>`: the driver id; the restart count is recoverable from it. */
export function containerId(podUid: string, name: string, restartCount: number): string {
  return `${podUid}_${name}_${restartCount}`;
}

export function parseContainerId(id: string): { podUid: string; name: string; restartCount: number } | undefined {
  const m = id.match(/^([0-9a-f-]{36})_(.+)_(\d+)$/);
  return m ? { podUid: m[1], name: m[2], restartCount: Number(m[3]) } : undefined;
}

function limitsOf(container: Record<string, any>): ResourceLimits {
  const lim = container.resources?.limits ?? {};
  const req = container.resources?.requests ?? {};
  const out: ResourceLimits = {};
  const q = (v: unknown) => { try { return v === undefined ? undefined : parseQuantity(String(v)); } catch { return undefined; } };
  const cpuL = q(lim.cpu);
  if (cpuL !== undefined) out.cpuLimitMillis = Math.max(1, Math.round(cpuL * 1000));
  const cpuR = q(req.cpu ?? lim.cpu);
  if (cpuR !== undefined) out.cpuRequestMillis = Math.max(1, Math.round(cpuR * 1000));
  const memL = q(lim.memory);
  if (memL !== undefined) out.memoryLimitBytes = Math.round(memL);
  return out;
}

/** runAsUser / runAsGroup: the container's securityContext over the pod's. */
function userOf(pod: KubeObject, container: Record<string, any>): ContainerSpec['user'] {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  if (uid === undefined && gid === undefined) return undefined;
  // fsGroup joins the supplementary groups, as the kubelet adds it: the volumes it owns are the pod's.
  const groups = [...new Set([...((podSc.supplementalGroups as number[] | undefined) ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup as number] : [])])];
  return { uid: uid ?? 0, gid: gid ?? uid ?? 0, groups: groups.length ? groups : undefined };
}

export interface BuildSpecInput {
  pod: KubeObject;
  container: Record<string, any>;
  restartCount: number;
  env: Record<string, string>;
  mounts: Mount[];
  sandbox: SandboxInfo;
  logPath: string;
  cgroupParent: string;
  pidsLimit?: number;
  /** The node's self-fencing, applied to stateful pods' containers only (isStatefulPod). */
  fence?: { heartbeatFile: string; afterMs: number };
}

export function buildContainerSpec(i: BuildSpecInput): ContainerSpec {
  const { pod, container } = i;
  const argv = expandArgs([...(container.command ?? []), ...(container.args ?? [])], i.env);
  const mounts = [...i.mounts];
  // The pod's own name resolution files, unless the container mounts its own over them.
  const has = (p: string) => mounts.some((m) => m.containerPath === p);
  if (i.sandbox.hostsPath && !has('/etc/hosts') && !pod.spec?.hostNetwork) mounts.push({ hostPath: i.sandbox.hostsPath, containerPath: '/etc/hosts', readOnly: true });
  if (i.sandbox.resolvConfPath && !has('/etc/resolv.conf')) mounts.push({ hostPath: i.sandbox.resolvConfPath, containerPath: '/etc/resolv.conf', readOnly: true });
  const resources = limitsOf(container);
  if (i.pidsLimit) resources.pidsLimit = i.pidsLimit;
  return {
    id: containerId(pod.metadata.uid!, container.name, i.restartCount),
    podUid: pod.metadata.uid!,
    podName: pod.metadata.name!,
    podNamespace: pod.metadata.namespace!,
    containerName: container.name,
    image: container.image,
    argv,
    env: i.env,
    workingDir: container.workingDir,
    mounts,
    user: userOf(pod, container),
    resources,
    netnsPath: pod.spec?.hostNetwork ? undefined : i.sandbox.netnsPath,
    startGate: i.sandbox.ready,
    hostname: pod.spec?.hostname ?? pod.metadata.name!,
    logPath: i.logPath,
    tty: !!container.tty,
    stdin: !!container.stdin,
    stdinOnce: !!container.stdin && !!container.stdinOnce,
    cgroupParent: i.cgroupParent,
    fence: i.fence && isStatefulPod(pod) ? i.fence : undefined,
    // securityContext fields the runc runtime applies (a host process has no image root or capability set of its own).
    privileged: container.securityContext?.privileged === true,
    readOnlyRootFilesystem: container.securityContext?.readOnlyRootFilesystem === true,
    capabilities: container.securityContext?.capabilities,
    allowPrivilegeEscalation: container.securityContext?.allowPrivilegeEscalation,
  };
}
