/**
 * The port-forward protocol `portforward.k8s.io` over a SPDY session, server side (the kubelet's
 * httpstream handler, in small). For every forwarded connection the client opens two streams:
 *
 *   SYN_STREAM {streamtype: error, port: P, requestid: K}   server → client: error text, then FIN
 *   SYN_STREAM {streamtype: data,  port: P, requestid: K}   bytes both ways
 *
 * Once both streams of a request id are there, the server connects to port P in the pod and pipes
 * the data stream both ways. A failure is written on the error stream as
 * `error forwarding port P to pod NAME_NS, uid UID: …`, which kubectl prints. Both streams are
 * closed when the forward ends: kubectl waits for the error stream's FIN before it closes the
 * local connection.
 */
import type { Duplex } from 'node:stream';
import { headerValue } from './spdy/header-codec.ts';
import { RstStatus } from './spdy/frames.ts';
import type { SpdySession } from './spdy/session.ts';
import type { SpdyStream } from './spdy/stream.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortForwardContext {
  ns: string;
  pod: string;
  uid: string;
  /** Connects to the port in the pod; rejects with why it cannot. */
  dial(port: number): Promise<Duplex>;
  /** How long the second stream of a pair may take to arrive (the kubelet's default: 30 s). */
  pairTimeoutMs?: number;
  /** After the pod closed its side, how long the client's side may still take (as containerd: 1 s). */
  drainMs?: number;
}

interface Pair { error?: SpdyStream; data?: SpdyStream; timer: NodeJS.Timeout }

/** kubelet: without a requestid header, a pair is error stream N and data stream N+2. */
function requestIdOf(stream: SpdyStream, type: string): string {
  return headerValue(stream.headers, 'requestid') ?? String(type === 'data' ? stream.id - 2 : stream.id);
}

function parsePort(raw: string | undefined): number | undefined {
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Serves port forwarding on every stream the client opens on `session`. */
export function servePortForward(session: SpdySession, ctx: PortForwardContext): void {
  const pairs = new Map<string, Pair>();
  const podName = `${ctx.pod}_${ctx.ns}`;

  session.on('stream', (stream: SpdyStream) => {
    stream.on('error', () => {});
    const type = headerValue(stream.headers, 'streamtype') ?? '';
    if (type !== 'error' && type !== 'data') { stream.reset(RstStatus.PROTOCOL_ERROR); return; }
    stream.reply();
    const id = requestIdOf(stream, type);
    let pair = pairs.get(id);
    if (!pair) {
      pair = { timer: setTimeout(() => timedOut(id), ctx.pairTimeoutMs ?? 30_000) };
      pairs.set(id, pair);
    }
    if (pair[type]) { stream.reset(RstStatus.PROTOCOL_ERROR); return; }
    pair[type] = stream;
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(id);
      void forward(pair.error, pair.data);
    }
  });
  session.on('close', () => { for (const p of pairs.values()) clearTimeout(p.timer); pairs.clear(); });

  function timedOut(id: string): void {
    const pair = pairs.get(id);
    pairs.delete(id);
    if (!pair) return;
    pair.data?.reset(RstStatus.CANCEL);
    if (pair.error) pair.error.end(`timed out waiting for the data stream of request ${id}`);
  }

  async function forward(errorStream: SpdyStream, data: SpdyStream): Promise<void> {
    errorStream.resume(); // the client sends nothing on it, but drain whatever comes
    const portHeader = headerValue(data.headers, 'port');
    const port = parsePort(portHeader);
    const fail = (msg: string) => {
      if (!errorStream.destroyed) errorStream.end(`error forwarding port ${portHeader} to pod ${podName}, uid ${ctx.uid}: ${msg}`);
      if (!data.destroyed) { data.resume(); data.end(); }
    };
    if (port === undefined) { fail(`invalid port "${portHeader}"`); return; }
    let conn: Duplex;
    try {
      conn = await ctx.dial(port);
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    if (data.destroyed) { conn.destroy(); return; }
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      data.unpipe(conn);
      conn.unpipe(data);
      if (err) fail(err.message);
      else {
        if (!data.destroyed && !data.writableEnded) data.end();
        if (!errorStream.destroyed) errorStream.end();
      }
      if (!data.readableEnded) data.resume();
      conn.destroy();
    };
    conn.on('error', (err) => finish(err));
    // Client → pod; the client's FIN half-closes the pod connection.
    data.pipe(conn);
    // Pod → client; the pod closing ends the forward once the client's side has had its chance.
    conn.pipe(data, { end: false });
    conn.on('end', () => {
      if (!data.destroyed && !data.writableEnded) data.end();
      if (data.readableEnded) finish();
      else drainTimer = setTimeout(() => finish(), ctx.drainMs ?? 1000);
    });
    data.on('end', () => { if (conn.readableEnded) finish(); });
    data.on('close', () => finish());
    errorStream.on('close', () => { if (!finished && data.destroyed) finish(); });
  }
}
