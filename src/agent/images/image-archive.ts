/**
 * Imports images from docker-archive tarballs (`docker save`, `skopeo copy … docker-archive:`)
 * and OCI image layouts (directories or tarballs of one) into an {@link ImageStore}.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { sha256Digest } from './digest.ts';
import { buildImageRecord } from './image-record.ts';
import type { ImageRecord, ImageStore } from './image-store.ts';
import { MediaType, parseManifestDocument, selectPlatform, type ImageManifest, type Platform } from './manifest.ts';
import { formatReference, parseReference } from './reference.ts';

/** One image read from an archive, its blobs already in the store (layers not yet unpacked). */
export interface ArchiveImage {
  record: ImageRecord;
  /** `registry/repo:tag` names to point at it. */
  tags: string[];
}

/** Options for {@link importArchiveInto}. */
export interface ArchiveOptions {
  /** Repository for OCI-layout entries whose ref name is a bare tag (default `localhost/<file name>`). */
  repository?: string;
  platform?: Platform;
}

/** Reads the archive at `path` (dir or tar), copies verified blobs into `store`, returns the images. */
export async function importArchiveInto(store: ImageStore, path: string, opts: ArchiveOptions = {}): Promise<ArchiveImage[]> {
  const st = await stat(path);
  let dir = path;
  let tmp: string | undefined;
  if (!st.isDirectory()) {
    tmp = store.tempPath('archive');
    await mkdir(tmp);
    await run('tar', ['-x', '-f', resolve(path), '-C', tmp, '--no-same-owner']);
    dir = tmp;
  }
  try {
    const repo = opts.repository ?? `localhost/${basename(path).replace(/\.(tar|tgz|tar\.gz)$/, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`;
    if (await exists(join(dir, 'manifest.json'))) return await importDockerArchive(store, dir);
    if (await exists(join(dir, 'index.json'))) return await importOciLayout(store, dir, repo, opts.platform);
    throw new Error(`${path}: neither a docker-archive (manifest.json) nor an OCI layout (index.json)`);
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

async function importOciLayout(store: ImageStore, dir: string, repo: string, platform?: Platform): Promise<ArchiveImage[]> {
  const blob = (d: string) => inside(dir, join('blobs', ...d.split(':')));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: { digest: string; mediaType?: string; annotations?: Record<string, string> }[] };
  const out: ArchiveImage[] = [];
  for (const desc of index.manifests ?? []) {
    const topBody = await readFile(blob(desc.digest));
    if (sha256Digest(topBody) !== desc.digest) throw new Error(`OCI layout: blob ${desc.digest} is corrupt`);
    let doc = parseManifestDocument(topBody, desc.mediaType);
    let manifestDigest = desc.digest;
    let manifestBody = topBody;
    if (doc.kind === 'index') {
      manifestDigest = selectPlatform(doc.index, platform).digest;
      manifestBody = await readFile(blob(manifestDigest));
      doc = parseManifestDocument(manifestBody);
      if (doc.kind !== 'manifest') throw new Error('OCI layout: nested index not supported');
    }
    const name = desc.annotations?.['io.containerd.image.name'] ?? desc.annotations?.['org.opencontainers.image.ref.name'];
    const ref = name && /[/:@]/.test(name) ? parseReference(name) : parseReference(`${repo}:${name ?? 'latest'}`);
    const record = await storeImage(store, desc.digest, topBody, manifestDigest, manifestBody, doc.manifest, blob, `${ref.registry}/${ref.repository}`);
    out.push({ record, tags: ref.tag ? [formatReference({ ...ref, digest: undefined })] : [] });
  }
  return out;
}

async function importDockerArchive(store: ImageStore, dir: string): Promise<ArchiveImage[]> {
  const entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  const out: ArchiveImage[] = [];
  for (const e of entries) {
    const configBody = await readFile(inside(dir, e.Config));
    const layers = [];
    const paths = new Map<string, string>();
    for (const l of e.Layers) {
      const p = inside(dir, l);
      const digest = await hashFile(p);
      const gz = await isGzip(p);
      layers.push({ mediaType: gz ? MediaType.dockerLayerGzip : 'application/vnd.docker.image.rootfs.diff.tar', digest, size: (await stat(p)).size });
      paths.set(digest, p);
    }
    const configDigest = sha256Digest(configBody);
    paths.set(configDigest, inside(dir, e.Config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: configBody.length },
      layers,
    };
    const body = Buffer.from(JSON.stringify(manifest));
    const digest = sha256Digest(body);
    const refs = (e.RepoTags ?? []).map((t) => parseReference(t));
    const record = await storeImage(store, digest, body, digest, body, manifest, (d) => paths.get(d)!, refs[0] ? `${refs[0].registry}/${refs[0].repository}` : undefined);
    out.push({ record, tags: refs.map((r) => formatReference({ ...r, digest: undefined })) });
  }
  return out;
}

async function storeImage(
  store: ImageStore,
  digest: string,
  topBody: Buffer,
  manifestDigest: string,
  manifestBody: Buffer,
  manifest: ImageManifest,
  blobPath: (digest: string) => string,
  repo: string | undefined,
): Promise<ImageRecord> {
  const configBody = await readFile(blobPath(manifest.config.digest));
  const record = buildImageRecord(digest, manifestDigest, manifest, configBody, repo ? [`${repo}@${digest}`] : []);
  await store.putBlob(manifest.config.digest, configBody);
  for (const l of manifest.layers) {
    if (!(await store.hasBlob(l.digest))) await store.putBlobStream(l.digest, createReadStream(blobPath(l.digest)), l.size);
  }
  await store.putBlob(manifestDigest, manifestBody);
  await store.putBlob(digest, topBody);
  return record;
}

/** Resolves `rel` under `dir`, refusing paths that escape it. */
function inside(dir: string, rel: string): string {
  const p = resolve(dir, rel);
  if (!p.startsWith(resolve(dir) + sep)) throw new Error(`archive path escapes the archive: ${rel}`);
  return p;
}

async function hashFile(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

async function isGzip(p: string): Promise<boolean> {
  const fh = await open(p, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', rej);
    p.on('close', (c) => (c === 0 ? res() : rej(new Error(`${cmd} exited ${c}: ${err.trim()}`))));
  });
}
