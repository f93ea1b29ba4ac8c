/** Test fixtures: builds small OCI images with umoci and pushes them with skopeo. For tests only. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

/** Uploads one blob to a registry with a monolithic POST + PUT (OCI distribution API). */
export async function uploadBlob(registryHost: string, name: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await fetch(`http://${registryHost}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${await start.text()}`);
  const loc = new URL(start.headers.get('location')!, `http://${registryHost}`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  return digest;
}

/** A layer for {@link pushRawImage}: the blob as stored, its media type and the diffID the config claims. */
export interface RawLayer {
  blob: Buffer;
  mediaType: string;
  diffID: string;
}

/**
 * Pushes an OCI image made of exactly these layer blobs and a config listing their diffIDs (as
 * given, so a test can lie), bypassing umoci/skopeo: for zstd or uncompressed layers and
 * inconsistent images. Returns the manifest digest.
 */
export async function pushRawImage(registryHost: string, name: string, tag: string, layers: RawLayer[]): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) } }),
  );
  const configDigest = await uploadBlob(registryHost, name, config);
  const descs = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, digest: await uploadBlob(registryHost, name, l.blob), size: l.blob.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: descs,
    }),
  );
  const put = await fetch(`http://${registryHost}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: new Uint8Array(manifest),
  });
  if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
  return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
}

/** A tar (GNU tar, root-owned) of `files` (path → content). */
export async function tarOf(work: string, files: Record<string, string | Buffer>): Promise<Buffer> {
  const dir = `${work}-tree`;
  await rm(dir, { recursive: true, force: true });
  await writeTree(dir, files);
  await sh('tar', ['-c', '-f', `${dir}.tar`, '-C', dir, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '.']);
  const out = await readFile(`${dir}.tar`);
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.tar`, { force: true });
  return out;
}
