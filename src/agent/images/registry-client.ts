/**
 * A client for the OCI distribution API: manifests and blobs, with bearer-token and basic auth.
 * Plain HTTP is used for loopback registries and for those configured as insecure.
 */
import type { IncomingMessage } from 'node:http';
import { pooledGet } from './pooled-http.ts';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { MANIFEST_ACCEPT } from './manifest.ts';
import { basicAuthHeader, parseChallenges, type RegistryCredential } from './registry-auth.ts';
import { sha256Digest } from './digest.ts';
import type { ImageReference } from './reference.ts';

/** Options for {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Registries (`host[:port]`) reached over plain HTTP; loopback ones always are. */
  insecureRegistries?: string[];
  /** Per-request timeout for headers, ms (default 30 s). */
  timeoutMs?: number;
}

/** A fetched manifest document. */
export interface FetchedManifest {
  body: Buffer;
  digest: string;
  contentType?: string;
}

/** An error from a registry; `status` is the HTTP status, message carries the registry's own words. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** True when `registry` (`host[:port]`) is a loopback address or `localhost`. */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.split(':').length === 2) host = host.split(':')[0]!;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Talks to registries; one instance can be shared across pulls (it caches bearer tokens). */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly insecure: Set<string>;
  // Idle keep-alive sockets are unref'd by the agent: they never hold the process open.
  private readonly agents = { https: new https.Agent({ keepAlive: true }) };

  /** @param opts See {@link RegistryClientOptions}. */
  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.insecure = new Set(opts.insecureRegistries ?? []);
  }

  /** Base URL of a registry's API (`https://host/v2/`, Docker Hub mapped to registry-1.docker.io). */
  baseUrl(registry: string): string {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const scheme = this.insecure.has(registry) || isLoopbackRegistry(registry) ? 'http' : 'https';
    return `${scheme}://${host}/v2/`;
  }

  /** GET /v2/ — checks the registry speaks the API (auth challenges count as reachable). */
  async ping(registry: string): Promise<void> {
    const res = await this.fetchWithTimeout(this.baseUrl(registry), { method: 'GET' });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 401) throw new RegistryError(`registry ${registry}: GET /v2/ returned ${res.status}`, res.status);
  }

  /**
   * Fetches a manifest by tag or digest. When `reference` is a digest the body is verified
   * against it; otherwise its digest is computed (and checked against Docker-Content-Digest).
   */
  async getManifest(ref: ImageReference, reference: string, cred?: RegistryCredential): Promise<FetchedManifest> {
    const url = `${this.baseUrl(ref.registry)}${ref.repository}/manifests/${reference}`;
    const res = await this.request(ref, url, { Accept: MANIFEST_ACCEPT }, cred);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > 4 * 1024 * 1024) throw new Error(`manifest ${reference} is too large (${body.length} bytes)`);
    const digest = sha256Digest(body);
    const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
    if (expected && expected.startsWith('sha256:') && expected !== digest) {
      throw new Error(`manifest digest mismatch for ${ref.repository}:${reference}: expected ${expected}, got ${digest}`);
    }
    return { body, digest, contentType: res.headers.get('content-type') ?? undefined };
  }

  /**
   * Opens a blob for reading. The caller must verify the digest while consuming the stream.
   * Bodies do not come through fetch: undici copies every chunk into a fresh array and runs
   * web-stream promises per chunk. Over https they come through node:https; over plain http
   * through pooled-http.ts, whose chunks the consumer may recycle (`recyclerOf`).
   */
  async openBlob(ref: ImageReference, digest: string, cred?: RegistryCredential): Promise<{ stream: Readable; size?: number }> {
    const url = `${this.baseUrl(ref.registry)}${ref.repository}/blobs/${digest}`;
    const cached = this.tokens.get(`${ref.registry}|${ref.repository}`);
    let res = await this.getStream(url, cached ? { Authorization: `Bearer ${cached}` } : {});
    if (res.statusCode === 401) {
      const h = res.headers['www-authenticate'];
      const challenge = Array.isArray(h) ? h.join(', ') : (h ?? null);
      const text = await bodyText(res);
      res = await this.getStream(url, { Authorization: await this.authorize(ref, challenge, cred, text) });
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw this.errorOf(ref, url, status, res.statusMessage ?? '', await bodyText(res));
    const len = res.headers['content-length'];
    return { stream: res, size: len ? Number(len) : undefined };
  }

  /**
   * GET with redirects followed (Authorization dropped when they leave the origin, as fetch does);
   * resolves at the headers. Plain-http bodies come in recycled buffers (pooled-http.ts).
   */
  private async getStream(url: string, headers: Record<string, string>, redirects = 5): Promise<BlobResponse> {
    const u = new URL(url);
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const res: BlobResponse =
      u.protocol === 'http:'
        ? await pooledGet(u, headers, timeoutMs).catch((e: Error) => {
            throw new Error(`request to ${url} failed: ${e.message}`);
          })
        : await this.getHttps(u, headers, timeoutMs);
    const location = res.headers.location;
    if (typeof location !== 'string' || ![301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) return res;
    res.resume();
    if (redirects === 0) throw new Error(`request to ${url} failed: too many redirects`);
    const next = new URL(location, u);
    const { Authorization: _, ...rest } = headers;
    return this.getStream(next.href, next.origin === u.origin ? headers : rest, redirects - 1);
  }

  private getHttps(u: URL, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.get(u, { headers, agent: this.agents.https }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`request to ${u.href} failed: ${e.message}`));
      });
    });
  }

  /** Performs an authenticated GET, answering one 401 challenge; throws RegistryError on failure. */
  private async request(ref: ImageReference, url: string, headers: Record<string, string>, cred?: RegistryCredential): Promise<Response> {
    const scopeKey = `${ref.registry}|${ref.repository}`;
    const cached = this.tokens.get(scopeKey);
    let auth = cached ? `Bearer ${cached}` : undefined;
    let res = await this.fetchWithTimeout(url, { headers: { ...headers, ...(auth ? { Authorization: auth } : {}) } });
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate');
      const text = await res.text();
      auth = await this.authorize(ref, challenge, cred, text);
      res = await this.fetchWithTimeout(url, { headers: { ...headers, Authorization: auth } });
    }
    if (!res.ok) throw await this.errorFrom(ref, url, res);
    return res;
  }

  /** Builds the Authorization value that answers a challenge. */
  private async authorize(ref: ImageReference, header: string | null, cred: RegistryCredential | undefined, body: string): Promise<string> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const where = `${ref.registry}/${ref.repository}`;
    if (bearer?.params.realm) {
      const u = new URL(bearer.params.realm);
      if (bearer.params.service) u.searchParams.set('service', bearer.params.service);
      u.searchParams.set('scope', bearer.params.scope ?? `repository:${ref.repository}:pull`);
      const h: Record<string, string> = cred ? { Authorization: basicAuthHeader(cred) } : {};
      const res = await this.fetchWithTimeout(u.toString(), { headers: h });
      if (!res.ok) {
        const msg = (await res.text()).trim().slice(0, 300);
        throw new RegistryError(
          `authentication to ${where} failed: token endpoint returned ${res.status}${msg ? `: ${msg}` : ''}`,
          401,
          'UNAUTHORIZED',
        );
      }
      const j = (await res.json()) as { token?: string; access_token?: string };
      const token = j.token ?? j.access_token;
      if (!token) throw new RegistryError(`authentication to ${where} failed: token endpoint returned no token`, 401);
      this.tokens.set(`${ref.registry}|${ref.repository}`, token);
      return `Bearer ${token}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!cred) throw new RegistryError(`authentication required by ${where}: ${registryMessage(body) ?? 'no credentials'} (no pull secret for ${ref.registry})`, 401, 'UNAUTHORIZED');
      return basicAuthHeader(cred);
    }
    throw new RegistryError(`authentication required by ${where}: unsupported challenge "${header ?? ''}"`, 401);
  }

  private async errorFrom(ref: ImageReference, url: string, res: Response): Promise<RegistryError> {
    return this.errorOf(ref, url, res.status, res.statusText, await res.text().catch(() => ''));
  }

  private errorOf(ref: ImageReference, url: string, status: number, statusText: string, text: string): RegistryError {
    const msg = registryMessage(text);
    const what = url.includes('/manifests/') ? `manifest ${url.split('/manifests/')[1]}` : `blob ${url.split('/blobs/')[1]}`;
    const code = (() => {
      try {
        return (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
      } catch {
        return undefined;
      }
    })();
    const auth = status === 401 || status === 403 ? 'authentication failed: ' : '';
    return new RegistryError(`${auth}${ref.registry}/${ref.repository} ${what}: ${status} ${statusText}${msg ? ` (${msg})` : ''}`, status, code);
  }

  private async fetchWithTimeout(url: string, init: RequestInit): Promise<Response> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), this.opts.timeoutMs ?? 30_000);
    try {
      return await fetch(url, { ...init, signal: ac.signal, redirect: 'follow' });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new Error(`request to ${url} failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
    } finally {
      clearTimeout(t);
    }
  }
}

/** A blob GET's response: node:https's, or pooled-http's for plain http. */
type BlobResponse = Readable & { statusCode?: number; statusMessage?: string; headers: Record<string, string | string[] | undefined> };

/** An error response's body (capped: it is only for the message). */
async function bodyText(res: Readable): Promise<string> {
  let text = '';
  try {
    for await (const chunk of res) if (text.length < 65536) text += (chunk as Buffer).toString();
  } catch {
    /* a cut-off error body still gives the status */
  }
  return text;
}

/** Extracts `CODE: message` from a registry's JSON error body, or the trimmed text. */
function registryMessage(text: string): string | undefined {
  if (!text) return undefined;
  try {
    const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return [e.code, e.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 300) || undefined;
}
