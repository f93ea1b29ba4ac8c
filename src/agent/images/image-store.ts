/**
 * Content-addressed image store under `DATA_DIR/images`:
 *   blobs/sha256/<hex>   verified blobs (manifests, configs, compressed layers)
 *   layers/<hex>/        layers unpacked once, keyed by diffID, usable as overlay lower dirs
 *   tmp/                 in-flight downloads and unpacks (cleared on open)
 *   index.json           image records and name → digest tags
 * Every write goes to tmp/ first and is renamed into place, so an interrupted or corrupt pull
 * never leaves a half-written blob, layer or index.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DigestVerifier, digestHex, sha256Digest } from './digest.ts';
import { CHUNK, unpackLayer, type LayerCompression } from './layer-unpack.ts';
import { downloadAndExtract, syncFile } from './layer-intake.ts';
import type { ContainerConfig } from './manifest.ts';

/** One layer of a stored image. */
export interface LayerRecord {
  /** Digest of the (possibly compressed) blob. */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffID: string;
  mediaType: string;
  size: number;
}

/** A stored image. */
export interface ImageRecord {
  /** Digest the image was pulled by: the index's when the registry served one, else the manifest's. */
  digest: string;
  /** Digest of the platform manifest. */
  manifestDigest: string;
  /** Digest of the config blob (Docker's "image ID"). */
  configDigest: string;
  layers: LayerRecord[];
  /** `registry/repo@digest` names this image is known by. */
  repoDigests: string[];
  config: ContainerConfig;
  /** ISO time it was stored. */
  created: string;
}

interface IndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
  /** `registry/repo:tag` → image digest. */
  tags: Record<string, string>;
}

/** tmp/ entries older than this are leftovers of a dead process (a live pull keeps writing). */
const TMP_STALE_MS = 60 * 60_000;
/** Unreferenced content younger than this is kept by sweep (a pull in another process). */
const YOUNG_CONTENT_MS = 10 * 60_000;
/** An index lock older than this was left by a dead process. */
const LOCK_STALE_MS = 30_000;

/**
 * The on-disk store. Several processes may share it (the agent and `berth image`): index updates
 * take a lock file and re-read index.json inside it, and reads reload the index when the file
 * changed, so one process's import is seen by the other.
 */
export class ImageStore {
  private index: IndexFile = { version: 1, images: {}, tags: {} };
  /** mtime+size of the index.json last loaded. */
  private loadedStamp = '';
  private chain: Promise<unknown> = Promise.resolve();
  private readonly unpacking = new Map<string, Promise<string>>();

  private constructor(readonly root: string, private readonly youngContentMs: number) {}

  /**
   * Opens (creating) the store at `root` (normally `DATA_DIR/images`) and clears stale leftovers in
   * tmp/. `youngContentMs`: unreferenced content younger than this survives a sweep (default 10 min).
   */
  static async open(root: string, opts: { youngContentMs?: number } = {}): Promise<ImageStore> {
    const s = new ImageStore(root, opts.youngContentMs ?? YOUNG_CONTENT_MS);
    for (const d of ['blobs/sha256', 'layers', 'tmp']) await mkdir(join(root, d), { recursive: true });
    // Only stale leftovers: another process may be pulling into tmp/ right now.
    const now = Date.now();
    for (const f of await readdir(join(root, 'tmp'))) {
      const st = await stat(join(root, 'tmp', f)).catch(() => undefined);
      if (st && now - st.mtimeMs > TMP_STALE_MS) await rm(join(root, 'tmp', f), { recursive: true, force: true });
    }
    s.refresh();
    return s;
  }

  private get indexPath(): string {
    return join(this.root, 'index.json');
  }

