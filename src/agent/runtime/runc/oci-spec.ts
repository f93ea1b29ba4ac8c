/**
 * ContainerSpec → OCI runtime spec (the bundle's config.json), pure so it can be tested without
 * root. The layout follows what containerd's CRI plugin generates for a pod container: private
 * pid/ipc/uts/mount namespaces, the pod's network namespace joined by path, containerd's default
 * capabilities and masked paths, cgroup limits from the millicores and bytes of the spec.
 */
import { posix } from 'node:path';
import { CPU_PERIOD_US, cpuQuotaUs, cpuShares } from '../cgroups/index.ts';
import type { ContainerSpec } from '../driver.ts';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, defaultMounts, MASKED_PATHS, READONLY_PATHS, type OciMount } from './oci-defaults.ts';

/** Where the init (tini-static) is bind-mounted: on the /dev tmpfs, so the image is never touched. */
export const INIT_PATH = '/dev/init';

/** The subset of the OCI runtime spec Berth writes. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: {
      devices: { allow: boolean; access: string; type?: string }[];
      cpu?: { shares?: number; quota?: number; period?: number };
      memory?: { limit?: number; swap?: number };
      pids?: { limit: number };
      unified?: Record<string, string>;
    };
    maskedPaths?: string[];
    readonlyPaths?: string[];
  };
}

/** Facts about the host and the bundle that the spec depends on. */
export interface OciSpecOptions {
  /** The mounted rootfs (absolute). */
  rootfsPath: string;
  /** Host path of a static init (tini-static) run as pid 1; without it argv runs as pid 1. */
  initHostPath?: string;
  /** Cgroup version the limits are written for (hybrid = v1). */
  cgroupVersion: 'v1' | 'v2';
  /** v1 only: memory.memsw.* exists (swap accounting on), so swap can be limited to the memory limit. */
  swapAccounting: boolean;
  /** The agent's own bounding set (what privileged means); default every capability. */
  hostCapabilities?: readonly string[];
}

/** `NET_ADMIN` / `cap_net_admin` → `CAP_NET_ADMIN`. */
export function capabilityName(name: string): string {
  const up = name.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/**
 * The capability set after Kubernetes' add/drop (drop ALL first, then add, like containerd).
 * Privileged and `add: [ALL]` mean every capability the agent itself holds (`hostCapabilities`,
 * its bounding set): runc cannot grant more, and some hosts run the agent without a few.
 */
export function effectiveCapabilities(spec: Pick<ContainerSpec, 'privileged' | 'capabilities'>, hostCapabilities: readonly string[] = ALL_CAPABILITIES): string[] {
  if (spec.privileged) return [...hostCapabilities];
  const add = (spec.capabilities?.add ?? []).map(capabilityName);
  const drop = (spec.capabilities?.drop ?? []).map(capabilityName);
  let caps = new Set<string>(drop.includes('CAP_ALL') ? [] : DEFAULT_CAPABILITIES);
  if (add.includes('CAP_ALL')) caps = new Set(hostCapabilities);
  else for (const c of add) caps.add(c);
  for (const c of drop) caps.delete(c);
  return [...caps];
}

/** `cgroupParent/id` as an absolute cgroupsPath: runc reads it relative to each hierarchy root. */
export function cgroupsPathOf(spec: Pick<ContainerSpec, 'cgroupParent' | 'id'>): string {
  return posix.join('/', spec.cgroupParent, spec.id);
}

/** The argv runc starts: tini as pid 1 (signal forwarding to the group, zombie reaping), then argv. */
export function processArgs(argv: string[], initHostPath: string | undefined): string[] {
  return initHostPath ? [INIT_PATH, '-g', '--', ...argv] : [...argv];
}

function bindMounts(spec: ContainerSpec): OciMount[] {
  return spec.mounts.map((m) => ({
    destination: m.containerPath,
    type: 'bind',
    source: m.hostPath,
    // rbind: submounts of a volume come along; rprivate: nothing propagates back to the host.
    options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'],
  }));
}

function resources(spec: ContainerSpec, opts: OciSpecOptions): OciSpec['linux']['resources'] {
  const r = spec.resources;
  const out: OciSpec['linux']['resources'] = {
    // Deny all device nodes; runc appends its default allow list (null, zero, tty, ptmx, …).
    devices: [{ allow: !!spec.privileged, access: 'rwm' }],
    cpu: { shares: cpuShares(r.cpuRequestMillis) },
  };
  if (r.cpuLimitMillis !== undefined) out.cpu = { ...out.cpu, quota: cpuQuotaUs(r.cpuLimitMillis), period: CPU_PERIOD_US };
  if (r.memoryLimitBytes !== undefined) {
    // swap = limit means no swap (v1 memsw is memory+swap; runc turns it into memory.swap.max=0 on v2).
    const withSwap = opts.cgroupVersion === 'v2' || opts.swapAccounting;
    out.memory = { limit: r.memoryLimitBytes, ...(withSwap ? { swap: r.memoryLimitBytes } : {}) };
  }
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  // v2: kill the whole container on OOM, as the kubelet does.
  if (opts.cgroupVersion === 'v2') out.unified = { 'memory.oom.group': '1' };
  return out;
}

/** Builds config.json for one container. `spec.env` must already hold PATH (the driver adds the default). */
export function buildOciSpec(spec: ContainerSpec, opts: OciSpecOptions): OciSpec {
  const caps = effectiveCapabilities(spec, opts.hostCapabilities);
  const mounts = defaultMounts({ privileged: !!spec.privileged, ipcNamespace: true });
  if (opts.initHostPath) mounts.push({ destination: INIT_PATH, type: 'bind', source: opts.initHostPath, options: ['bind', 'ro'] });
  mounts.push(...bindMounts(spec));
  const namespaces: OciSpec['linux']['namespaces'] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  // No network entry = the host's network namespace (hostNetwork pods).
  if (spec.netnsPath) namespaces.push({ type: 'network', path: spec.netnsPath });
  const user = spec.user ?? { uid: 0, gid: 0 };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: !!spec.tty,
      user: { uid: user.uid, gid: user.gid, ...(user.groups?.length ? { additionalGids: [...user.groups] } : {}) },
      args: processArgs(spec.argv, opts.initHostPath),
      env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      cwd: spec.workingDir || '/',
      // No inheritable/ambient caps: a non-root exec of a file with caps must not gain them.
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: spec.allowPrivilegeEscalation === false,
    },
    root: { path: opts.rootfsPath, readonly: !!spec.readOnlyRootFilesystem },
    hostname: spec.hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: cgroupsPathOf(spec),
      resources: resources(spec, opts),
      ...(spec.privileged ? {} : { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
    },
  };
}
