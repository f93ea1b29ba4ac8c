/**
 * Where a shim-based driver keeps its containers' state dirs (state.json, the env file, the shim's
 * exit record and FIFOs): in memory, as containerd and runc keep theirs under /run. That state must
 * outlive the agent (re-adoption) but not the machine (after a reboot no container is left to adopt).
 * On the data dir's disk every create of a start waited behind the file system's journal, which the
 * store's fdatasync keeps busy: bench pods, a burst of 100, all Running 2,225 / 1,949 / 3,260 ms with
 * the state on ext4 vs 1,729 / 1,883 / 2,983 ms on tmpfs (three pairs, load 4.3–8.8, 2026-12-07).
 *
 * `<base>/berth/<hash of the on-disk dir>`: the base is /run where it is a tmpfs (systemd hosts), else
 * /dev/shm; one dir per agent data dir, so agents sharing a machine (`berth lab`) never collide. The
 * on-disk dir stays in use when the agent is not root, when no base is a tmpfs, and when it already
 * holds containers (started by an agent of an earlier version: they are re-adopted where they are).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** statfs(2)'s f_type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;
export const MEMORY_BASES = ['/run', '/dev/shm'];

/** The state dir a driver should use instead of `onDisk` (see the module comment); creates it. */
export function memoryStateDir(onDisk: string, bases: readonly string[] = MEMORY_BASES): string {
  if (process.getuid?.() !== 0 || hasEntries(onDisk)) return onDisk;
  const key = createHash('sha256').update(resolve(onDisk)).digest('hex').slice(0, 16);
  for (const base of bases) {
    try {
      if (statfsSync(base).type !== TMPFS_MAGIC) continue;
      const top = join(base, 'berth');
      mkdirSync(top, { recursive: true, mode: 0o700 });
      // /dev/shm is writable by everyone: only a real directory of root's that no one else can write into.
      const st = lstatSync(top);
      if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) continue;
      const dir = join(top, key);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return dir;
    } catch {
      /* not usable: the next base */
    }
  }
  return onDisk;
}

function hasEntries(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}
