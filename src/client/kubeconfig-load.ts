/**
 * Reads a kubeconfig file into what the HTTP client needs: the server URL and the credentials of the
 * current (or a named) context. Supports CA / client certificate / key as files or inline `-data`,
 * bearer tokens (`token`, `tokenFile`), basic auth and `insecure-skip-tls-verify`. Exec and auth-provider
 * plugins are not supported.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** Connection settings for one API server. */
export interface ClusterConnection {
  /** Base URL, e.g. `https://10.0.0.1:6443` (no trailing slash). */
  server: string;
  /**
   * Every server of the cluster when there are several (`server` first): the HTTP client fails over
   * between them. Kept in the cluster's `extensions` as {@link SERVERS_EXTENSION}, which kubectl ignores.
   */
  servers?: string[];
  /** PEM CA bundle to trust (https only). */
  ca?: Buffer;
  /** PEM client certificate and key (https only). */
  cert?: Buffer;
  key?: Buffer;
  /** Bearer token. */
  token?: string;
  /** Basic auth. */
  username?: string;
  password?: string;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  /** The context's default namespace, if any. */
  namespace?: string;
}

/** The kubeconfig cluster extension listing every server (`extension: { servers: [url, …] }`). */
export const SERVERS_EXTENSION = 'servers.berth.dev';

/** The servers a cluster's extension lists, if any. */
function serversOf(cluster: Record<string, unknown>): string[] | undefined {
  const ext = Array.isArray(cluster.extensions) ? (cluster.extensions as Named<unknown>[]).find((e) => e?.name === SERVERS_EXTENSION) : undefined;
  const list = (ext?.extension as { servers?: unknown } | undefined)?.servers;
  if (!Array.isArray(list)) return undefined;
  const servers = list.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.replace(/\/+$/, ''));
  return servers.length ? servers : undefined;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }

function pick<T>(list: unknown, name: string, what: string): T {
  const arr = Array.isArray(list) ? (list as Named<T>[]) : [];
  const hit = arr.find((e) => e?.name === name);
  if (!hit) throw new Error(`kubeconfig: ${what} "${name}" not found`);
  return ((hit as Record<string, unknown>)[what] ?? {}) as T;
}

/** Loads the connection for `context` (default: current-context) from the kubeconfig at `path`. */
export function loadKubeconfig(path: string, context?: string): ClusterConnection {
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${path}: not a YAML mapping`);
  const base = dirname(path);
  const file = (p: unknown): Buffer | undefined => (typeof p === 'string' && p ? readFileSync(isAbsolute(p) ? p : resolve(base, p)) : undefined);
  const data = (d: unknown): Buffer | undefined => (typeof d === 'string' && d ? Buffer.from(d, 'base64') : undefined);
  const ctxName = context ?? (doc['current-context'] as string | undefined);
  if (!ctxName) throw new Error(`kubeconfig ${path}: no current-context`);
  const ctx = pick<Record<string, string>>(doc.contexts, ctxName, 'context');
  const cluster = pick<Record<string, unknown>>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? pick<Record<string, unknown>>(doc.users, ctx.user, 'user') : {};
  const server = String(cluster.server ?? '').replace(/\/+$/, '');
  if (!server) throw new Error(`kubeconfig ${path}: cluster "${ctx.cluster}" has no server`);
  let token = typeof user.token === 'string' && user.token ? user.token : undefined;
  if (!token && typeof user.tokenFile === 'string' && user.tokenFile) token = file(user.tokenFile)!.toString().trim();
  return {
    server,
    servers: serversOf(cluster),
    ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    cert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: data(user['client-key-data']) ?? file(user['client-key']),
    token,
    username: typeof user.username === 'string' ? user.username : undefined,
    password: typeof user.password === 'string' ? user.password : undefined,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    namespace: ctx.namespace || undefined,
  };
}
