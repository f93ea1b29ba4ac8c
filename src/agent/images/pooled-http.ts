/**
 * A plain-HTTP/1.1 GET whose response body is read into recycled 1 MB buffers: the blob reader
 * for registries reached over http (loopback and insecure ones, where bytes arrive fastest).
 *
 * Why not node:http: it reads a socket 64 KB at a time into a new buffer per read, and the HTTP
 * parser copies each body chunk into another new buffer. Fresh memory costs a page fault per 4 KB
 * page on first touch — on this project's VMs ~70 % of the agent's CPU while pulling a 50 MB
 * layer (bench/pull.ts; `perf`: exc_page_fault under read(2) and memmove). Here the socket reads
 * (`onread`) into buffers of a per-response pool, body chunks are views into them, and the
 * consumer hands each chunk back ({@link recyclerOf}) once every writer of it has finished with
 * it. A chunk never handed back is simply not reused (the pool then allocates), so a consumer
 * that does not recycle is correct, only slower.
 *
 *   socket ─read(≤1 MB)─▶ pool buffer ─▶ head parser ─▶ body framing ─▶ push(view) ─▶ consumer
 *                             ▲                    (length | chunked | to close)         │
 *                             └──────────────────────── recycle(view) ◀──────────────────┘
 *
 * One request per connection (`Connection: close`); no TLS (https uses node:https).
 */
import net from 'node:net';
import { Readable } from 'node:stream';

/** Size of one read buffer. */
const READ_BUFFER = 1 << 20;
/** The response head (status line + headers) must fit in this. */
const MAX_HEAD = 64 << 10;

const recyclers = new WeakMap<Readable, (chunk: Buffer) => void>();

/** The function that hands a chunk of `stream` back to its pool, when `stream` pools its chunks. */
export function recyclerOf(stream: Readable): ((chunk: Buffer) => void) | undefined {
  return recyclers.get(stream);
}

/** A response of {@link pooledGet}: the head's fields as IncomingMessage names them, the body as a stream. */
export class PooledResponse extends Readable {
  statusCode = 0;
  statusMessage = '';
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string> = {};

  private readonly free: Buffer[] = [];
  /** Body views pushed and not yet recycled, per read buffer. */
  private readonly lent = new Map<ArrayBufferLike, number>();
  private head: Buffer | null = Buffer.alloc(0);
  private framing!: BodyFraming;
  private paused = false;

  private readonly socket: net.Socket;
  private readonly timer: NodeJS.Timeout;

  /** Sends the request; `onHead` is called once, with the head parsed or with why it was not. */
  constructor(
    url: URL,
    headers: Record<string, string>,
    timeoutMs: number,
    private readonly onHead: (e?: Error) => void,
  ) {
    super({ highWaterMark: READ_BUFFER });
    recyclers.set(this, (chunk) => this.recycle(chunk));
    // A body error while no one listens yet (the caller is still setting up its pipeline) must
    // not be an uncaught 'error': the stream is destroyed, which a later consumer sees as well.
    this.on('error', () => undefined);
    this.socket = net.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: { buffer: () => this.nextBuffer(), callback: (n: number, buf: Buffer) => this.onRead(n, buf) },
    });
    this.timer = setTimeout(() => this.fail(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    this.socket.on('error', (e) => this.fail(e));
    // After 'end' (allowHalfOpen is off), after an error, or after we destroy it at the body's end.
    this.socket.on('close', () => this.onClose());
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'Accept-Encoding: identity'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  /** The next read buffer (net's onread.buffer). */
  private nextBuffer(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER);
  }

  /** One read of `n` bytes into `buf` (net's onread.callback); false pauses the socket. */
  private onRead(n: number, buf: Buffer): boolean {
    let data = buf.subarray(0, n);
    if (this.head) {
      const all = this.head.length ? Buffer.concat([this.head, data]) : data;
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        if (all.length > MAX_HEAD) return this.fail(new Error(`response head larger than ${MAX_HEAD} bytes`)), false;
        this.head = Buffer.from(all); // a copy: `buf` is read into again
        this.free.push(buf);
        return true;
      }
      try {
        this.parseHead(all.subarray(0, end).toString('latin1'));
      } catch (e) {
        return this.fail(e as Error), false;
      }
      this.head = null;
      clearTimeout(this.timer);
      this.onHead();
      // The body's first bytes: those of this read after the head (the head may span reads).
      data = buf.subarray(n - (all.length - end - 4), n);
    }
    let pushed = 0;
    let more = true;
    try {
      this.framing.take(data, (view) => {
        pushed++;
        more = this.push(view) && more;
      });
    } catch (e) {
      return this.fail(e as Error), false;
    }
    if (pushed) this.lent.set(buf.buffer, (this.lent.get(buf.buffer) ?? 0) + pushed);
    else this.free.push(buf);
    if (this.framing.done) {
      this.push(null);
      this.socket.destroy();
      return false;
    }
    if (!more) this.paused = true;
    return more;
  }

  /** The connection is gone: the end of a to-close body, or a response cut short. */
  private onClose(): void {
    if (this.destroyed || this.readableEnded) return;
    if (this.head) this.fail(new Error('connection closed before the response head'));
    else if (this.framing.untilClose) this.push(null);
    else if (!this.framing.done) this.fail(new Error('connection closed before the end of the response body'));
  }

  private fail(e: Error): void {
    clearTimeout(this.timer);
    if (this.head) {
      this.head = null;
      this.onHead(e);
    }
    this.destroy(e);
  }

  override _read(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }

  private recycle(chunk: Buffer): void {
    const left = (this.lent.get(chunk.buffer) ?? 0) - 1;
    if (left > 0) return void this.lent.set(chunk.buffer, left);
    if (left < 0) return; // not one of ours, or already back
    this.lent.delete(chunk.buffer);
    this.free.push(Buffer.from(chunk.buffer, 0, READ_BUFFER));
  }

  private parseHead(text: string): void {
    const [status, ...lines] = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(status ?? '');
    if (!m) throw new Error(`malformed status line "${(status ?? '').slice(0, 100)}"`);
    this.statusCode = Number(m[1]);
    this.statusMessage = m[2] ?? '';
    for (const line of lines) {
      const i = line.indexOf(':');
      if (i <= 0) throw new Error(`malformed header line "${line.slice(0, 100)}"`);
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
    }
    this.framing = bodyFraming(this.headers);
  }
}

