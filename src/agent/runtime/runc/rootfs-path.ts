/**
 * Looks up paths inside a container's root file system from the host, before the container runs:
 * symlinks are followed inside the rootfs (an absolute link target is relative to the container's
 * root, never the host's), and paths under a bind mount map to the mount's host source. Used to
 * fail `start` with the runtimes' wording when the command does not exist.
 */
import { accessSync, constants, lstatSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { Mount } from '../driver.ts';
import { DEFAULT_PATH, hostPathOf } from '../shared/container-paths.ts';

/** Host path of `containerPath` in `rootfs`, symlinks resolved inside it; undefined on a loop. */
export function hostPathInRootfs(rootfs: string, containerPath: string, mounts: Mount[]): string | undefined {
  const parts = posix.normalize(containerPath).split('/').filter(Boolean);
  let cur = '/';
  for (let hops = 0; parts.length; ) {
    const part = parts.shift()!;
    const next = posix.join(cur, part);
    // A bind mount covers the rest of the path: its host side is resolved by the host.
    if (mounts.some((m) => posix.normalize(m.containerPath) === next)) return hostPathOf(posix.join(next, ...parts), mounts);
    let st;
    try {
      st = lstatSync(join(rootfs, next));
    } catch {
      // Missing in the image: runc would create it (a mount point below may still exist).
      cur = next;
      continue;
    }
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++hops > 40) return undefined;
    const target = readlinkSync(join(rootfs, next));
    parts.unshift(...target.split('/').filter(Boolean));
    if (isAbsolute(target)) cur = '/';
  }
  return join(rootfs, cur);
}

function isExecutableFile(path: string | undefined): boolean {
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The container path of `cmd` after a PATH search in the rootfs, or an Error in the runtimes' wording. */
export function resolveExecutableInRootfs(rootfs: string, cmd: string, env: Record<string, string>, workingDir: string | undefined, mounts: Mount[]): string {
  if (!cmd) throw new Error('exec: no command given');
  const cwd = workingDir || '/';
  if (cmd.includes('/')) {
    const path = posix.isAbsolute(cmd) ? cmd : posix.join(cwd, cmd);
    if (isExecutableFile(hostPathInRootfs(rootfs, path, mounts))) return path;
    throw new Error(`exec: "${cmd}": stat ${path}: no such file or not executable`);
  }
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(':')) {
    if (!dir) continue;
    const path = posix.join(posix.isAbsolute(dir) ? dir : posix.join(cwd, dir), cmd);
    if (isExecutableFile(hostPathInRootfs(rootfs, path, mounts))) return path;
  }
  throw new Error(`exec: "${cmd}": executable file not found in $PATH`);
}
