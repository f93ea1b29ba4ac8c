/**
 * The HTTP Client: the Kubernetes REST API over http or https, built from a kubeconfig. JSON bodies, one
 * keep-alive agent per client, bearer token / basic auth / client certificates when the kubeconfig has
 * them. A non-2xx answer rejects with an {@link HttpStatusError} parsed from the Status. Watches read
 * the chunked newline-delimited JSON stream incrementally.
 *
 * Several servers (`ClusterConnection.servers`, a joined node's list): requests go to one, and when it
 * cannot be reached they move to the next and stay there — k3s's agent load balancer, done in the
 * client. A request that never reached a server (refused, unreachable, connect timeout) is retried on
 * the next at once; one that may have (reset, timeout after connecting) is retried only when it is
 * a read — a write is failed to its caller, who cannot know whether it happened (as client-go does).
 * A watch whose server dies ends; the informer's next list and watch go to the next server.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatch, ClientWatchEvent, ListOptions, ObjectList, PatchType, ResourceRef, UpdateSubresource, WatchOptions } from './client.ts';
import { errorFromResponse } from './errors.ts';
import { JsonLineParser } from './json-lines.ts';
import { loadKubeconfig, type ClusterConnection } from './kubeconfig-load.ts';
import { PATCH_CONTENT_TYPES } from './patch-types.ts';
import { resourcePath } from './resource-path.ts';
import { watchEnd } from './watch-end.ts';

export { resourcePath };

/** Options beyond the connection. */
export interface HttpClientOptions {
  /** Timeout of non-watch requests in ms (default 60 000; 0: none). */
  timeoutMs?: number;
  /** Sockets kept per host (default 32). */
  maxSockets?: number;
  /** A connection not established within this many ms counts as unreachable (default 5 000). */
  connectTimeoutMs?: number;
  /** Told when requests move from one server to another (for a log line). */
  onFailover?: (from: string, to: string, reason: string) => void;
}

/** Errors of a connection that never reached the server: any request may go to another one. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNTIMEOUT']);
/** Errors of a connection that broke: the request may have been served. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EREQTIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD']);

/** How a failed attempt relates to failover: `unreached` (retry anywhere), `broken` (reads only), or not a connection problem. */
function failureKind(err: unknown): 'unreached' | 'broken' | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && NEVER_CONNECTED.has(code)) return 'unreached';
  if (code && BROKEN.has(code)) return 'broken';
  return undefined;
}

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Reply { status: number; body: string }

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Node's https.Agent names a connection pool by the host and every TLS option — the CA, certificate
 * and key among them, Buffers turned into strings and joined on every request, then hashed as a
 * ~5 KB key of the pool maps: a third of a small request's client CPU over keep-alive TLS
 * (microbench: 200–230 → 140–190 µs a PATCH). This agent's TLS options are fixed when it is made
 * (a new certificate makes a new agent), so the name is computed once per host, port and servername
 * and the same string (its hash kept) comes back after.
 */
function poolNamesMemoized(agent: https.Agent): https.Agent {
  const names = new Map<string, string>();
  const fullName = agent.getName.bind(agent);
  agent.getName = (options = {}) => {
    const short = `${http.Agent.prototype.getName.call(agent, options)}:${options.servername ?? ''}`;
    let name = names.get(short);
    if (name === undefined) names.set(short, (name = fullName(options)));
    return name;
  };
  return agent;
}

/** A Client talking to an API server over HTTP(S). */
export class HttpClient implements Client {
  /** Every server, the kubeconfig's first; requests go to `urls[current]`. */
  private readonly urls: URL[];
  private current = 0;
  private agent: http.Agent;
  /** Agents replaced by a new client certificate, whose open connections (watches) run on; closed with the client. */
  private readonly retired: http.Agent[] = [];
  private readonly headers: Record<string, string> = { Accept: 'application/json' };
  private readonly timeoutMs: number;
  private readonly maxSockets: number;
  private readonly connectTimeoutMs: number;