/**
 * GETs `url` (http: only) with `headers`; resolves once the response head is in, rejects on a
 * connection error or when no head arrives within `timeoutMs`.
 */
export function pooledGet(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<PooledResponse> {
  if (url.protocol !== 'http:') return Promise.reject(new Error(`pooledGet: ${url.protocol} is not supported`));
  return new Promise((resolve, reject) => {
    const res: PooledResponse = new PooledResponse(url, headers, timeoutMs, (e) => (e ? reject(e) : resolve(res)));
  });
}

/** How a body ends: after Content-Length bytes, at the last chunk, or when the connection closes. */
interface BodyFraming {
  /** Cuts `data` into body views (framing bytes dropped); throws on malformed framing. */
  take(data: Buffer, emit: (view: Buffer) => void): void;
  done: boolean;
  untilClose: boolean;
}

function bodyFraming(headers: Record<string, string>): BodyFraming {
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return new ChunkedFraming();
  const len = headers['content-length'];
  if (len !== undefined) {
    if (!/^\d+$/.test(len)) throw new Error(`malformed Content-Length "${len}"`);
    let left = Number(len);
    const f: BodyFraming = {
      done: left === 0,
      untilClose: false,
      take(data, emit) {
        const view = data.subarray(0, left);
        left -= view.length;
        if (view.length) emit(view);
        f.done = left === 0;
      },
    };
    return f;
  }
  return { done: false, untilClose: true, take: (data, emit) => data.length && emit(data) };
}

/** Transfer-Encoding: chunked — `SIZE[;ext]\r\n DATA \r\n` … `0\r\n [trailers] \r\n`. */
class ChunkedFraming implements BodyFraming {
  done = false;
  untilClose = false;
  private state: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private line = '';
  private left = 0;

  take(data: Buffer, emit: (view: Buffer) => void): void {
    let i = 0;
    while (i < data.length && !this.done) {
      if (this.state === 'data') {
        const view = data.subarray(i, i + this.left);
        emit(view);
        i += view.length;
        this.left -= view.length;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      const nl = data.indexOf(10, i);
      this.line += data.toString('latin1', i, nl < 0 ? data.length : nl + 1);
      if (this.line.length > 4096) throw new Error('malformed chunked body: line too long');
      if (nl < 0) return;
      i = nl + 1;
      const line = this.line.replace(/\r?\n$/, '');
      this.line = '';
      if (this.state === 'crlf') {
        if (line !== '') throw new Error('malformed chunked body: no CRLF after chunk data');
        this.state = 'size';
      } else if (this.state === 'size') {
        const m = /^([0-9a-fA-F]+)(;.*)?$/.exec(line);
        if (!m) throw new Error(`malformed chunk size "${line.slice(0, 40)}"`);
        this.left = parseInt(m[1]!, 16);
        this.state = this.left === 0 ? 'trailer' : 'data';
      } else if (line === '') this.done = true; // end of trailers
    }
  }
}