  /** Reloads index.json when it changed on disk (another process wrote it). */
  private refresh(): void {
    let stamp = '';
    try {
      const st = statSync(this.indexPath);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (stamp === this.loadedStamp) return;
    try {
      this.index = JSON.parse(readFileSync(this.indexPath, 'utf8')) as IndexFile;
      this.loadedStamp = stamp;
    } catch (e) {
      throw new Error(`image store index unreadable: ${(e as Error).message}`);
    }
  }

  /** Path of a blob (whether or not it exists). */
  blobPath(digest: string): string {
    return join(this.root, 'blobs/sha256', digestHex(digest));
  }

  /** Path of an unpacked layer (whether or not it exists). */
  layerPath(diffID: string): string {
    return join(this.root, 'layers', digestHex(diffID));
  }

  /** True when the blob is stored. */
  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** Reads a stored blob. */
  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /** A fresh path under tmp/. */
  tempPath(prefix: string): string {
    return join(this.root, 'tmp', `${prefix}-${randomBytes(6).toString('hex')}`);
  }

  /** Stores a small blob after checking its digest. */
  async putBlob(digest: string, data: Buffer): Promise<void> {
    const got = sha256Digest(data);
    if (got !== digest) throw new Error(`digest mismatch: expected ${digest}, got ${got}`);
    if (await this.hasBlob(digest)) return;
    const tmp = this.tempPath('blob');
    await writeFile(tmp, data);
    await rename(tmp, this.blobPath(digest));
  }

  /**
   * Streams a blob into the store, verifying digest (and size when known) on the way; the blob
   * appears under blobs/ only once complete and verified.
   */
  async putBlobStream(digest: string, src: Readable, size?: number, onBytes?: (n: number) => void): Promise<void> {
    const tmp = this.tempPath('blob');
    try {
      await pipeline(src, new DigestVerifier(digest, size, onBytes), createWriteStream(tmp, { highWaterMark: CHUNK }));
      await this.commitBlob(tmp, digest);
    } catch (e) {
      src.destroy();
      await rm(tmp, { force: true });
      throw new Error(`blob ${digest}: ${(e as Error).message}`);
    }
  }

  /** fsyncs a verified blob in tmp/ and renames it into blobs/. */
  private async commitBlob(tmp: string, digest: string): Promise<void> {
    await syncFile(tmp);
    await rename(tmp, this.blobPath(digest));
  }

  /**
   * Downloads a layer blob and unpacks it in one pass: `src` (the compressed blob) is verified
   * against the layer digest and size while it is written to tmp/ and, at the same time,
   * decompressed, verified against the diffID and extracted by tar into a tmp/ dir. Only when
   * both digests match are the blob and the layer renamed into place; otherwise both temps are
   * removed. When the blob verifies but extraction fails, the blob is kept (it is good content).
   * Concurrent callers for one diffID (and {@link ensureLayer}) share the work.
   */
  putLayerStream(layer: LayerRecord, compression: LayerCompression, src: Readable, onBytes?: (n: number) => void): Promise<string> {
    const running = this.unpacking.get(layer.diffID);
    if (running) {
      src.destroy();
      return running;
    }
    const p = (async () => {
      const dest = this.layerPath(layer.diffID);
      if (await exists(dest)) {
        src.destroy();
        return dest;
      }
      const blobTmp = this.tempPath('blob');
      const dirTmp = this.tempPath('layer');
      await mkdir(dirTmp, { mode: 0o755 }).catch((e: Error) => {
        src.destroy();
        throw e;
      });
      const { downloadErr, extractErr, synced } = await downloadAndExtract(src, layer, compression, blobTmp, dirTmp, onBytes);
      try {
        if (downloadErr) throw new Error(`blob ${layer.digest}: ${downloadErr.message}`);
        await synced;
        await rename(blobTmp, this.blobPath(layer.digest));
        if (extractErr) throw extractErr;
        await this.commitLayer(dirTmp, dest);
        return dest;
      } catch (e) {
        await rm(blobTmp, { force: true });
        await rm(dirTmp, { recursive: true, force: true });
        throw e;
      }
    })().finally(() => this.unpacking.delete(layer.diffID));
    this.unpacking.set(layer.diffID, p);
    return p;
  }

  /** Renames an unpacked layer into layers/; another process having done it first is fine. */
  private async commitLayer(tmp: string, dest: string): Promise<void> {
    try {
      await rename(tmp, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(dest))) await rm(tmp, { recursive: true, force: true });
      else throw e;
    }
  }

  /** True when the layer with this diffID is unpacked. */
  hasLayer(diffID: string): Promise<boolean> {
    return exists(this.layerPath(diffID));
  }

  /**
   * Unpacks a stored layer blob once (concurrent callers share the work) and returns its dir.
   * Extraction happens in tmp/ and is renamed into layers/ only when complete and verified.
   */
  ensureLayer(layer: LayerRecord, compression: LayerCompression): Promise<string> {
    const dest = this.layerPath(layer.diffID);
    let p = this.unpacking.get(layer.diffID);
    if (!p) {
      p = (async () => {
        if (await exists(dest)) return dest;
        const tmp = this.tempPath('layer');
        await mkdir(tmp, { mode: 0o755 });
        try {
          await unpackLayer(this.blobPath(layer.digest), compression, layer.diffID, tmp);
          await this.commitLayer(tmp, dest);
        } catch (e) {
          await rm(tmp, { recursive: true, force: true });
          throw e;
        }
        return dest;
      })().finally(() => this.unpacking.delete(layer.diffID));
      this.unpacking.set(layer.diffID, p);
    }
    return p;
  }

