/**
 * Per-container root filesystems: an overlayfs mount whose lower dirs are the image's unpacked
 * layers and whose upper/work dirs live in the container's directory:
 *   <containerDir>/rootfs  the mount point     <containerDir>/upper, <containerDir>/work
 * Needs root (mount(2)).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { mountBySyscall, runCommand, unmountBySyscall } from '../../host/spawner.ts';

/** A mounted container root filesystem. */
export interface MountedRootfs {
  /** The merged view to hand to runc as `root.path`. */
  path: string;
  upper: string;
  work: string;
}

/**
 * Mounts the overlay for a container, idempotently. `layerDirs` are bottom-most first (image
 * order). For deep images whose absolute layer paths would pass the kernel's one-page limit on
 * the option string, the layers (which share one parent) are passed relative to it.
 */
export async function mountRootfs(layerDirs: string[], containerDir: string): Promise<MountedRootfs> {
  const path = resolve(containerDir, 'rootfs');
  const upper = resolve(containerDir, 'upper');
  const work = resolve(containerDir, 'work');
  for (const d of [path, upper, work]) await mkdir(d, { recursive: true, mode: 0o755 });
  if (await isMountPoint(path)) return { path, upper, work };
  let lowers = [...layerDirs].reverse();
  if (lowers.length === 0) {
    const empty = join(containerDir, 'empty-lower');
    await mkdir(empty, { recursive: true });
    lowers = [empty];
  }
  const optsOf = (ls: string[]) => `lowerdir=${ls.join(':')},upperdir=${upper},workdir=${work}`;
  // The options must fit a page: absolute paths when they do (mount(2) in the spawn helper: no
  // fork at all), else paths relative to the layers' common parent, with mount(8) run there.
  const absolute = optsOf(lowers);
  if (absolute.length <= 4000 && !lowers.some((l) => /[,:]/.test(l))) {
    if (!(await mountBySyscall('overlay', path, 'overlay', absolute))) await run('mount', ['-t', 'overlay', 'overlay', '-o', absolute, path]);
    return { path, upper, work };
  }
  const parents = new Set(lowers.map((l) => dirname(l)));
  if (parents.size !== 1) throw new Error(`overlay options too long (${lowers.length} layers)`);
  const cwd = [...parents][0]!;
  for (const l of lowers) if (/[,:]/.test(basename(l))) throw new Error(`layer path unusable for overlay: ${l}`);
  const relative = optsOf(lowers.map((l) => basename(l)));
  if (relative.length > 4000) throw new Error(`overlay options too long (${lowers.length} layers)`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', relative, path], cwd);
  return { path, upper, work };
}

/** Unmounts a container's rootfs (no error when not mounted); with `remove`, deletes upper/work too. */
export async function unmountRootfs(containerDir: string, opts: { remove?: boolean } = {}): Promise<void> {
  const path = resolve(containerDir, 'rootfs');
  if (await isMountPoint(path)) {
    try {
      if (!(await unmountBySyscall(path))) await run('umount', [path]);
    } catch (e) {
      // Still busy (a process inside is exiting): detach it now, the kernel finishes later.
      const lazy = async () => { if (!(await unmountBySyscall(path, 2))) await run('umount', ['-l', path]); };
      await lazy().catch(() => {
        throw e;
      });
    }
  }
  if (opts.remove) {
    for (const d of ['rootfs', 'upper', 'work', 'empty-lower']) await rm(join(containerDir, d), { recursive: true, force: true });
  }
}

/** True when `p` is a mount point in this mount namespace. */
export async function isMountPoint(p: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => {
    const mp = line.split(' ')[4];
    return mp !== undefined && mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === p;
  });
}

/** Runs a command: through the spawn helper, or with Node's spawn when it must run in `cwd`. */
async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  if (!cwd) {
    const r = await runCommand(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return;
  }
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', rej);
    p.on('close', (c) => (c === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')} exited ${c}: ${err.trim()}`))));
  });
}
