/**
 * The node agent's image service: pulls from registries into the {@link ImageStore}, applies
 * pull policies, lists/removes images, imports archives and garbage-collects.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { importArchiveInto, type ArchiveOptions } from './image-archive.ts';
import { buildImageRecord } from './image-record.ts';
import { ImageStore, type ImageRecord } from './image-store.ts';
import { hostPlatform, layerCompression, parseManifestDocument, selectPlatform, type ContainerConfig, type Platform } from './manifest.ts';
import { credentialFor, type PullSecret } from './registry-auth.ts';
import { RegistryClient, type RegistryClientOptions } from './registry-client.ts';
import { formatReference, isDigest, parseReference, repoName, type ImageReference } from './reference.ts';

/** What the runtime needs to know about a stored image. */
export interface ImageInfo {
  /** Config digest (Docker's image ID). */
  id: string;
  /** Digest the image was pulled by (index or manifest). */
  digest: string;
  manifestDigest: string;
  /** `registry/repo:tag` names. */
  repoTags: string[];
  /** `registry/repo@digest` names (Kubernetes' imageID). */
  repoDigests: string[];
  /** Entrypoint, Cmd, Env, WorkingDir, User … for the runc driver. */
  config: ContainerConfig;
  /** Unpacked layer dirs, bottom-most first: overlay lower dirs for {@link mountRootfs}. */
  layerDirs: string[];
  /** Sum of the compressed layer sizes. */
  size: number;
}

/** Pull progress events. */
export type PullProgress =
  | { phase: 'manifest'; ref: string }
  | { phase: 'layer'; digest: string; bytes: number; total: number }
  | { phase: 'unpack'; diffID: string }
  /** A layer this pull downloaded (or unpacked from a stored blob) is verified and in place. */
  | { phase: 'unpacked'; diffID: string }
  | { phase: 'done'; ref: string; digest: string };

/** Options for a pull. */
export interface PullOptions {
  /** `.dockerconfigjson` contents of the pod's imagePullSecrets. */
  pullSecrets?: PullSecret[];
  onProgress?: (p: PullProgress) => void;
}

/** Kubernetes imagePullPolicy. */
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Options for {@link ImageService.open}. */
export interface ImageServiceOptions extends RegistryClientOptions {
  /** Registry for short names (default docker.io). */
  defaultRegistry?: string;
  /** Platform picked from indexes (default: this host, linux/amd64 on x86-64). */
  platform?: Platform;
  /** Layers downloaded and unpacked at the same time per pull (default 3). */
  concurrency?: number;
  /** Unreferenced content younger than this survives garbage collection (another process may be pulling it); default 10 min. */
  youngContentMs?: number;
}

/** Pulls and manages images for one node. */
export class ImageService {
  private readonly inflight = new Map<string, Promise<ImageInfo>>();
  private readonly client: RegistryClient;
  private readonly platform: Platform;

  private constructor(
    /** The underlying store. */
    readonly store: ImageStore,
    private readonly opts: ImageServiceOptions,
  ) {
    this.client = new RegistryClient(opts);
    this.platform = opts.platform ?? hostPlatform();
  }

  /** Opens the service on `DATA_DIR/images`. */
  static async open(dataDir: string, opts: ImageServiceOptions = {}): Promise<ImageService> {
    return new ImageService(await ImageStore.open(join(dataDir, 'images'), { youngContentMs: opts.youngContentMs }), opts);
  }

  /** Parses a reference with this node's default registry. */
  parse(ref: string): ImageReference {
    return parseReference(ref, { defaultRegistry: this.opts.defaultRegistry });
  }

