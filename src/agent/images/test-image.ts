/** Test fixtures: builds small OCI images with umoci and pushes them with skopeo. For tests only. */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command, failing with its stderr. */
export async function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  try {
    return (await exec(cmd, args, { cwd, maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
}

/**
 * Creates tag `tag` in the OCI layout `layout` (created if needed): layer 1 from `files`
 * (path → content; busybox copied to /bin/busybox with /bin/sh → busybox when `busybox`), and an
 * optional raw layer 2 from `rawLayer` (path → content, '' allowed) for crafted whiteouts.
 */
export async function buildImage(
  layout: string,
  tag: string,
  files: Record<string, string | Buffer>,
  opts: { busybox?: boolean; rawLayer?: Record<string, string>; config?: string[] } = {},
): Promise<void> {
  await sh('sh', ['-c', `[ -d "${layout}" ] || umoci init --layout "${layout}"`]);
  await sh('umoci', ['new', '--image', `${layout}:${tag}`]);
  const bundle = `${layout}-bundle-${tag}`;
  await rm(bundle, { recursive: true, force: true });
  await sh('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  await writeTree(rootfs, files);
  if (opts.busybox) {
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await cp('/bin/busybox', join(rootfs, 'bin/busybox'));
    await chmod(join(rootfs, 'bin/busybox'), 0o755);
    await symlink('busybox', join(rootfs, 'bin/sh'));
  }
  await sh('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
  await rm(bundle, { recursive: true, force: true });
  if (opts.rawLayer) {
    const dir = `${layout}-raw-${tag}`;
    await rm(dir, { recursive: true, force: true });
    await writeTree(dir, opts.rawLayer);
    await sh('tar', ['-c', '-f', `${dir}.tar`, '-C', dir, '--owner=0', '--group=0', '.']);
    await sh('umoci', ['raw', 'add-layer', '--image', `${layout}:${tag}`, `${dir}.tar`]);
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.tar`, { force: true });
  }
  if (opts.config) await sh('umoci', ['config', '--image', `${layout}:${tag}`, ...opts.config]);
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const abs = join(root, p);
    await mkdir(join(abs, '..'), { recursive: true });
    await writeFile(abs, content);
  }
}

/** Pushes `layout:tag` to `registryHost/name:tag` over plain HTTP. */
export async function push(layout: string, tag: string, registryHost: string, name: string): Promise<void> {
  await sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${registryHost}/${name}:${tag}`]);
}
