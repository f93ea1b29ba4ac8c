/**
 * fsGroup ownership of a volume (pkg/volume/volume_linux.go SetVolumeOwnership): every file and
 * directory below the volume gets group `fsGroup` and group read/write (read-only for a read-only
 * volume), directories also group execute and setgid — so files the pod creates later inherit the
 * group. Symlinks get the group but keep their mode (a chmod would reach their target).
 * `fsGroupChangePolicy: OnRootMismatch` skips the walk when the volume's root already has the group
 * and those bits, which is what makes a large volume's restart fast.
 */
import { promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';

const RW = 0o660;
const RO = 0o440;
const EXEC = 0o110;
const SETGID = 0o2000;

/** Whether the root must be walked under OnRootMismatch (requiresPermissionChange). */
export async function requiresPermissionChange(root: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  let st: Stats;
  try {
    st = await fs.stat(root);
  } catch {
    return true;
  }
  if (st.gid !== fsGroup || !st.isDirectory()) return true;
  const want = (readOnly ? RO : RW) | EXEC;
  return (st.mode & want) !== want || (st.mode & SETGID) === 0;
}

async function changeOne(path: string, st: Stats, fsGroup: number, readOnly: boolean): Promise<void> {
  await fs.lchown(path, -1, fsGroup).catch(() => {});
  if (st.isSymbolicLink()) return;
  let mask = readOnly ? RO : RW;
  if (st.isDirectory()) mask |= SETGID | EXEC;
  if ((st.mode & mask) !== mask) await fs.chmod(path, (st.mode & 0o7777) | mask);
}

async function walk(path: string, visit: (path: string, st: Stats) => Promise<void>): Promise<void> {
  const st = await fs.lstat(path);
  await visit(path, st);
  if (!st.isDirectory()) return;
  for (const name of await fs.readdir(path)) await walk(join(path, name), visit);
}

/** Applies `fsGroup` to everything below `root`; returns whether anything was walked. */
export async function setVolumeOwnership(root: string, fsGroup: number | undefined, policy: string | undefined, readOnly: boolean): Promise<boolean> {
  if (fsGroup === undefined || fsGroup === null) return false;
  if (policy === 'OnRootMismatch' && !(await requiresPermissionChange(root, fsGroup, readOnly))) return false;
  await walk(root, (p, st) => changeOne(p, st, fsGroup, readOnly));
  return true;
}