  /** Records an image and points `tags` at it, atomically replacing index.json. */
  addImage(rec: ImageRecord, tags: string[]): Promise<void> {
    return this.mutate((ix) => {
      const old = ix.images[rec.digest];
      const repoDigests = [...new Set([...(old?.repoDigests ?? []), ...rec.repoDigests])];
      ix.images[rec.digest] = { ...rec, repoDigests };
      for (const t of tags) ix.tags[t] = rec.digest;
    });
  }

  /** The image a tag (`registry/repo:tag`) points to. */
  byTag(name: string): ImageRecord | undefined {
    this.refresh();
    const d = this.index.tags[name];
    return d ? this.index.images[d] : undefined;
  }

  /** The image with this digest (top-level, manifest or config digest). */
  byDigest(digest: string): ImageRecord | undefined {
    this.refresh();
    return (
      this.index.images[digest] ??
      Object.values(this.index.images).find((r) => r.manifestDigest === digest || r.configDigest === digest)
    );
  }

  /** All images, each with the tags that point to it. */
  list(): { record: ImageRecord; tags: string[] }[] {
    this.refresh();
    return Object.values(this.index.images).map((record) => ({
      record,
      tags: Object.entries(this.index.tags)
        .filter(([, d]) => d === record.digest)
        .map(([t]) => t),
    }));
  }

  /** Removes a tag; drops the image record when `dropImage` or when no tag refers to it any more. */
  removeImage(digest: string, tag?: string): Promise<void> {
    return this.mutate((ix) => {
      if (tag) delete ix.tags[tag];
      else for (const [t, d] of Object.entries(ix.tags)) if (d === digest) delete ix.tags[t];
      if (!Object.values(ix.tags).includes(digest)) delete ix.images[digest];
    });
  }

  /** Deletes blobs and unpacked layers no image record refers to, and everything in tmp/ that is idle. */
  async sweep(): Promise<{ blobs: number; layers: number }> {
    return this.locked(async () => {
      this.refresh();
      const blobs = new Set<string>();
      const layers = new Set<string>();
      for (const r of Object.values(this.index.images)) {
        for (const d of [r.digest, r.manifestDigest, r.configDigest]) blobs.add(digestHex(d));
        for (const l of r.layers) {
          blobs.add(digestHex(l.digest));
          layers.add(digestHex(l.diffID));
        }
      }
      let nb = 0;
      let nl = 0;
      // Content stored in the last minutes may belong to another process's pull that has not
      // recorded its image yet (rename sets ctime): left for the next sweep.
      const young = async (p: string) => ((await stat(p).catch(() => undefined))?.ctimeMs ?? 0) > Date.now() - this.youngContentMs;
      for (const f of await readdir(join(this.root, 'blobs/sha256'))) {
        if (!blobs.has(f) && !(await young(join(this.root, 'blobs/sha256', f)))) {
          await rm(join(this.root, 'blobs/sha256', f), { force: true });
          nb++;
        }
      }
      const busy = new Set([...this.unpacking.keys()].map(digestHex));
      for (const f of await readdir(join(this.root, 'layers'))) {
        if (!layers.has(f) && !busy.has(f) && !(await young(join(this.root, 'layers', f)))) {
          await rm(join(this.root, 'layers', f), { recursive: true, force: true });
          nl++;
        }
      }
      return { blobs: nb, layers: nl };
    });
  }

  private mutate(fn: (ix: IndexFile) => void): Promise<void> {
    return this.locked(async () => {
      this.refresh();
      const next = structuredClone(this.index);
      fn(next);
      const tmp = this.tempPath('index');
      await writeFile(tmp, JSON.stringify(next, null, 1));
      await rename(tmp, this.indexPath);
      this.index = next;
      const st = statSync(this.indexPath);
      this.loadedStamp = `${st.mtimeMs}:${st.size}`;
    });
  }

  /** Runs `fn` holding the in-process chain and the cross-process lock file. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const lock = join(this.root, 'index.lock');
      for (let waited = 0; ; waited += 10) {
        try {
          await (await open(lock, 'wx')).close();
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          const st = await stat(lock).catch(() => undefined);
          if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await rm(lock, { force: true });
          else if (waited > 20_000) throw new Error(`image store is locked by another process (${lock})`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      try {
        return await fn();
      } finally {
        await rm(lock, { force: true });
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
