/**
 * The API server's side of the pod streams: `pods/{name}/log` (plain HTTP, streamed) and
 * `pods/{name}/exec|attach|portforward` (websocket upgrade) are forwarded to the node agent that
 * runs the pod (src/agent/streams/agent-server.ts) and piped both ways. Upgrades are not
 * re-framed: the upgrade request (any protocol: websocket, or `SPDY/3.1` for kubectl's
 * port-forward fallback) is replayed to the agent and, once it answers 101, its status line and
 * headers are relayed as they are and the two raw sockets are joined.
 *
 * Wiring (server.ts): on the 'request' path call `proxyPodStream(req, res, target)` for
 * `GET …/pods/{p}/log`; on the server's 'upgrade' event call
 * `proxyPodStream(req, socket, head, target)` for `…/pods/{p}/exec|attach|portforward`, with
 * `target = { agentUrl, path: agentPathFor(sub, ns, pod, url.searchParams, defaultContainer) }`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError } from '../../errors/index.ts';

/**
 * How the API server meets agents over TLS (kube-apiserver's --kubelet-certificate-authority and
 * --kubelet-client-certificate/-key): the agent's certificate must chain to `ca` and name the
 * address dialled; the API server presents `cert`.
 */
export interface AgentTls {
  ca: string;
  cert: string;
  key: string;
}

/** Where a pod stream goes: the agent's base URL and the agent path (with query). */
export interface PodStreamTarget {
  /** e.g. `https://10.0.0.5:10250` (the node's agent). */
  agentUrl: string;
  /** From `agentPathFor`. */
  path: string;
  /** For an https agent URL: the CA and client certificate (without: the system's trust, no certificate). */
  tls?: AgentTls;
}

/** The streaming pod subresources the proxy serves. */
export type PodStreamSubresource = 'log' | 'exec' | 'attach' | 'portforward';

const LOG_PARAMS = ['follow', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'previous', 'limitBytes'];
const STREAM_PARAMS = ['stdin', 'stdout', 'stderr', 'tty'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'authorization', 'proxy-authorization']);

function copyParams(from: URLSearchParams, to: URLSearchParams, names: string[]): void {
  for (const n of names) for (const v of from.getAll(n)) to.append(n, v);
}

/**
 * Maps an API request on `pods/{pod}/{subresource}` to the agent path:
 *   log         → /containerLogs/{ns}/{pod}/{container}?follow&tailLines&timestamps&sinceSeconds&sinceTime&previous&limitBytes
 *   exec        → /exec/{ns}/{pod}/{container}?command=…(repeated)&stdin&stdout&stderr&tty
 *   attach      → /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty
 *   portforward → /portForward/{ns}/{pod}?ports=…
 * `container` defaults to `defaultContainer` (the caller resolves the
 * `kubectl.kubernetes.io/default-container` annotation, else the first container).
 */
export function agentPathFor(subresource: string, ns: string, pod: string, query: URLSearchParams, defaultContainer: string): string {
  const container = query.get('container') || defaultContainer;
  const q = new URLSearchParams();
  const base = (kind: string, withContainer = true) => ['', kind, ns, pod, ...(withContainer ? [container] : [])].map(encodeURIComponent).join('/');
  let p: string;
  switch (subresource) {
    case 'log': p = base('containerLogs'); copyParams(query, q, LOG_PARAMS); break;
    case 'exec': p = base('exec'); copyParams(query, q, ['command', ...STREAM_PARAMS]); break;
    case 'attach': p = base('attach'); copyParams(query, q, STREAM_PARAMS); break;
    case 'portforward': p = base('portForward', false); copyParams(query, q, ['ports']); break;
    default: throw new ApiError('BERTH_BAD_REQUEST', `pods/${subresource} is not a streaming subresource`);
  }
  const qs = q.toString();
  return qs ? `${p}?${qs}` : p;
}

function forwardHeaders(headers: IncomingHttpHeaders, upgrade: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    out[k] = v;
  }
  if (upgrade) { out.connection = 'Upgrade'; out.upgrade = headers.upgrade ?? 'websocket'; }
  return out;
}

