/**
 * Registry credentials (from `kubernetes.io/dockerconfigjson` / `dockercfg` secrets) and
 * `WWW-Authenticate` challenge parsing.
 */

/** A username/password (or identity token) for one registry. */
export interface RegistryCredential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`), used as the password with user `<token>`. */
  identityToken?: string;
}

/** A `.dockerconfigjson` document (or its string form), or a legacy `.dockercfg` map. */
export type PullSecret = string | { auths?: Record<string, DockerAuthEntry> } | Record<string, DockerAuthEntry>;

/** One entry of a docker config's `auths`. */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** Normalises a docker-config key (`https://index.docker.io/v1/`, `host:port/path`) to a registry host. */
export function normaliseRegistryKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  return host;
}

/**
 * Finds credentials for `registry` in pull secrets, first match wins (kubelet's order).
 * Malformed secrets are skipped.
 */
export function credentialFor(registry: string, secrets: PullSecret[] | undefined): RegistryCredential | undefined {
  const want = normaliseRegistryKey(registry);
  for (const s of secrets ?? []) {
    let doc: unknown = s;
    if (typeof s === 'string') {
      try {
        doc = JSON.parse(s);
      } catch {
        continue;
      }
    }
    if (!doc || typeof doc !== 'object') continue;
    const auths = ((doc as { auths?: unknown }).auths ?? doc) as Record<string, DockerAuthEntry>;
    for (const [key, entry] of Object.entries(auths)) {
      if (!entry || typeof entry !== 'object' || normaliseRegistryKey(key) !== want) continue;
      const cred = entryToCredential(entry);
      if (cred) return cred;
    }
  }
  return undefined;
}

function entryToCredential(e: DockerAuthEntry): RegistryCredential | undefined {
  if (e.identitytoken) return { username: '<token>', identityToken: e.identitytoken };
  if (e.username !== undefined || e.password !== undefined) return { username: e.username, password: e.password };
  if (e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) return undefined;
    return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  return undefined;
}

/** `Basic …` header value for a credential. */
export function basicAuthHeader(c: RegistryCredential): string {
  const pw = c.identityToken ?? c.password ?? '';
  return 'Basic ' + Buffer.from(`${c.username ?? ''}:${pw}`).toString('base64');
}

/** One parsed challenge: scheme plus its parameters (lower-cased names). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"`). */
export function parseChallenges(header: string | null | undefined): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  if (!header) return out;
  const re = /\s*([A-Za-z][\w-]*)(?:\s+|$)|\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/y;
  let cur: AuthChallenge | undefined;
  let pos = 0;
  while (pos < header.length) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (!m || m[0].length === 0) break;
    pos = re.lastIndex;
    if (m[1] && !m[0].includes('=')) {
      cur = { scheme: m[1].toLowerCase(), params: {} };
      out.push(cur);
    } else if (m[2] && cur) {
      cur.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
    }
  }
  return out;
}
