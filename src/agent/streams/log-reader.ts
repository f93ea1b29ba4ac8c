/**
 * Reads a container's CRI log file (see log-file.ts) and writes what `kubectl logs` prints: the text
 * of each line (parts of `P` records joined), optionally prefixed by its timestamp, filtered by
 * since/tail, cut at limitBytes. With `follow` it keeps reading appended records (fs.watch on the
 * directory, with a poll as fallback) and continues into the new file after a rotation.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { goTimestamp, parseRecord, rotatedFiles, type LogRecord, type LogStream } from './log-file.ts';

/** What `GET …/pods/{p}/log` accepts (the container and `previous` select the file). */
export interface ReadLogsOptions {
  follow?: boolean;
  /** Only the last N lines of what exists when the read starts. */
  tailLines?: number;
  /** Only lines at most this old (relative to now). */
  sinceSeconds?: number;
  /** Only lines at or after this RFC 3339 time. */
  sinceTime?: string;
  /** Prefix each line with its RFC3339Nano timestamp and a space. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Following stops (after a last read) when this settles, e.g. when the container exits. */
  until?: Promise<unknown>;
  /** Poll interval of the follower, in ms (default 250). */
  pollMs?: number;
  /** stderr lines go here instead of `out` (attach keeps the two streams apart; logs merge them). */
  stderr?: Writable;
}

interface OutLine { timeMs: number; bytes: Buffer; stream: LogStream }

/** Splits a byte stream into lines (without the newline). */
class LineSplitter {
  private rest = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      lines.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return lines;
  }
}

/** Joins `P` records per stream into output lines. */
class Assembler {
  private readonly partial = new Map<LogStream, { first: LogRecord; parts: Buffer[] }>();
  constructor(private readonly timestamps: boolean) {}

  add(rec: LogRecord): OutLine | undefined {
    const p = this.partial.get(rec.stream);
    if (!rec.full) {
      if (p) p.parts.push(rec.content);
      else this.partial.set(rec.stream, { first: rec, parts: [rec.content] });
      return undefined;
    }
    this.partial.delete(rec.stream);
    const first = p?.first ?? rec;
    return this.line(first, [...(p?.parts ?? []), rec.content, Buffer.from('\n')]);
  }

  /** Incomplete lines (a last `P` with no `F` after it), emitted as they are, without a newline. */
  drain(): OutLine[] {
    const out = [...this.partial.values()].map((p) => this.line(p.first, p.parts));
    this.partial.clear();
    return out.sort((a, b) => a.timeMs - b.timeMs);
  }

  private line(first: LogRecord, parts: Buffer[]): OutLine {
    const prefix = this.timestamps ? [Buffer.from(`${goTimestamp(first.time)} `)] : [];
    return { timeMs: first.timeMs, bytes: Buffer.concat([...prefix, ...parts]), stream: first.stream };
  }
}

/** Writes to `out` with backpressure and the byte limit; `false` once no more output is wanted. */
class Sink {
  private written = 0;
  constructor(private readonly out: Writable, private readonly limit: number | undefined, private readonly signal: AbortSignal) {}

  get done(): boolean {
    return this.signal.aborted || this.out.destroyed || this.out.writableEnded
      || (this.limit !== undefined && this.written >= this.limit);
  }

  async write(bytes: Buffer): Promise<boolean> {
    if (this.done) return false;
    if (this.limit !== undefined && bytes.length > this.limit - this.written) bytes = bytes.subarray(0, this.limit - this.written);
    this.written += bytes.length;
    if (!this.out.write(bytes)) await this.drain();
    return !this.done;
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        this.out.off('drain', finish); this.out.off('close', finish); this.out.off('error', finish);
        this.signal.removeEventListener('abort', finish);
        resolve();
      };
      this.out.on('drain', finish); this.out.on('close', finish); this.out.on('error', finish);
      this.signal.addEventListener('abort', finish);
    });
  }
}

/** Wakes the follower on directory changes, with a poll as fallback. */
class Waker {
  private watcher: fs.FSWatcher | undefined;
  private wake: (() => void) | undefined;
  private dirty = false;

  constructor(dir: string, private readonly pollMs: number, private readonly signal: AbortSignal, until?: Promise<unknown>) {
    try {
      this.watcher = fs.watch(dir, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = undefined; });
    } catch { /* no inotify (or no directory yet): poll only */ }
    signal.addEventListener('abort', () => this.notify());
    until?.then(() => this.notify(), () => this.notify());
  }

  private notify(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Resolves on the next change, or after the poll interval. */
  wait(): Promise<void> {
    if (this.dirty) { this.dirty = false; return Promise.resolve(); }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      const self = this;
      function done(): void { clearTimeout(timer); self.wake = undefined; self.dirty = false; resolve(); }
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.wake?.();
  }
}

/** Identifies a file across renames (inode numbers alone are reused after a delete). */
function fileKey(st: fs.Stats): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

