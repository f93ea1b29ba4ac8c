/**
 * The node agent's HTTP server: the streaming part of the kubelet API, in small.
 *
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow&tailLines&timestamps&sinceSeconds&sinceTime&previous&limitBytes
 *        → text/plain, streamed and flushed line by line
 *   GET|POST /exec/{ns}/{pod}/{container}?command=…&command=…&stdin&stdout&stderr&tty
 *        → websocket upgrade, remotecommand v5/v4 (remotecommand.ts)
 *   GET|POST /portForward/{ns}/{pod}
 *        → SPDY/3.1 port forwarding, as a websocket tunnel or a plain SPDY upgrade
 *          (portforward-upgrade.ts, portforward.ts)
 *   GET|POST /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty
 *        → websocket upgrade, remotecommand v5/v4: the main process's output from now on, until
 *          it exits or the client detaches; with stdin, the client's input into the container's
 *          stdin FIFO (containers with `stdin: true`; attach-stdin.ts)
 *
 *   GET  /metrics, /metrics/resource, /metrics/cadvisor, /stats/summary, /stats/history
 *        → the node's metrics (`AgentMetricsSource`, src/agent/metrics), authorized as nodes/metrics
 *          and nodes/stats as the kubelet does
 *
 *   GET  /traffic → the node's observed connections (src/agent/traffic), authorized as nodes/proxy
 *
 * Booleans accept `true` or `1`. Errors answer a metav1.Status JSON, which the API server passes
 * through to kubectl. The server knows pods only through a `StreamResolver`, so it does not depend
 * on the pod worker.
 *
 * With `tls` (every agent: the kubelet's --tls-cert-file and --client-ca-file) it serves HTTPS and
 * lets in only callers with a certificate from the cluster CA that may use nodes/proxy of this node
 * (stream-auth.ts) — the API server's kubelet-client certificate at once, others after a
 * SubjectAccessReview. Without `tls` (protocol tests) it is plain HTTP with no authentication.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApiError } from '../../errors/index.ts';
import type { ExecOptions } from '../runtime/driver.ts';
import { readLogs, type ReadLogsOptions } from './log-reader.ts';
import { negotiateSubprotocol, serveExec } from './remotecommand.ts';
import { dialPod } from './pod-dialer.ts';
import { acceptPortForward, createTunnelServer, portForwardTransport } from './portforward-upgrade.ts';
import { checkStreamAccess, type StreamAuthorizer } from './stream-auth.ts';

/** What the agent server needs to know about pods; the agent answers it from its pod workers (worker/stream-resolver.ts). */
export interface StreamResolver {
  /**
   * The log file of a container: the current instance, or with `previous` the one before it
   * (`DATA_DIR/pods/<uid>/<container>/<restartCount>.log`, see log-file.ts). Throws an ApiError
   * (e.g. 404, or 400 "previous terminated container … not found") when there is none.
   */
  logPath(ns: string, pod: string, container: string, previous: boolean): Promise<string>;
  /** Runs a command in the container (RuntimeDriver.exec); `signal` aborts when the client leaves. */
  exec(ns: string, pod: string, container: string, opts: ExecOptions & { signal?: AbortSignal }): Promise<number>;
  /** Optional: settles when the current instance of the container exits, which ends `logs -f`. */
  containerExited?(ns: string, pod: string, container: string): Promise<void>;
  /**
   * Optional (without it port-forward answers 501): where a running pod's ports are — its uid and
   * network namespace path (`netnsPath` undefined for hostNetwork pods). Throws an ApiError when
   * the pod is not here or not running.
   */
  portForwardTarget?(ns: string, pod: string): Promise<{ uid: string; netnsPath?: string }>;
  /**
   * Optional (without it attach answers 501): checks that the container runs and can be attached
   * to as asked (throws an ApiError otherwise), then gives the function that streams its output.
   */
  attach?(ns: string, pod: string, container: string, opts: { stdin: boolean; tty: boolean }): Promise<(io: AttachIO) => Promise<void>>;
}

