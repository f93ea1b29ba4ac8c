/**
 * A pod's volumes on this node (the kubelet's volume manager, reduced to what Berth supports):
 * emptyDir (a directory under the pod dir, or a tmpfs for `medium: Memory`), hostPath (with type
 * checks), configMap / secret / downwardAPI / projected (written atomically, refreshed by
 * updateVolumes), and persistentVolumeClaim bound to a hostPath or local PV (local ones — local-path
 * volumes among them — prepared by local-volume.ts: directory, size limit, fsGroup) or to a replicated
 * PV (a FUSE mount under the pod dir, replicated-mount.ts). `mountsFor`
 * turns a container's volumeMounts into the runtime driver's Mount list.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, promises as fs } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { mountBySyscall, unmountBySyscall } from '../../host/spawner.ts';
import type { Mount } from '../runtime/driver.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';
import { writeAtomic } from './atomic-writer.ts';
import { expandVars } from './expand.ts';
import type { NodeAllocatable, PodRuntimeFacts } from './field-ref.ts';
import { checkHostPathType } from './host-path.ts';
import { prepareLocalVolume, refreshSizeLimit } from './local-volume.ts';
import { isReplicatedVolume } from '../../apis/volumes/replicated-volume.ts';
import { mountReplicatedVolume } from './replicated-mount.ts';
import type { ObjectLookup } from './lookup.ts';
import { isProjectedKind, volumePayload, type PayloadContext } from './volume-payloads.ts';

const run = promisify(execFile);

/** Where a volume lives on the host. */
export interface VolumePath {
  hostPath: string;
  readOnly: boolean;
}

export interface VolumeContext {
  /** The pod's directory on the node (volumes go below `<podDir>/volumes`). */
  podDir: string;
  lookup: ObjectLookup;
  client: { pvc(namespace: string, name: string): Promise<KubeObject | undefined>; pv(name: string): Promise<KubeObject | undefined> };
  /** For downwardAPI files; default: nodeName from the pod spec. */
  facts?: PodRuntimeFacts;
  nodeAllocatable?: NodeAllocatable;
  /** Mounts a tmpfs (tests replace it); default runs `mount -t tmpfs`. */
  mountTmpfs?: (dir: string, sizeBytes: number | undefined) => Promise<void>;
  /** Bound ServiceAccount tokens for projected serviceAccountToken sources. */
  tokens?: PayloadContext['tokens'];
}

export interface PreparedVolumes {
  paths: Map<string, VolumePath>;
  errors: string[];
  /** Where Berth deviates (skipped projected sources). */
  warnings: string[];
}

const SUBDIR: Record<string, string> = { configMap: 'configmap', secret: 'secret', downwardAPI: 'downward-api', projected: 'projected' };

function payloadCtx(pod: KubeObject, ctx: VolumeContext, warnings: string[]): PayloadContext {
  return {
    pod,
    lookup: ctx.lookup,
    facts: ctx.facts ?? { nodeName: pod.spec?.nodeName ?? '' },
    nodeAllocatable: ctx.nodeAllocatable,
    warn: (m) => warnings.push(m),
    tokens: ctx.tokens,
  };
}

function projectedDir(podDir: string, volume: Record<string, any>): string {
  const kind = Object.keys(SUBDIR).find((k) => volume[k])!;
  return join(podDir, 'volumes', SUBDIR[kind], volume.name);
}

/**
 * A tmpfs at `dir` (memory-backed volumes: secrets, projected, emptyDir medium Memory) by the spawn
 * helper's mount(2), else mount(8): forked by Node it costs 5–20 ms of blocked event loop a pod.
 */
export async function mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
  const data = `mode=0755${sizeBytes ? `,size=${sizeBytes}` : ''}`;
  if (await mountBySyscall('tmpfs', dir, 'tmpfs', data)) return;
  await run('mount', ['-t', 'tmpfs', '-o', data, 'tmpfs', dir]);
}

/** umount2(2) in the spawn helper, else umount(8). */
async function unmount(dir: string): Promise<void> {
  if (await unmountBySyscall(dir)) return;
  await run('umount', [dir]);
}