/** Opens a file and records it as read; undefined if it does not exist. */
async function openIfExists(file: string, seen?: Set<string>): Promise<fsp.FileHandle | undefined> {
  try {
    const fh = await fsp.open(file, 'r');
    seen?.add(fileKey(await fh.stat()));
    return fh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes the logs of one container instance (`file`, plus its rotated files `file.N`) to `out`.
 * Resolves when everything asked for is written: at end of file without `follow`; with `follow`
 * when `signal` aborts, `opts.until` settles, `limitBytes` is reached or `out` closes. `out` is not
 * ended. A missing file reads as empty (a container that has not written yet).
 */
export async function readLogs(file: string, opts: ReadLogsOptions, out: Writable, signal: AbortSignal): Promise<void> {
  const sink = new Sink(out, opts.limitBytes, signal);
  const errSink = opts.stderr ? new Sink(opts.stderr, opts.limitBytes, signal) : undefined;
  const write = (line: OutLine): Promise<boolean> => (line.stream === 'stderr' && errSink ? errSink : sink).write(line.bytes);
  const assembler = new Assembler(opts.timestamps ?? false);
  let sinceMs = -Infinity;
  if (opts.sinceSeconds !== undefined) sinceMs = Date.now() - opts.sinceSeconds * 1000;
  if (opts.sinceTime) sinceMs = Math.max(sinceMs, Date.parse(opts.sinceTime));
  let tail: OutLine[] | undefined = opts.tailLines !== undefined && opts.tailLines >= 0 ? [] : undefined;
  const tailMax = opts.tailLines ?? 0;

  /** Takes one output line: filtered, kept for the tail, or written. false = stop. */
  const emit = async (line: OutLine): Promise<boolean> => {
    if (line.timeMs < sinceMs) return true;
    if (tail) {
      tail.push(line);
      if (tail.length > 2 * tailMax + 64) tail.splice(0, tail.length - tailMax);
      return true;
    }
    return write(line);
  };
  const splitter = { current: new LineSplitter() };
  const feed = async (chunk: Buffer): Promise<boolean> => {
    for (const raw of splitter.current.push(chunk)) {
      const rec = parseRecord(raw);
      if (!rec) continue;
      const line = assembler.add(rec);
      if (line && !(await emit(line))) return false;
    }
    return true;
  };
  const buf = Buffer.alloc(64 * 1024);
  /** Reads `fh` from `pos` to its end; returns the new position, or -1 to stop. */
  const readToEnd = async (fh: fsp.FileHandle, pos: number): Promise<number> => {
    for (;;) {
      if (sink.done) return -1;
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos;
      pos += bytesRead;
      if (!(await feed(Buffer.from(buf.subarray(0, bytesRead))))) return -1;
    }
  };
  const flushTail = async (): Promise<boolean> => {
    const lines = tail ? tail.slice(Math.max(0, tail.length - tailMax)) : [];
    tail = undefined;
    for (const l of lines) if (!(await write(l))) return false;
    return true;
  };
  const finish = async (): Promise<void> => {
    for (const l of assembler.drain()) if (!(await emit(l))) break;
    await flushTail();
  };

  // 1. What exists: rotated files, oldest first, then the current file up to its end.
  const seen = new Set<string>();
  for (const old of rotatedFiles(file)) {
    const fh = await openIfExists(old, seen);
    if (!fh) continue;
    try { if ((await readToEnd(fh, 0)) < 0) return; } finally { await fh.close(); }
    splitter.current = new LineSplitter();
  }
  let fh = await openIfExists(file, seen);
  let pos = 0;
  try {
    if (fh) pos = await readToEnd(fh, 0);
    if (pos < 0) return;
    if (!opts.follow) { await finish(); return; }
    if (!(await flushTail())) return;

    // 2. Follow: appended records, rotation (the path names a new inode) and truncation.
    let ended = false;
    opts.until?.then(() => { ended = true; }, () => { ended = true; });
    const waker = new Waker(path.dirname(file), opts.pollMs ?? 250, signal, opts.until);
    try {
      for (;;) {
        if (sink.done) return;
        const last = ended;
        if (!last) await waker.wait();
        if (fh) { pos = await readToEnd(fh, pos); if (pos < 0) return; }
        const st = await fsp.stat(file).catch(() => undefined);
        // Rotated (the path is gone or names another file): finish the old file, read rotated
        // files not read yet, then continue in the current file (if it exists yet).
        if (!st || !fh || st.ino !== (await fh.stat()).ino) {
          if (fh) {
            if ((await readToEnd(fh, pos)) < 0) return;
            await fh.close();
            fh = undefined;
          }
          // Several rotations since the last read leave files in between.
          for (const between of rotatedFiles(file)) {
            const st = await fsp.stat(between).catch(() => undefined);
            if (!st || seen.has(fileKey(st))) continue;
            const bh = await openIfExists(between, seen);
            if (!bh) continue;
            splitter.current = new LineSplitter();
            try { if ((await readToEnd(bh, 0)) < 0) return; } finally { await bh.close(); }
          }
          fh = await openIfExists(file, seen);
          splitter.current = new LineSplitter();
          pos = fh ? await readToEnd(fh, 0) : 0;
          if (pos < 0) return;
        } else if (st && fh && st.size < pos) {
          pos = 0; // truncated in place
          splitter.current = new LineSplitter();
        }
        if (last || signal.aborted) break;
      }
    } finally { waker.close(); }
    if (!signal.aborted) await finish();
  } finally { await fh?.close(); }
}