/** The agent's metrics endpoints (src/agent/metrics answers them); absent: 404. */
export interface AgentMetricsSource {
  /** The answer for a GET of `path` (/metrics…, /stats/…), or undefined when there is no such endpoint. */
  serve(path: string, query: URLSearchParams): Promise<{ contentType: string; body: string } | undefined>;
}

/** The kubelet's authorization of its non-stream paths: /metrics* → nodes/metrics, /stats* → nodes/stats. */
function metricsSubresource(path: string): 'metrics' | 'stats' | undefined {
  if (path === '/metrics' || path.startsWith('/metrics/')) return 'metrics';
  if (path === '/stats' || path.startsWith('/stats/')) return 'stats';
  return undefined;
}

/** The client's streams for attach (stderr is undefined with a TTY: one stream). */
export interface AttachIO {
  /** The client's stdin (attach -i), for the container's stdin. */
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** With a TTY: the client's terminal sizes (the current one first). */
  onResize?: (listener: (size: { width: number; height: number }) => void) => void;
  signal: AbortSignal;
}

/** The server's TLS: the CA callers' certificates must chain to, and its own certificate (settable later). */
export interface AgentServerTls {
  clientCA: string;
  /** The serving certificate; without it handshakes fail until `setCertificate` (a CSR still pending). */
  cert?: string;
  key?: string;
  /** This node's name: what callers are authorized for (nodes/<name>/proxy). */
  nodeName: string;
  /** Decides for callers outside system:masters; absent: they are refused. */
  authorize?: StreamAuthorizer;
}

/** Where the agent server listens. */
export interface AgentServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  resolver: StreamResolver;
  tls?: AgentServerTls;
  metrics?: AgentMetricsSource;
  /** GET /traffic: the node's observed connections (src/agent/traffic), authorized as nodes/proxy. */
  traffic?: () => unknown;
}

/** A listening agent server. */
export interface AgentServer {
  server: http.Server;
  /** `https://host:port` (`http://` without TLS), for the API server's proxy. */
  url: string;
  /** Swaps the serving certificate (rotation); new connections get it. */
  setCertificate(pair: { cert: string; key: string }): void;
  close(): Promise<void>;
}

interface Route { kind: string; ns: string; pod: string; container: string; query: URLSearchParams }

function parseRoute(rawUrl: string | undefined): Route | undefined {
  const url = new URL(rawUrl ?? '/', 'http://agent');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length < 3 || parts.length > 4) return undefined;
  const [kind, ns, pod, container = ''] = parts;
  return { kind, ns, pod, container, query: url.searchParams };
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ApiError('BERTH_BAD_REQUEST', `${name}: Invalid value: "${v}": must be an integer greater than or equal to ${min}`);
  return n;
}

/** An error for HTTP codes the catalogue lacks (501). */
class PlainStatusError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

function statusOf(err: unknown): { code: number; body: string } {
  if (err instanceof PlainStatusError) {
    return { code: err.code, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, code: err.code }) };
  }
  const e = err instanceof ApiError ? err : new ApiError('BERTH_INTERNAL', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  return { code: e.http, body: JSON.stringify(e.toStatus()) };
}