/** Mount points at or below `root`, deepest first (from /proc/self/mountinfo). */
async function mountsUnder(root: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map(unescape)
    .filter((p) => p === root || p.startsWith(root + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function setupOne(pod: KubeObject, v: Record<string, any>, ctx: VolumeContext, warnings: string[]): Promise<VolumePath> {
  const ns = pod.metadata.namespace ?? 'default';
  if (v.emptyDir) {
    const dir = join(ctx.podDir, 'volumes', 'empty-dir', v.name);
    await fs.mkdir(dir, { recursive: true });
    if (v.emptyDir.medium === 'Memory' && !(await mountsUnder(dir)).includes(dir)) {
      await (ctx.mountTmpfs ?? mountTmpfs)(dir, tryParseQuantity(v.emptyDir.sizeLimit));
    }
    // emptyDir is world-writable, as in Kubernetes, so any container user can use it.
    await fs.chmod(dir, 0o777);
    return { hostPath: dir, readOnly: false };
  }
  if (v.hostPath) {
    if (!isAbsolute(v.hostPath.path ?? '')) throw new Error(`hostPath ${JSON.stringify(v.hostPath.path)} must be absolute`);
    await checkHostPathType(v.hostPath.path, v.hostPath.type);
    return { hostPath: v.hostPath.path, readOnly: false };
  }
  if (isProjectedKind(v)) {
    const dir = projectedDir(ctx.podDir, v);
    // Secrets and projected volumes (ServiceAccount tokens) live in memory, as the kubelet keeps them:
    // never on disk, and their writes never wait for the file system's journal.
    if ((v.secret || v.projected) && ctx.mountTmpfs) {
      const made = await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      if (made !== undefined || !(await mountsUnder(dir)).includes(dir)) await ctx.mountTmpfs(dir, undefined);
    }
    await writeAtomic(dir, await volumePayload(v, payloadCtx(pod, ctx, warnings)));
    return { hostPath: dir, readOnly: true };
  }
  if (v.persistentVolumeClaim) {
    const claim = v.persistentVolumeClaim.claimName;
    const pvc = await ctx.client.pvc(ns, claim);
    if (!pvc) throw new Error(`persistentvolumeclaim "${claim}" not found`);
    if (pvc.metadata.deletionTimestamp) throw new Error(`error processing PVC ${ns}/${claim}: PVC is being deleted`);
    const phase = pvc.status?.phase ?? '';
    const pvName = pvc.spec?.volumeName ?? '';
    if (phase !== 'Bound' || !pvName) throw new Error(`PVC ${ns}/${claim} has non-bound phase (${JSON.stringify(phase)}) or empty pvc.Spec.VolumeName (${JSON.stringify(pvName)})`);
    const pv = await ctx.client.pv(pvName);
    if (!pv) throw new Error(`persistentvolume "${pvName}" not found`);
    if (isReplicatedVolume(pv)) {
      const dir = join(ctx.podDir, 'volumes', 'replicated', v.name);
      await mountReplicatedVolume(pv, dir, !!v.persistentVolumeClaim.readOnly);
      return { hostPath: dir, readOnly: !!v.persistentVolumeClaim.readOnly };
    }
    const path: string | undefined = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (!path) throw new Error(`persistentvolume "${pvName}": only hostPath and local volumes can be mounted on this node`);
    if (pv.spec?.hostPath) await checkHostPathType(path, pv.spec.hostPath.type);
    else await prepareLocalVolume(pod, pv, !!v.persistentVolumeClaim.readOnly);
    return { hostPath: path, readOnly: !!v.persistentVolumeClaim.readOnly };
  }
  const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
  throw new Error(`volume type ${kind} is not supported`);
}

/** Sets up every volume of `pod`; a failing volume is reported and the others still prepared. */
export async function prepareVolumes(pod: KubeObject, ctx: VolumeContext): Promise<PreparedVolumes> {
  const paths = new Map<string, VolumePath>();
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const v of (pod.spec?.volumes ?? []) as Record<string, any>[]) {
    try {
      paths.set(v.name, await setupOne(pod, v, ctx, warnings));
    } catch (err) {
      errors.push(`MountVolume.SetUp failed for volume "${v.name}" : ${(err as Error).message}`);
    }
  }
  return { paths, errors, warnings };
}

/** Rewrites configMap/secret/downwardAPI/projected volumes whose content changed; names the changed ones. */
export async function updateVolumes(pod: KubeObject, ctx: VolumeContext): Promise<{ changed: string[]; errors: string[] }> {
  const changed: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const v of (pod.spec?.volumes ?? []) as Record<string, any>[]) {
    if (v.persistentVolumeClaim) {
      await refreshSizeLimit(pod.metadata.namespace ?? 'default', v.persistentVolumeClaim.claimName, ctx.client)
        .catch((err) => errors.push(`NodeExpandVolume failed for volume "${v.name}" : ${(err as Error).message}`));
    }
    if (!isProjectedKind(v)) continue;
    try {
      if (await writeAtomic(projectedDir(ctx.podDir, v), await volumePayload(v, payloadCtx(pod, ctx, warnings)))) changed.push(v.name);
    } catch (err) {
      errors.push(`MountVolume.SetUp failed for volume "${v.name}" : ${(err as Error).message}`);
    }
  }
  return { changed, errors };
}

/** Unmounts everything below `podDir` (tmpfs emptyDirs) and removes it. hostPath/PV data is never under it. */
export async function cleanupVolumes(podDir: string, umount: (dir: string) => Promise<void> = unmount): Promise<void> {
  for (const m of await mountsUnder(podDir)) {
    try {
      await umount(m);
    } catch {
      // Busy: detach lazily so the directory can still go.
      await run('umount', ['-l', m]).catch(() => {});
    }
  }
  if ((await mountsUnder(podDir)).length) throw new Error(`cannot remove ${podDir}: mounts remain`);
  await fs.rm(podDir, { recursive: true, force: true });
}

/**
 * Creates a missing subPath below `root` with the root's permission bits (SafeMakeDir: chmod past the
 * umask), so a subPath of a volume a non-root pod may write — fsGroup's g+rwx and setgid, a
 * local-path volume's 0777 — is writable for it too.
 */
function makeSubPath(root: string, path: string): void {
  const mode = statSync(root).mode & 0o7777;
  const realRoot = realpathSync(root);
  let at = root;
  for (const part of relative(root, path).split('/')) {
    // Never create through a symlink that leads out of the volume.
    const parent = relative(realRoot, realpathSync(at));
    if (parent === '..' || parent.startsWith('../') || isAbsolute(parent)) return;
    at = join(at, part);
    if (existsSync(at)) continue;
    mkdirSync(at, { mode });
    chmodSync(at, mode);
  }
}

function cleanSubPath(sub: string, volume: string): string {
  if (isAbsolute(sub)) throw new Error(`volumeMount "${volume}": subPath ${JSON.stringify(sub)} must be relative`);
  if (sub.split('/').includes('..')) throw new Error(`volumeMount "${volume}": subPath ${JSON.stringify(sub)} must not contain '..'`);
  return sub;
}

/**
 * The driver mounts for `container`'s volumeMounts (subPath / subPathExpr against `env`, readOnly
 * from the mount or the volume). Creates a missing subPath directory, as the kubelet does; throws
 * on an unknown volume, a relative mountPath, or a subPath escaping its volume.
 */
export function mountsFor(container: Record<string, any>, paths: Map<string, VolumePath>, env: Record<string, string> = {}): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of (container.volumeMounts ?? []) as Record<string, any>[]) {
    const vol = paths.get(vm.name);
    if (!vol) throw new Error(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    if (!isAbsolute(vm.mountPath ?? '')) throw new Error(`volumeMount "${vm.name}": mountPath ${JSON.stringify(vm.mountPath)} must be absolute`);
    let hostPath = vol.hostPath;
    const sub = vm.subPathExpr ? expandVars(vm.subPathExpr, (n) => env[n]) : vm.subPath;
    if (sub) {
      hostPath = join(vol.hostPath, cleanSubPath(sub, vm.name));
      if (!existsSync(hostPath)) makeSubPath(vol.hostPath, hostPath);
      // Symlinks inside the volume must not lead out of it (configMap keys are links via ..data).
      const rel = relative(realpathSync(vol.hostPath), realpathSync(hostPath));
      if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw new Error(`volumeMount "${vm.name}": subPath ${JSON.stringify(sub)} resolves outside the volume`);
    }
    mounts.push({ hostPath, containerPath: vm.mountPath, readOnly: !!vm.readOnly || vol.readOnly });
  }
  return mounts;
}
