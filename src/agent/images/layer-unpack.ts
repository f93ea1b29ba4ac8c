/**
 * Unpacks one layer tarball into a directory usable as an overlayfs lower dir: the uncompressed
 * stream is verified against the layer's diffID while GNU tar extracts it, then OCI whiteouts are
 * turned into overlayfs ones (`.wh.NAME` → char device 0/0 `NAME`; `.wh..wh..opq` → the
 * `trusted.overlay.opaque=y` xattr on its directory). Needs root (mknod, trusted.* xattrs).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, unlink, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Writable as WritableStream0, type Readable, type Writable } from 'node:stream';
import { DigestVerifier } from './digest.ts';

/** Prefix of OCI whiteout files. */
export const WHITEOUT_PREFIX = '.wh.';
/** Name of the OCI opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * Extracts `blobPath` (compression `compression`) into the existing empty directory `dest`,
 * verifying the uncompressed content against `diffID`, then converts whiteouts in place.
 * On failure `dest` may hold partial content: callers extract into a temp dir and rename.
 */
export async function unpackLayer(
  blobPath: string,
  compression: 'none' | 'gzip' | 'zstd',
  diffID: string,
  dest: string,
): Promise<void> {
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dest, '--numeric-owner', '--xattrs', '--xattrs-include=*', '-p'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr = (tarErr + d.toString()).slice(-2000)));
  const tarExit = new Promise<number>((res, rej) => {
    tar.on('error', rej);
    tar.on('close', (code) => res(code ?? -1));
  });
  const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [];
  try {
    if (compression === 'zstd') {
      const zstd = spawn('zstd', ['-d', '-c', '-q', blobPath], { stdio: ['ignore', 'pipe', 'inherit'] });
      stages.push(zstd.stdout);
    } else stages.push(createReadStream(blobPath));
    if (compression === 'gzip') stages.push(createGunzip());
    await pipeline([...stages, new DigestVerifier(diffID), tarSink(tar.stdin)] as unknown as [Readable, Writable]);
  } catch (e) {
    tar.kill();
    await tarExit.catch(() => undefined);
    throw new Error(`layer ${diffID}: ${(e as Error).message}`);
  }
  const code = await tarExit;
  if (code !== 0) throw new Error(`layer ${diffID}: tar exited ${code}: ${tarErr.trim()}`);
  await convertWhiteouts(dest);
}

/**
 * Forwards to tar's stdin until tar stops reading (it exits at the end-of-archive marker, before
 * any trailing padding), then discards: the digest must still cover every byte.
 */
function tarSink(stdin: Writable): Writable {
  let closed = false;
  stdin.on('error', () => (closed = true));
  stdin.on('close', () => (closed = true));
  return new WritableStream0({
    write(chunk, _enc, cb) {
      if (closed || stdin.destroyed) return cb();
      if (stdin.write(chunk)) return cb();
      const go = () => {
        stdin.off('drain', go);
        stdin.off('close', go);
        cb();
      };
      stdin.on('drain', go);
      stdin.on('close', go);
    },
    final(cb) {
      if (closed || stdin.destroyed) return cb();
      stdin.end(() => cb());
    },
  });
}

/** Finds OCI whiteout files under `root` and replaces them with overlayfs whiteouts. */
export async function convertWhiteouts(root: string): Promise<{ whiteouts: number; opaque: number }> {
  const found = await findWhiteouts(root);
  const ops: string[] = [];
  let whiteouts = 0;
  let opaque = 0;
  for (const rel of found) {
    const abs = join(root, rel);
    const dir = dirname(abs);
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    await unlink(abs);
    if (base === OPAQUE_MARKER) {
      ops.push('O', dir);
      opaque++;
    } else {
      const target = join(dir, base.slice(WHITEOUT_PREFIX.length));
      if (await lstat(target).catch(() => undefined)) await rm(target, { recursive: true, force: true });
      ops.push('W', target);
      whiteouts++;
    }
  }
  if (ops.length) await runPerl(ops);
  return { whiteouts, opaque };
}

async function findWhiteouts(root: string): Promise<string[]> {
  const out = await collect(spawn('find', ['.', '-name', '.wh.*', '-print0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  return out
    .split('\0')
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, ''));
}

// mknodat(AT_FDCWD, path, S_IFCHR, 0) and setxattr(dir, trusted.overlay.opaque, "y"), batched:
// Node has neither call, and perl (already an agent dependency) can make raw syscalls.
const PERL = `require "syscall.ph"; local $/ = "\\0";
while (defined(my $op = <STDIN>)) { chomp $op; my $p = <STDIN>; chomp $p;
  if ($op eq "W") { syscall(&SYS_mknodat, -100, $p, 0020000, 0) == 0 or die "mknod $p: $!\\n"; }
  else { my ($n, $v) = ("trusted.overlay.opaque", "y"); syscall(&SYS_setxattr, $p, $n, $v, 1, 0) == 0 or die "setxattr $p: $!\\n"; } }`;

async function runPerl(ops: string[]): Promise<void> {
  const p = spawn('perl', ['-e', PERL], { stdio: ['pipe', 'ignore', 'pipe'] });
  const done = collect(p, true);
  p.stdin!.end(ops.map((s) => s + '\0').join(''));
  await done;
}

function collect(p: ReturnType<typeof spawn>, errOnly = false): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    if (!errOnly) p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${p.spawnargs[0]} exited ${code}: ${err.trim()}`))));
  });
}