  constructor(readonly conn: ClusterConnection, private readonly opts: HttpClientOptions = {}) {
    const servers = [conn.server, ...(conn.servers ?? []).filter((s) => s !== conn.server)];
    this.urls = servers.map((s) => new URL(s));
    if (new Set(this.urls.map((u) => u.protocol)).size > 1) throw new Error(`the servers of one cluster must all be http or all https: ${servers.join(', ')}`);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxSockets = opts.maxSockets ?? 32;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.agent = this.newAgent();
    if (conn.token) this.headers.Authorization = `Bearer ${conn.token}`;
    else if (conn.username !== undefined) this.headers.Authorization = `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`;
  }

  /** The server requests go to now. */
  get server(): string {
    return this.url.origin + this.url.pathname.replace(/\/+$/, '');
  }

  /** Every server this client may use, the preferred first. */
  get servers(): string[] {
    return this.urls.map((u) => u.origin + u.pathname.replace(/\/+$/, ''));
  }

  private get url(): URL {
    return this.urls[this.current];
  }

  /** A client for the kubeconfig at `path` (its current context unless `context` is given). */
  static fromKubeconfig(path: string, context?: string, opts?: HttpClientOptions): HttpClient {
    return new HttpClient(loadKubeconfig(path, context), opts);
  }

  /**
   * Uses a new client certificate from now on (a node's rotated credential): new connections present
   * it; connections already open — watches — keep the certificate they authenticated with until they end.
   */
  setClientCertificate(cert: Buffer | string, key: Buffer | string): void {
    if (this.url.protocol !== 'https:') throw new Error('a client certificate needs an https server URL');
    this.conn.cert = Buffer.from(cert);
    this.conn.key = Buffer.from(key);
    this.retired.push(this.agent);
    this.agent = this.newAgent();
  }

  private newAgent(): http.Agent {
    const common = { keepAlive: true, maxSockets: this.maxSockets };
    const conn = this.conn;
    if (this.url.protocol !== 'https:') return new http.Agent(common);
    // One TLS context for every connection of this agent: without it each new connection parses
    // the CA, certificate and key again (~1 ms of CPU; berth sim's pod lane opens ~100 at once).
    const secureContext = tls.createSecureContext({ ca: conn.ca, cert: conn.cert, key: conn.key });
    return poolNamesMemoized(new https.Agent({ ...common, ca: conn.ca, cert: conn.cert, key: conn.key, secureContext, rejectUnauthorized: !conn.insecureSkipTLSVerify, servername: conn.tlsServerName }));
  }

  /** Frees the keep-alive sockets. */
  close(): void {
    this.agent.destroy();
    for (const a of this.retired.splice(0)) a.destroy();
  }

