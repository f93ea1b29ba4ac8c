/**
 * Unpacks one layer tarball into a directory usable as an overlayfs lower dir: the uncompressed
 * stream is verified against the layer's diffID while GNU tar extracts it, then OCI whiteouts are
 * turned into overlayfs ones (`.wh.NAME` → char device 0/0 `NAME`; `.wh..wh..opq` → the
 * `trusted.overlay.opaque=y` xattr on its directory), made by the agent's spawn helper (Node has
 * neither mknod nor setxattr). Needs root (mknod, trusted.* xattrs).
 *
 * Speed (bench/pull.ts): decompression runs on libuv's thread pool (gzip) or in `zstd`, hashing
 * in OpenSSL, extraction in tar; 1 MB chunks keep the per-chunk stream and pipe-wakeup cost low
 * (16 KB zlib chunks cost more CPU than tar itself), and one `sh` spawn per layer runs both tar
 * and the whiteout `find` (each spawn forks this whole process: ~20 ms of blocked event loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, unlink, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Duplex, Writable, type Readable } from 'node:stream';
import { makeWhiteout, markOpaque } from '../../host/spawner.ts';

/** Prefix of OCI whiteout files. */
export const WHITEOUT_PREFIX = '.wh.';
/** Name of the OCI opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';

/** Layer blob compression. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** Chunk size for reading blobs and for decompressed output. */
export const CHUNK = 1 << 20;

// tar extracts into the cwd (the layer dir), then find lists the OCI whiteouts it left,
// NUL-separated; find gets /dev/null so tar's stdin pipe closes as soon as tar is done. tar reads
// 128 KB records (-b 256; -B: a pipe's short reads are fine) instead of 10 KB ones: a third less
// CPU for a 50 MB layer, most of it per-read overhead.
const EXTRACT_SCRIPT = 'tar -x -b 256 -B -f - --numeric-owner --xattrs "--xattrs-include=*" -p && exec find . -name ".wh.*" -print0 </dev/null';

/**
 * Extracts `blobPath` (compression `compression`) into the existing empty directory `dest`,
 * verifying the uncompressed content against `diffID`, then converts whiteouts in place.
 * On failure `dest` may hold partial content: callers extract into a temp dir and rename.
 */
export async function unpackLayer(blobPath: string, compression: LayerCompression, diffID: string, dest: string): Promise<void> {
  await extractLayer(createReadStream(blobPath, { highWaterMark: CHUNK }), compression, diffID, dest);
}

/**
 * Like {@link unpackLayer}, from a stream of the (compressed) blob, e.g. a download in flight.
 * The diffID is checked only once `src` ends; when `src` fails, tar is stopped and the error
 * rethrown. Either way tar has exited when this settles.
 */
export async function extractLayer(src: Readable, compression: LayerCompression, diffID: string, dest: string): Promise<void> {
  const x = openExtraction(compression, diffID, dest);
  // A failing src destroys x.input with its error, which x.done reports.
  await Promise.all([pipeline(src, x.input).catch(() => undefined), x.done]);
}

/** An extraction in progress: write the compressed blob to `input`; `done` settles as {@link extractLayer}. */
export interface Extraction {
  /** Takes the compressed bytes. */
  input: Writable;
  /**
   * True when a write's callback means the chunk is consumed (no longer read), so its memory may
   * be reused: gunzip and tar's pipe; not zstd's stdin (Duplex.from calls back once it is queued).
   */
  consumesOnCallback: boolean;
  done: Promise<void>;
}

