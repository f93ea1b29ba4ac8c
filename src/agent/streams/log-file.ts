/**
 * Container log files in the CRI format, as the kubelet writes them:
 *
 *   2026-11-24T05:00:00.123456789Z stdout F a full line
 *   2026-11-24T05:00:00.123456789Z stderr P the first part of a long line, …
 *
 * `F` ends a line, `P` is a part of a line that continues in the next record (lines longer than
 * `MAX_LINE_BYTES`, or output flushed without a newline).
 *
 * Directory layout (one directory per container, one file per container instance):
 *
 *   DATA_DIR/pods/<pod-uid>/<container>/<restartCount>.log      current file of that instance
 *   DATA_DIR/pods/<pod-uid>/<container>/<restartCount>.log.1    rotated, newest first (.1, .2, …)
 *
 * `kubectl logs --previous` reads `<restartCount - 1>.log`: the caller chooses the file, the reader
 * only knows paths. The writer rotates `N.log` → `N.log.1` (→ `N.log.2` …) once it passes a size
 * limit; readers list the rotated files with `rotatedFiles` and a follower moves on to the new file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

/** Longest record content before the writer splits a line into `P` parts (the kubelet's 16 KiB). */
export const MAX_LINE_BYTES = 16 * 1024;

/** The output stream a record came from. */
export type LogStream = 'stdout' | 'stderr';

/** One parsed record of a CRI log file. */
export interface LogRecord {
  /** The timestamp exactly as written (RFC 3339 with nanoseconds). */
  time: string;
  /** Milliseconds since the epoch of `time` (for since filters). */
  timeMs: number;
  stream: LogStream;
  /** false for a `P` (partial) record. */
  full: boolean;
  content: Buffer;
}

/** `DATA_DIR/pods/<uid>/<container>/<restartCount>.log`. */
export function containerLogPath(dataDir: string, podUid: string, container: string, restartCount: number): string {
  return path.join(dataDir, 'pods', podUid, container, `${restartCount}.log`);
}

/** RFC 3339 with nanoseconds from a Date (the sub-millisecond digits are zero). */
export function criTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Go's RFC3339Nano rendering of a CRI timestamp: trailing zeros of the fraction trimmed. */
export function goTimestamp(time: string): string {
  return time.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** One record line, without the trailing newline. */
export function formatRecord(time: string, stream: LogStream, full: boolean, content: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${time} ${stream} ${full ? 'F' : 'P'} `), Buffer.from(content)]);
}

/** Parses one record line (without its newline); undefined if it is not a CRI record. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const tag = line.subarray(s2 + 1, s2 + 2).toString();
  if (tag !== 'F' && tag !== 'P') return undefined;
  const time = line.subarray(0, s1).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timeMs = Date.parse(time);
  if (Number.isNaN(timeMs)) return undefined;
  // The tag is followed by a space, except for an empty partial record written by some runtimes.
  const content = line.subarray(Math.min(line.length, s2 + 3));
  return { time, timeMs, stream, full: tag === 'F', content };
}

/** Existing rotated files of `file`, oldest first (`file.N` … `file.1`). */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  const found: { n: number; p: string }[] = [];
  for (const name of names) {
    const m = name.startsWith(`${base}.`) ? /^(\d+)$/.exec(name.slice(base.length + 1)) : null;
    if (m) found.push({ n: Number(m[1]), p: path.join(dir, name) });
  }
  return found.sort((a, b) => b.n - a.n).map((f) => f.p);
}

/**
 * Rotates `file` when it has reached `maxBytes`: `file.(maxFiles-2)` → `file.(maxFiles-1)`, …,
 * `file` → `file.1`; the oldest beyond `maxFiles` files in all (current included) is removed. The
 * current file is then absent until the next write creates it. Returns true if it rotated.
 */
export function rotateIfNeeded(file: string, maxBytes: number, maxFiles: number): boolean {
  let size: number;
  try { size = fs.statSync(file).size; } catch { return false; }
  if (size < maxBytes || maxFiles < 1) return false;
  const keep = Math.max(0, maxFiles - 1);
  for (const old of rotatedFiles(file)) {
    const n = Number(old.slice(file.length + 1));
    if (n >= keep) fs.rmSync(old, { force: true });
  }
  for (let n = keep - 1; n >= 1; n--) {
    if (fs.existsSync(`${file}.${n}`)) fs.renameSync(`${file}.${n}`, `${file}.${n + 1}`);
  }
  if (keep >= 1) fs.renameSync(file, `${file}.1`);
  else fs.rmSync(file, { force: true });
  return true;
}

/** Options of a `LogFileWriter`. */
export interface LogWriterOptions {
  /** Rotate once the current file reaches this size (default 10 MiB). */
  maxBytes?: number;
  /** Files kept in all, the current one included (default 5). */
  maxFiles?: number;
  /** Clock for record timestamps (tests). */
  now?: () => Date;
}

/**
 * Appends a container's output to its CRI log file: complete lines as `F` records, lines longer
 * than `MAX_LINE_BYTES` as `P` parts, and a trailing incomplete line as `P` on `flush()`. Writes are
 * synchronous so records of both streams keep their order; it rotates after each write as needed.
 */
export class LogFileWriter {
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly now: () => Date;

  constructor(readonly file: string, opts: LogWriterOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 5;
    this.now = opts.now ?? (() => new Date());
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Adds output of one stream; complete lines are written at once. */
  write(stream: LogStream, chunk: Buffer | string): void {
    let buf = Buffer.concat([this.pending[stream], Buffer.from(chunk)]);
    const out: Buffer[] = [];
    const time = criTimestamp(this.now());
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl < 0) break;
      let line = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      while (line.length > MAX_LINE_BYTES) {
        out.push(formatRecord(time, stream, false, line.subarray(0, MAX_LINE_BYTES)));
        line = line.subarray(MAX_LINE_BYTES);
      }
      out.push(formatRecord(time, stream, true, line));
    }
    while (buf.length > MAX_LINE_BYTES) {
      out.push(formatRecord(time, stream, false, buf.subarray(0, MAX_LINE_BYTES)));
      buf = buf.subarray(MAX_LINE_BYTES);
    }
    this.pending[stream] = Buffer.from(buf);
    this.append(out);
  }

  /** Writes incomplete lines as `P` records (e.g. when the container exits). */
  flush(): void {
    const time = criTimestamp(this.now());
    const out: Buffer[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.pending[s].length) out.push(formatRecord(time, s, false, this.pending[s]));
      this.pending[s] = Buffer.alloc(0);
    }
    this.append(out);
  }

  /** A Writable for one stream (e.g. to pipe a child's stdout into); `final` flushes. */
  stream(stream: LogStream): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => { try { this.write(stream, chunk); cb(); } catch (e) { cb(e as Error); } },
      final: (cb) => { try { this.flush(); cb(); } catch (e) { cb(e as Error); } },
    });
  }

  private append(records: Buffer[]): void {
    if (!records.length) return;
    fs.appendFileSync(this.file, Buffer.concat(records.flatMap((r) => [r, Buffer.from('\n')])));
    rotateIfNeeded(this.file, this.maxBytes, this.maxFiles);
  }
}