  private open(url: URL, method: string, path: string, body: unknown, contentType: string | undefined, timeoutMs: number): http.ClientRequest {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...this.headers };
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const basePath = url.pathname.replace(/\/+$/, '');
    const req = mod.request({
      protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined,
      method, path: basePath + path, headers, agent: this.agent, timeout: timeoutMs || undefined,
    });
    if (timeoutMs) req.on('timeout', () => req.destroy(codedError(`${method} ${path}: timed out after ${timeoutMs} ms`, 'EREQTIMEOUT')));
    // A server that is down without a reset (a partitioned machine) would hold a connect for minutes.
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(codedError(`connect to ${url.host} timed out after ${this.connectTimeoutMs} ms`, 'ECONNTIMEOUT')), this.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    req.end(payload);
    return req;
  }

  /**
   * Runs `attempt` against the current server, moving on to the next after a connection failure
   * (see the file comment); rejects with the last failure when every server was tried.
   */
  private async withFailover<T>(method: string, attempt: (url: URL) => Promise<T>): Promise<T> {
    let lastErr: unknown;
    for (let tried = 0; tried < this.urls.length; tried++) {
      const at = this.current;
      try {
        return await attempt(this.urls[at]);
      } catch (err) {
        lastErr = err;
        const kind = failureKind(err);
        if (!kind || this.urls.length === 1) throw err;
        // Concurrent requests fail together: only the first moves the client on.
        if (this.current === at) {
          this.current = (at + 1) % this.urls.length;
          this.opts.onFailover?.(this.urls[at].origin, this.url.origin, (err as Error).message);
        }
        if (kind === 'broken' && !IDEMPOTENT.has(method)) throw err;
      }
    }
    throw lastErr;
  }

  private request(method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> {
    return this.withFailover(method, (url) => this.requestOnce(url, method, path, body, contentType));
  }

  private requestOnce(url: URL, method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = this.open(url, method, path, body, contentType, this.timeoutMs);
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
    });
  }

  private async call(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    const r = await this.request(method, path, body, contentType);
    if (r.status < 200 || r.status > 299) throw errorFromResponse(r.status, r.body);
    return r.body ? JSON.parse(r.body) : undefined;
  }

  async get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.call('GET', resourcePath(ref, namespace, name));
  }

  async list(ref: ResourceRef, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    const q = query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion, limit: opts.limit, continue: opts.continue });
    const list = await this.call('GET', resourcePath(ref, namespace) + q);
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', ...(list.metadata?.continue ? { continue: list.metadata.continue } : {}) };
  }

  /** Resolves once the server accepted the watch (200); rejects with the Status otherwise. */
  watch(ref: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch> {
    const q = query({
      watch: 'true', labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion, allowWatchBookmarks: opts.allowBookmarks ? 'true' : undefined,
    });
    return this.withFailover('GET', (url) => this.watchOnce(url, resourcePath(ref, namespace) + q, onEvent));
  }

  private watchOnce(url: URL, path: string, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch> {
    return new Promise((resolve, reject) => {
      const req = this.open(url, 'GET', path, undefined, undefined, 0);
      const end = watchEnd(() => req.destroy());
      const finish = end.finish;
      req.on('error', (err) => { if (!end.finished) { finish(); reject(err); } });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => { reject(errorFromResponse(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))); finish(); });
          res.on('error', (err) => { reject(err); finish(); });
          return;
        }
        const decoder = new StringDecoder('utf8');
        const parser = new JsonLineParser((v) => {
          if (end.finished) return;
          try {
            onEvent(v as ClientWatchEvent);
          } catch {
            // A throwing handler must not break the stream.
          }
        });
        const feed = (text: string) => {
          try {
            parser.push(text);
          } catch {
            finish(); // malformed stream: end the watch, the caller re-lists
          }
        };
        res.on('data', (c: Buffer) => feed(decoder.write(c)));
        res.on('end', () => {
          try { feed(decoder.end()); parser.end(); } catch { /* malformed tail */ }
          finish();
        });
        res.on('error', finish);
        res.on('close', finish);
        resolve({ close: finish, done: end.done });
      });
    });
  }

  async create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    const path = subresource ? resourcePath(ref, namespace, obj.metadata?.name ?? '', subresource) : resourcePath(ref, namespace);
    return this.call('POST', path, obj);
  }

  async update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: UpdateSubresource): Promise<KubeObject> {
    return this.call('PUT', resourcePath(ref, namespace, obj.metadata?.name ?? '', subresource), obj);
  }

  async patch(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: UpdateSubresource): Promise<KubeObject> {
    return this.call('PATCH', resourcePath(ref, namespace, name, subresource), patch, PATCH_CONTENT_TYPES[type]);
  }

  /**
   * A patch whose answer the caller does not read (a kubelet-like status write): the reply's status is
   * checked, its body (the whole object) not decoded.
   */
  async patchUnread(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: UpdateSubresource): Promise<void> {
    const r = await this.request('PATCH', resourcePath(ref, namespace, name, subresource), patch, PATCH_CONTENT_TYPES[type]);
    if (r.status < 200 || r.status > 299) throw errorFromResponse(r.status, r.body);
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts: Parameters<Client['delete']>[3] = {}): Promise<void> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...(opts ?? {}) };
    await this.call('DELETE', resourcePath(ref, namespace, name), body);
  }
}