function unavailable(err: Error): { code: number; body: string } {
  const e = new ApiError('BERTH_UNAVAILABLE', `error dialing backend: ${err.message}`);
  return { code: e.http, body: JSON.stringify(e.toStatus()) };
}

/** A request to the agent: over TLS with the API server's client certificate for an https URL. */
function agentRequest(target: PodStreamTarget, method: string | undefined, headers: http.OutgoingHttpHeaders): http.ClientRequest {
  const url = new URL(target.path, target.agentUrl);
  if (url.protocol !== 'https:') return http.request(url, { method, headers });
  const t = target.tls;
  // No pooled connections: each stream is long-lived, and a rotated certificate applies at once.
  return https.request(url, { method, headers, agent: false, ca: t?.ca, cert: t?.cert, key: t?.key, minVersion: 'TLSv1.2' });
}

function proxyHttp(req: IncomingMessage, res: ServerResponse, target: PodStreamTarget): void {
  const up = agentRequest(target, req.method, forwardHeaders(req.headers, false));
  up.on('response', (upRes) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    res.writeHead(upRes.statusCode ?? 502, headers);
    res.flushHeaders();
    req.socket.setNoDelay(true);
    upRes.pipe(res);
    upRes.on('error', () => res.destroy());
  });
  up.on('error', (err) => {
    if (res.headersSent) { res.destroy(); return; }
    const { code, body } = unavailable(err);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  // The client going away ends the agent's stream (e.g. `logs -f` interrupted).
  res.on('close', () => up.destroy());
  req.pipe(up);
}

function rawResponse(statusLine: string, rawHeaders: string[]): string {
  let s = `${statusLine}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) s += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${s}\r\n`;
}

function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: PodStreamTarget): void {
  const up = agentRequest(target, req.method, forwardHeaders(req.headers, true));
  socket.on('error', () => { socket.destroy(); up.destroy(); });
  up.on('upgrade', (upRes, upSocket, upHead) => {
    socket.write(rawResponse(`HTTP/1.1 101 ${upRes.statusMessage || 'Switching Protocols'}`, upRes.rawHeaders));
    if (upHead.length) socket.write(upHead);
    if (head.length) upSocket.write(head);
    for (const s of [socket, upSocket] as Duplex[]) {
      (s as Socket).setTimeout?.(0);
      (s as Socket).setNoDelay?.(true);
    }
    upSocket.on('error', () => { upSocket.destroy(); socket.destroy(); });
    socket.on('close', () => upSocket.destroy());
    upSocket.on('close', () => socket.destroy());
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  // The agent refused the upgrade: relay its answer (a Status) and close.
  up.on('response', (upRes) => {
    const chunks: Buffer[] = [];
    upRes.on('data', (c: Buffer) => chunks.push(c));
    upRes.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = upRes.headers['content-type'] ?? 'text/plain';
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ''}\r\nContent-Type: ${type}\r\n`
        + `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    });
  });
  up.on('error', (err) => {
    if (!socket.writable) return;
    const { code, body } = unavailable(err);
    socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  up.end();
}

/**
 * Forwards a pod stream to the node agent and pipes it both ways.
 * - `(req, res, target)`: a plain HTTP request (`pods/{p}/log`): the agent's status, headers and
 *   body are streamed back as they come.
 * - `(req, socket, head, target)`: from the server's 'upgrade' event (`pods/{p}/exec|attach|
 *   portforward`): the upgrade is replayed to the agent; on its 101 the sockets are joined, any
 *   other answer is relayed and the socket closed. An unreachable agent answers 503.
 */
export function proxyPodStream(req: IncomingMessage, res: ServerResponse, target: PodStreamTarget): void;
export function proxyPodStream(req: IncomingMessage, socket: Duplex, head: Buffer, target: PodStreamTarget): void;
export function proxyPodStream(req: IncomingMessage, resOrSocket: ServerResponse | Duplex, headOrTarget: Buffer | PodStreamTarget, maybeTarget?: PodStreamTarget): void {
  if (Buffer.isBuffer(headOrTarget)) proxyUpgrade(req, resOrSocket as Duplex, headOrTarget, maybeTarget!);
  else proxyHttp(req, resOrSocket as ServerResponse, headOrTarget);
}