function sendStatus(res: ServerResponse, err: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const { code, body } = statusOf(err);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers an upgrade request that is refused, on the raw socket. */
function refuseUpgrade(socket: Duplex, err: unknown): void {
  const { code, body } = statusOf(err);
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const notImplemented = (what: string) => new PlainStatusError(501, `${what} is not implemented by this node agent yet`);

async function serveLogs(resolver: StreamResolver, r: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = r.query;
  const opts: ReadLogsOptions = {
    follow: flag(q, 'follow'),
    timestamps: flag(q, 'timestamps'),
    tailLines: intParam(q, 'tailLines', 0),
    sinceSeconds: intParam(q, 'sinceSeconds', 1),
    limitBytes: intParam(q, 'limitBytes', 1),
  };
  const sinceTime = q.get('sinceTime');
  if (sinceTime) {
    if (Number.isNaN(Date.parse(sinceTime))) throw new ApiError('BERTH_BAD_REQUEST', `sinceTime: Invalid value: "${sinceTime}"`);
    opts.sinceTime = sinceTime;
  }
  const previous = flag(q, 'previous');
  const file = await resolver.logPath(r.ns, r.pod, r.container, previous);
  if (opts.follow && !previous && resolver.containerExited) opts.until = resolver.containerExited(r.ns, r.pod, r.container);
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  try { await readLogs(file, opts, res, ac.signal); } catch { res.destroy(); return; }
  res.end();
}

function handleExecUpgrade(wss: WebSocketServer, resolver: StreamResolver, r: Route, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const q = r.query;
  const argv = q.getAll('command');
  if (!argv.length) throw new ApiError('BERTH_BAD_REQUEST', 'you must specify at least one command for the container');
  const streams = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  if (!streams.stdin && !streams.stdout && !streams.stderr) throw new ApiError('BERTH_BAD_REQUEST', 'you must specify at least 1 of stdin, stdout, stderr');
  if (!negotiateSubprotocol(req.headers['sec-websocket-protocol'])) {
    throw new ApiError('BERTH_BAD_REQUEST', 'websocket subprotocol v5.channel.k8s.io or v4.channel.k8s.io required');
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    void serveExec(ws, (io) => resolver.exec(r.ns, r.pod, r.container, {
      argv, tty: io.tty, stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, onResize: io.onResize, signal: io.signal,
    }), { ...streams, argv });
  });
}

function handleAttachUpgrade(wss: WebSocketServer, resolver: StreamResolver, r: Route, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (!resolver.attach) throw notImplemented('attach');
  const q = r.query;
  const streams = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  if (!streams.stdin && !streams.stdout && !streams.stderr) throw new ApiError('BERTH_BAD_REQUEST', 'you must specify at least 1 of stdin, stdout, stderr');
  // Check before answering, so that a refusal is an HTTP error kubectl prints as it is — also on
  // its SPDY fallback (tried after a refused websocket), hence before the subprotocol check.
  resolver.attach(r.ns, r.pod, r.container, { stdin: streams.stdin, tty: streams.tty }).then((run) => {
    if (socket.destroyed) return;
    if (!negotiateSubprotocol(req.headers['sec-websocket-protocol'])) {
      throw new ApiError('BERTH_BAD_REQUEST', 'websocket subprotocol v5.channel.k8s.io or v4.channel.k8s.io required');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      void serveExec(ws, async (io) => { await run({ stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, onResize: streams.tty ? io.onResize : undefined, signal: io.signal }); return 0; }, streams);
    });
  }).catch((err) => refuseUpgrade(socket, err));
}

function handlePortForwardUpgrade(wss: WebSocketServer, resolver: StreamResolver, r: Route, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (!resolver.portForwardTarget) throw notImplemented('portForward');
  const kind = portForwardTransport(req);
  // Resolve the pod before answering, so that a missing pod is an HTTP error kubectl can print.
  resolver.portForwardTarget(r.ns, r.pod).then((target) => {
    if (socket.destroyed) return;
    acceptPortForward(kind, wss, req, socket, head, { ns: r.ns, pod: r.pod, uid: target.uid, dial: (port) => dialPod(target, port) });
  }, (err) => refuseUpgrade(socket, err));
}

