/**
 * Size limits of directory volumes by file system project quotas (what the kubelet's fsquota package
 * does for emptyDir, pkg/volume/util/fsquota): a directory gets a project id and the project a hard
 * block limit, on ext4 (`chattr +P -p`, `setquota -P`) or XFS (`xfs_quota`) mounted with project
 * quotas. Elsewhere — the common case — `mode()` says `none` and the size stays a recorded number.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a host program (tests replace it). */
export type Runner = (cmd: string, args: string[]) => Promise<void>;
const defaultRunner: Runner = async (cmd, args) => { await exec(cmd, args); };

/** The mount a path lives on: its mount point, file system type and options (mount + super). */
export interface MountOf {
  mountPoint: string;
  fsType: string;
  options: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

/** The mount holding `path`, from /proc/self/mountinfo text (the longest mount point above it). */
export function mountOf(path: string, mountinfo: string): MountOf | undefined {
  let best: MountOf | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (f.length < 10 || dash < 6) continue;
    const mountPoint = unescape(f[4]);
    const inside = mountPoint === '/' || path === mountPoint || path.startsWith(mountPoint + '/');
    if (!inside || (best && best.mountPoint.length > mountPoint.length)) continue;
    best = { mountPoint, fsType: f[dash + 1], options: [...f[5].split(','), ...(f[dash + 3] ?? '').split(',')] };
  }
  return best;
}

const PROJECT_OPTIONS = new Set(['prjquota', 'pquota', 'prjjquota', 'pqnoenforce']);
const onPath = (tool: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${tool}`));

/** How sizes are enforced for directories under `path`: `project` quotas, or `none`. */
export function quotaMode(path: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'), hasTool: (t: string) => boolean = onPath): 'project' | 'none' {
  const m = mountOf(path, mountinfo);
  if (!m || !m.options.some((o) => PROJECT_OPTIONS.has(o))) return 'none';
  if (m.fsType === 'xfs') return hasTool('xfs_quota') ? 'project' : 'none';
  if (m.fsType === 'ext4') return hasTool('setquota') && hasTool('chattr') ? 'project' : 'none';
  return 'none';
}

/** A stable project id for a volume (FNV-1a of its name, above the ids administrators use). */
export function projectId(volumeName: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < volumeName.length; i++) {
    h ^= volumeName.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1_000_000 + (h % 1_000_000_000);
}

/** Puts `dir` in the volume's project and limits the project to `bytes`. */
export async function applyProjectQuota(dir: string, volumeName: string, bytes: number, mount: MountOf, run: Runner = defaultRunner): Promise<void> {
  const id = String(projectId(volumeName));
  if (mount.fsType === 'xfs') {
    await run('xfs_quota', ['-x', '-c', `project -s -p ${dir} ${id}`, mount.mountPoint]);
    await run('xfs_quota', ['-x', '-c', `limit -p bhard=${Math.ceil(bytes)} ${id}`, mount.mountPoint]);
    return;
  }
  await run('chattr', ['+P', '-p', id, dir]);
  await run('setquota', ['-P', id, '0', String(Math.ceil(bytes / 1024)), '0', '0', mount.mountPoint]);
}
