/**
 * A replicated PV mounted for a pod (the kubelet's CSI NodePublishVolume; for GlusterFS what the
 * in-tree glusterfs plugin did): a FUSE mount of the engine volume at a directory under the pod's
 * dir, asking any of the three brick nodes for the volume's layout (the first, the others as
 * backup volfile servers), so it mounts while one of them is down — those that answer first: the
 * client tries its volfile servers in order, and a dead first one cost a member's move 40 s (a
 * killed brick node, still first in the PV's list). The mount is the node's (its
 * network namespace reaches the bricks); the container gets it by a bind mount like any volume, and
 * the pod's volume clean-up unmounts it. A volume its storage nodes have not made yet fails the
 * mount with the reason, and the pod worker retries.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { ANN_ENGINE_ERROR, ANN_VOLUME_STATE, bricksOf, engineVolumeName } from '../../apis/volumes/replicated-volume.ts';

/** Runs `mount` (tests replace it). */
export type MountRunner = (args: string[]) => Promise<void>;

const runMount: MountRunner = (args) => new Promise((resolve, reject) => {
  execFile('mount', args, { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`mount ${args.join(' ')}: ${(stderr || err.message).trim()}`)) : resolve()));
});

/** Whether `dir` is a mount point now. */
export function isMountPoint(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return mountinfo.split('\n').some((l) => l.split(' ')[4] !== undefined && unescape(l.split(' ')[4]) === dir);
}

/** Whether something listens on `address:port` (glusterd's management port), within `timeoutMs`. */
export type Probe = (address: string) => Promise<boolean>;

const GLUSTERD_PORT = 24007;

const tcpProbe: Probe = (address) => new Promise((resolve) => {
  const sock = connect({ host: address, port: GLUSTERD_PORT, timeout: 1500 });
  const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
  sock.once('connect', () => done(true));
  sock.once('timeout', () => done(false));
  sock.once('error', () => done(false));
});

/** The volume's volfile servers (its brick nodes), those that answer `probe` first, in the PV's order otherwise. */
export async function volfileServers(pv: KubeObject, probe: Probe = tcpProbe): Promise<string[]> {
  const servers = [...new Set(bricksOf(pv).map((b) => b.address))];
  const up = await Promise.all(servers.map((a) => probe(a)));
  return [...servers.filter((_, i) => up[i]), ...servers.filter((_, i) => !up[i])];
}

/** The `mount` arguments for `pv` at `dir`; `servers` in the order to ask them (default: the PV's). */
export function glusterMountArgs(pv: KubeObject, dir: string, readOnly: boolean, servers = [...new Set(bricksOf(pv).map((b) => b.address))]): string[] {
  const opts = [
    ...(servers.length > 1 ? [`backup-volfile-servers=${servers.slice(1).join(':')}`] : []),
    `log-file=${dir}.log`, 'log-level=WARNING',
    ...(readOnly ? ['ro'] : []),
    ...((pv.spec?.mountOptions ?? []) as string[]),
  ];
  return ['-t', 'glusterfs', '-o', opts.join(','), `${servers[0]}:/${engineVolumeName(pv)}`, dir];
}

/** Mounts `pv` at `dir` unless it is mounted there already (a re-adopted pod). */
export async function mountReplicatedVolume(pv: KubeObject, dir: string, readOnly: boolean, mount: MountRunner = runMount, probe: Probe = tcpProbe, umount: MountRunner = unmountLazily): Promise<void> {
  const unmount = (d: string) => umount([d]);
  const state = pv.metadata.annotations?.[ANN_VOLUME_STATE];
  if (state !== 'Ready') {
    const why = pv.metadata.annotations?.[ANN_ENGINE_ERROR];
    throw new Error(`replicated volume ${pv.metadata.name} is not ready: its storage nodes have not ${state === 'Deleted' ? 'kept' : 'made'} it yet${why ? ` (${why})` : ''}`);
  }
  if (!bricksOf(pv).length) throw new Error(`replicated volume ${pv.metadata.name} names no bricks`);
  // A FUSE mount whose client died (or a mount that failed half-way) answers ENOTCONN to everything:
  // it is detached and mounted afresh, or the pod would retry against it forever.
  const dead = async () => (await fs.stat(dir).then(() => false, (err) => (err as NodeJS.ErrnoException).code === 'ENOTCONN'));
  if (await dead()) await unmount(dir);
  await fs.mkdir(dir, { recursive: true });
  if (isMountPoint(dir)) return;
  try {
    await mount(glusterMountArgs(pv, dir, readOnly, await volfileServers(pv, probe)));
  } catch (err) {
    if (await dead()) await unmount(dir);
    throw err;
  }
}

/** Lazily detaches `dir` (a dead FUSE mount); nothing to detach is not an error. */
export const unmountLazily: MountRunner = (args) => new Promise((resolve) => {
  execFile('umount', ['-l', ...args], { timeout: 30_000 }, () => resolve());
});