  /**
   * Pulls an image (by tag or digest) and unpacks its layers. Concurrent pulls of the same
   * reference with the same pull secrets share one download — never across secrets: a pull
   * without the credentials another pod has must not succeed on that pod's (the kubelet checks
   * every pod's own). Errors carry the registry's message.
   */
  pull(ref: string, opts: PullOptions = {}): Promise<ImageInfo> {
    const r = this.parse(ref);
    const key = `${formatReference(r)} ${createHash('sha256').update(JSON.stringify(opts.pullSecrets ?? [])).digest('hex')}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.doPull(r, opts).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Applies a pull policy: returns the stored image, pulling when the policy asks for it. */
  async ensure(ref: string, policy: PullPolicy, opts: PullOptions = {}): Promise<ImageInfo> {
    if (policy === 'Always') return this.pull(ref, opts);
    const have = await this.get(ref);
    if (have) return have;
    if (policy === 'Never') throw new Error(`image "${ref}" is not present on the node and the pull policy is Never`);
    return this.pull(ref, opts);
  }

  /** The stored image a reference names (tag or digest), with its layers unpacked, or undefined. */
  async get(ref: string): Promise<ImageInfo | undefined> {
    const r = this.parse(ref);
    const rec = r.digest ? this.store.byDigest(r.digest) : this.store.byTag(formatReference(r));
    if (!rec) return undefined;
    for (const l of rec.layers) if (!(await this.store.hasLayer(l.diffID))) return undefined;
    return this.info(rec);
  }

  /** All stored images. */
  list(): ImageInfo[] {
    return this.store.list().map(({ record }) => this.info(record));
  }

  /**
   * Removes a name (`repo:tag`), or with a digest reference / bare digest the whole image, and
   * deletes content no longer referenced. Throws when nothing matches.
   */
  async remove(ref: string): Promise<void> {
    if (isDigest(ref) || this.parse(ref).digest) {
      const digest = isDigest(ref) ? ref : this.parse(ref).digest!;
      const rec = this.store.byDigest(digest);
      if (!rec) throw new Error(`image "${ref}" not found`);
      await this.store.removeImage(rec.digest);
    } else {
      const name = formatReference(this.parse(ref));
      const rec = this.store.byTag(name);
      if (!rec) throw new Error(`image "${ref}" not found`);
      await this.store.removeImage(rec.digest, name);
    }
    await this.gcContent();
  }

  /** Imports a docker-archive tarball or an OCI layout (dir or tar); returns the images. */
  async importArchive(path: string, opts: ArchiveOptions = {}): Promise<ImageInfo[]> {
    const images = await importArchiveInto(this.store, path, { platform: this.platform, ...opts });
    const out: ImageInfo[] = [];
    for (const { record, tags } of images) {
      await this.unpackAll(record);
      await this.store.addImage(record, tags);
      out.push(this.info(this.store.byDigest(record.digest)!));
    }
    return out;
  }

  /**
   * Removes every image whose id, digest or manifest digest is not in `keep`, then deletes
   * unreferenced blobs and layers. Waits for in-flight pulls first.
   */
  async gc(keep: Set<string>): Promise<{ images: number; blobs: number; layers: number }> {
    await Promise.allSettled([...this.inflight.values()]);
    let images = 0;
    for (const { record } of this.store.list()) {
      if (keep.has(record.digest) || keep.has(record.configDigest) || keep.has(record.manifestDigest)) continue;
      await this.store.removeImage(record.digest);
      images++;
    }
    return { images, ...(await this.gcContent()) };
  }

  private async gcContent(): Promise<{ blobs: number; layers: number }> {
    if (this.inflight.size) return { blobs: 0, layers: 0 };
    return this.store.sweep();
  }

  private async doPull(r: ImageReference, opts: PullOptions): Promise<ImageInfo> {
    const name = formatReference(r);
    const cred = credentialFor(r.registry, opts.pullSecrets);
    const progress = opts.onProgress ?? (() => undefined);
    progress({ phase: 'manifest', ref: name });
    const top = await this.client.getManifest(r, r.digest ?? r.tag!, cred);
    let doc = parseManifestDocument(top.body, top.contentType);
    let mf = top;
    if (doc.kind === 'index') {
      const desc = selectPlatform(doc.index, this.platform);
      mf = await this.client.getManifest(r, desc.digest, cred);
      doc = parseManifestDocument(mf.body, mf.contentType);
      if (doc.kind !== 'manifest') throw new Error(`${name}: platform entry ${desc.digest} is not an image manifest`);
    }
    const manifest = doc.manifest;
    let configBody: Buffer;
    if (await this.store.hasBlob(manifest.config.digest)) configBody = await this.store.readBlob(manifest.config.digest);
    else {
      const { stream } = await this.client.openBlob(r, manifest.config.digest, cred);
      await this.store.putBlobStream(manifest.config.digest, stream, manifest.config.size);
      configBody = await this.store.readBlob(manifest.config.digest);
    }
    const record = buildImageRecord(top.digest, mf.digest, manifest, configBody, [`${repoName(r)}@${top.digest}`]);
    // Each layer is unpacked while it downloads (separate lower dirs, so order does not matter).
    await eachLimited(record.layers, this.opts.concurrency ?? 3, async (layer) => {
      const compression = layerCompression(layer.mediaType);
      if (await this.store.hasLayer(layer.diffID)) return;
      progress({ phase: 'unpack', diffID: layer.diffID });
      if (await this.store.hasBlob(layer.digest)) await this.store.ensureLayer(layer, compression);
      else {
        const { stream } = await this.client.openBlob(r, layer.digest, cred);
        let bytes = 0;
        progress({ phase: 'layer', digest: layer.digest, bytes, total: layer.size });
        await this.store.putLayerStream(layer, compression, stream, (n) => {
          bytes += n;
          progress({ phase: 'layer', digest: layer.digest, bytes, total: layer.size });
        });
      }
      progress({ phase: 'unpacked', diffID: layer.diffID });
    });
    await this.store.putBlob(mf.digest, mf.body);
    await this.store.putBlob(top.digest, top.body);
    await this.store.addImage(record, r.tag ? [formatReference({ ...r, digest: undefined })] : []);
    progress({ phase: 'done', ref: name, digest: top.digest });
    return this.info(this.store.byDigest(top.digest)!);
  }

  private async unpackAll(record: ImageRecord): Promise<void> {
    await eachLimited(record.layers, this.opts.concurrency ?? 3, async (l) => {
      if (!(await this.store.hasLayer(l.diffID))) await this.store.ensureLayer(l, layerCompression(l.mediaType));
    });
  }

  private info(rec: ImageRecord): ImageInfo {
    const tags = this.store.list().find((e) => e.record.digest === rec.digest)?.tags ?? [];
    return {
      id: rec.configDigest,
      digest: rec.digest,
      manifestDigest: rec.manifestDigest,
      repoTags: tags,
      repoDigests: rec.repoDigests,
      config: rec.config,
      layerDirs: rec.layers.map((l) => this.store.layerPath(l.diffID)),
      size: rec.layers.reduce((n, l) => n + l.size, 0),
    };
  }
}

/**
 * Runs `fn` over `items`, at most `limit` at a time. After the first failure no new item starts;
 * the running ones are awaited (so nothing is left writing to tmp/) and the first error thrown.
 */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !failed; item = queue.shift()) {
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
}