/** Starts extracting a layer into `dest` from whatever is written to the returned `input`. */
export function openExtraction(compression: LayerCompression, diffID: string, dest: string): Extraction {
  const sh = spawn('sh', ['-c', EXTRACT_SCRIPT], { cwd: dest, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  sh.stdout!.on('data', (d: Buffer) => out.push(d));
  sh.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = exitOf(sh);
  exited.catch(() => undefined); // awaited below; a spawn failure must not be an unhandled rejection meanwhile
  const sink = new TarSink(sh.stdin!, diffID);
  const zstd = compression === 'zstd' ? zstdDecoder() : undefined;
  // Room for a few MB in flight so a download writing here is not paused after every chunk.
  const decode = zstd ? zstd.stream : compression === 'gzip' ? createGunzip({ chunkSize: CHUNK, writableHighWaterMark: 4 * CHUNK } as ZlibOptions) : undefined;
  const done = (async () => {
    try {
      await (decode ? pipeline(decode, sink) : finished(sink));
      await zstd?.done;
    } catch (e) {
      zstd?.proc.kill();
      sh.kill();
      await exited.catch(() => undefined);
      throw new Error(`layer ${diffID}: ${(e as Error).message}`);
    }
    const code = await exited;
    if (code !== 0) throw new Error(`layer ${diffID}: tar exited ${code}: ${err.trim()}`);
    const found = Buffer.concat(out)
      .toString()
      .split('\0')
      .filter(Boolean)
      .map((p) => p.replace(/^\.\//, ''));
    if (found.length) await convertWhiteouts(dest, found);
  })();
  done.catch(() => undefined); // the caller awaits it; it may reject before the caller gets there
  return { input: decode ?? sink, consumesOnCallback: !zstd, done };
}

/**
 * Writes `chunk` to `w` and calls `done` once it is taken: at once, or on 'drain' — or on 'close'
 * (a destroyed or closing stream takes nothing more; its error is reported elsewhere).
 * `completed` is the write's own callback (the chunk written through); it is not called for a
 * chunk that was never written.
 */
export function writeOrWait(w: Writable, chunk: Buffer, done: () => void, completed?: (err?: Error | null) => void): void {
  if (w.destroyed) return done();
  if (w.write(chunk, completed)) return done();
  const go = () => {
    w.off('drain', go);
    w.off('close', go);
    done();
  };
  w.on('drain', go);
  w.on('close', go);
}

/**
 * Hashes everything it receives and forwards it to tar's stdin until tar stops reading (it exits
 * at the end-of-archive marker, before any trailing padding), then discards: the digest must
 * still cover every byte. Fails at the end, before 'finish', when the content is not `diffID`.
 */
class TarSink extends Writable {
  private readonly hash = createHash('sha256');
  private stdinClosed = false;

  constructor(
    private readonly stdin: Writable,
    private readonly diffID: string,
  ) {
    super({ highWaterMark: 4 * CHUNK });
    stdin.on('error', () => (this.stdinClosed = true));
    stdin.on('close', () => (this.stdinClosed = true));
  }

  // Calls back only once the pipe has taken the whole chunk, not when it is queued: the writer
  // may reuse the chunk's memory after that (pooled-http.ts).
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    if (this.stdinClosed || this.stdin.destroyed) return cb();
    let called = false;
    const written = () => {
      if (called) return;
      called = true;
      this.stdin.off('close', written);
      cb();
    };
    this.stdin.once('close', written);
    this.stdin.write(chunk, written);
  }

  override _final(cb: (e?: Error | null) => void): void {
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.diffID) return cb(new Error(`digest mismatch: expected ${this.diffID}, got ${got}`));
    if (this.stdinClosed || this.stdin.destroyed) return cb();
    this.stdin.end(() => cb());
  }
}

/** `zstd -d` as a duplex stream; `done` rejects when zstd fails. */
function zstdDecoder(): { stream: Duplex; proc: ChildProcess; done: Promise<void> } {
  const proc = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const stream = Duplex.from({ writable: proc.stdin!, readable: proc.stdout! });
  const done = exitOf(proc).then((code) => {
    if (code !== 0) throw new Error(`zstd exited ${code}: ${err.trim()}`);
  });
  done.catch((e: Error) => stream.destroy(e));
  return { stream, proc, done };
}

function exitOf(p: ChildProcess): Promise<number> {
  return new Promise<number>((res, rej) => {
    p.on('error', rej);
    p.on('close', (code) => res(code ?? -1));
  });
}

/**
 * Replaces OCI whiteout files under `root` with overlayfs whiteouts: those in `found` (paths
 * relative to `root`) or, when not given, those `find` lists.
 */
export async function convertWhiteouts(root: string, found?: string[]): Promise<{ whiteouts: number; opaque: number }> {
  found ??= await findWhiteouts(root);
  const ops: Promise<void>[] = [];
  let whiteouts = 0;
  let opaque = 0;
  for (const rel of found) {
    const abs = join(root, rel);
    const dir = dirname(abs);
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    await unlink(abs);
    if (base === OPAQUE_MARKER) {
      ops.push(markOpaque(dir));
      opaque++;
    } else {
      const target = join(dir, base.slice(WHITEOUT_PREFIX.length));
      if (await lstat(target).catch(() => undefined)) await rm(target, { recursive: true, force: true });
      ops.push(makeWhiteout(target));
      whiteouts++;
    }
  }
  // mknod and setxattr have no Node API: the spawn helper makes them, requests pipelined on its pipe.
  await Promise.all(ops);
  return { whiteouts, opaque };
}

async function findWhiteouts(root: string): Promise<string[]> {
  const out = await collect(spawn('find', ['.', '-name', '.wh.*', '-print0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  return out
    .split('\0')
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, ''));
}

function collect(p: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${p.spawnargs[0]} exited ${code}: ${err.trim()}`))));
  });
}