/** Creates the agent's HTTP(S) server (not yet listening); see `startAgentServer`. */
export function createAgentServer(resolver: StreamResolver, tls?: AgentServerTls, metrics?: AgentMetricsSource, traffic?: () => unknown): http.Server {
  const wss = new WebSocketServer({
    noServer: true, perMessageDeflate: false,
    handleProtocols: (protocols) => negotiateSubprotocol(protocols) ?? false,
  });
  const tunnelWss = createTunnelServer();
  // Requests are checked before anything else, as the kubelet's filters run before its handlers.
  const access = (req: IncomingMessage) => (tls ? checkStreamAccess(req, tls.nodeName, tls.authorize) : Promise.resolve());
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const metricsSub = metricsSubresource(url.pathname);
    if (metricsSub) {
      const serve = async (): Promise<void> => {
        if (tls) await checkStreamAccess(req, tls.nodeName, tls.authorize, metricsSub);
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError('BERTH_METHOD_NOT_ALLOWED', `${req.method} is not supported on ${url.pathname}`);
        const answer = await metrics?.serve(url.pathname, url.searchParams);
        if (!answer) throw new ApiError('BERTH_NOT_FOUND', `the server could not find the requested resource (${url.pathname})`);
        res.writeHead(200, { 'Content-Type': answer.contentType, 'Content-Length': Buffer.byteLength(answer.body) });
        res.end(req.method === 'HEAD' ? undefined : answer.body);
      };
      serve().catch((err) => sendStatus(res, err));
      return;
    }
    if (url.pathname === '/traffic') {
      access(req).then(() => {
        if (!traffic) throw new ApiError('BERTH_NOT_FOUND', 'the server could not find the requested resource (/traffic)');
        if (req.method !== 'GET') throw new ApiError('BERTH_METHOD_NOT_ALLOWED', `${req.method} is not supported on /traffic`);
        const body = JSON.stringify(traffic());
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }).catch((err) => sendStatus(res, err));
      return;
    }
    const r = parseRoute(req.url);
    const run = async (): Promise<void> => {
      await access(req);
      if (!r) throw new ApiError('BERTH_NOT_FOUND', `the server could not find the requested resource (${req.url})`);
      switch (r.kind) {
        case 'containerLogs':
          if (req.method !== 'GET') throw new ApiError('BERTH_METHOD_NOT_ALLOWED', `${req.method} is not supported on containerLogs`);
          return serveLogs(resolver, r, req, res);
        case 'portForward':
          if (!resolver.portForwardTarget) throw notImplemented(r.kind);
          throw new ApiError('BERTH_BAD_REQUEST', 'Upgrade request required');
        case 'exec':
          throw new ApiError('BERTH_BAD_REQUEST', 'Upgrade request required');
        case 'attach':
          if (!resolver.attach) throw notImplemented(r.kind);
          throw new ApiError('BERTH_BAD_REQUEST', 'Upgrade request required');
        default:
          throw new ApiError('BERTH_NOT_FOUND', `the server could not find the requested resource (${req.url})`);
      }
    };
    run().catch((err) => sendStatus(res, err));
  };
  const server: http.Server = tls
    ? https.createServer({
      requestTimeout: 0, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', ca: tls.clientCA,
      ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    }, handler)
    : http.createServer({ requestTimeout: 0 }, handler);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    access(req).then(() => upgrade(req, socket, head), (err) => refuseUpgrade(socket, err));
  });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const r = parseRoute(req.url);
      if (r?.kind === 'exec') return handleExecUpgrade(wss, resolver, r, req, socket, head);
      if (r?.kind === 'portForward') return handlePortForwardUpgrade(tunnelWss, resolver, r, req, socket, head);
      if (r?.kind === 'attach') return handleAttachUpgrade(wss, resolver, r, req, socket, head);
      throw new ApiError('BERTH_NOT_FOUND', `the server could not find the requested resource (${req.url})`);
    } catch (err) {
      refuseUpgrade(socket, err);
    }
  };
  server.on('close', () => { wss.close(); tunnelWss.close(); });
  return server;
}

/** Creates the agent server and listens on `host:port`. */
export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const server = createAgentServer(opts.resolver, opts.tls, opts.metrics, opts.traffic);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const clientCA = opts.tls?.clientCA;
  return {
    server, url: `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    setCertificate(pair) {
      if (!clientCA) throw new Error('the agent server serves plain HTTP: no certificate to set');
      (server as https.Server).setSecureContext({ cert: pair.cert, key: pair.key, ca: clientCA, minVersion: 'TLSv1.2' });
    },
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
