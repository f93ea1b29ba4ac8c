/**
 * The HTTP Client: the Kubernetes REST API over http or https, built from a kubeconfig. JSON bodies, one
 * keep-alive agent per client, bearer token / basic auth / client certificates when the kubeconfig has
 * them. A non-2xx answer rejects with an {@link HttpStatusError} parsed from the Status. Watches read
 * the chunked newline-delimited JSON stream incrementally.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatch, ClientWatchEvent, ListOptions, ObjectList, PatchType, ResourceRef, UpdateSubresource, WatchOptions } from './client.ts';
import { errorFromResponse } from './errors.ts';
import { JsonLineParser } from './json-lines.ts';
import { loadKubeconfig, type ClusterConnection } from './kubeconfig-load.ts';
import { PATCH_CONTENT_TYPES } from './patch-types.ts';
import { resourcePath } from './resource-path.ts';

export { resourcePath };

/** Options beyond the connection. */
export interface HttpClientOptions {
  /** Timeout of non-watch requests in ms (default 60 000; 0: none). */
  timeoutMs?: number;
  /** Sockets kept per host (default 32). */
  maxSockets?: number;
}

interface Reply { status: number; body: string }

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A Client talking to an API server over HTTP(S). */
export class HttpClient implements Client {
  private readonly url: URL;
  private agent: http.Agent;
  /** Agents replaced by a new client certificate, whose open connections (watches) run on; closed with the client. */
  private readonly retired: http.Agent[] = [];
  private readonly headers: Record<string, string> = { Accept: 'application/json' };
  private readonly timeoutMs: number;
  private readonly maxSockets: number;

  constructor(readonly conn: ClusterConnection, opts: HttpClientOptions = {}) {
    this.url = new URL(conn.server);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxSockets = opts.maxSockets ?? 32;
    this.agent = this.newAgent();
    if (conn.token) this.headers.Authorization = `Bearer ${conn.token}`;
    else if (conn.username !== undefined) this.headers.Authorization = `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`;
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
    return this.url.protocol === 'https:'
      ? new https.Agent({ ...common, ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTLSVerify, servername: conn.tlsServerName })
      : new http.Agent(common);
  }

  /** Frees the keep-alive sockets. */
  close(): void {
    this.agent.destroy();
    for (const a of this.retired.splice(0)) a.destroy();
  }

  private open(method: string, path: string, body: unknown, contentType: string | undefined, timeoutMs: number): http.ClientRequest {
    const mod = this.url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...this.headers };
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const basePath = this.url.pathname.replace(/\/+$/, '');
    const req = mod.request({
      protocol: this.url.protocol, hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port || undefined,
      method, path: basePath + path, headers, agent: this.agent, timeout: timeoutMs || undefined,
    });
    if (timeoutMs) req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
    req.end(payload);
    return req;
  }

  private request(method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, body, contentType, this.timeoutMs);
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
    const q = query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion, limit: opts.limit });
    const list = await this.call('GET', resourcePath(ref, namespace) + q);
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** Resolves once the server accepted the watch (200); rejects with the Status otherwise. */
  watch(ref: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch> {
    const q = query({
      watch: 'true', labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion, allowWatchBookmarks: opts.allowBookmarks ? 'true' : undefined,
    });
    return new Promise((resolve, reject) => {
      const req = this.open('GET', resourcePath(ref, namespace) + q, undefined, undefined, 0);
      let finished = false;
      let resolveDone!: () => void;
      const done = new Promise<void>((r) => { resolveDone = r; });
      const finish = () => {
        if (finished) return;
        finished = true;
        req.destroy();
        resolveDone();
      };
      req.on('error', (err) => { if (!finished) { finish(); reject(err); } });
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
          if (finished) return;
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
        resolve({ close: finish, done });
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

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts: Parameters<Client['delete']>[3] = {}): Promise<void> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...(opts ?? {}) };
    await this.call('DELETE', resourcePath(ref, namespace, name), body);
  }
}
