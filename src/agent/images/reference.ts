/**
 * Image references: `[registry/]repository[:tag][@sha256:hex]`, normalised the way Docker does
 * (`nginx` → `docker.io/library/nginx:latest`).
 */

/** Registry host used when a reference names none. */
export const DEFAULT_REGISTRY = 'docker.io';

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** Registry host[:port], e.g. `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was given. */
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Options for {@link parseReference}. */
export interface ParseOptions {
  /** Registry for references without one (default `docker.io`). */
  defaultRegistry?: string;
}

/**
 * Parses an image reference. Throws an Error naming the reference when it is malformed.
 * Only the first path component can be a registry, and only when it contains `.` or `:` or is
 * `localhost` (Docker's rule).
 */
export function parseReference(input: string, opts: ParseOptions = {}): ImageReference {
  const raw = input.trim();
  if (!raw) throw new Error('invalid image reference: empty');
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new Error(`invalid image reference "${input}": bad digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new Error(`invalid image reference "${input}": bad tag`);
  }
  let registry = opts.defaultRegistry ?? DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (!repository || !repository.split('/').every((c) => COMPONENT_RE.test(c))) {
    throw new Error(`invalid image reference "${input}": bad repository name`);
  }
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** `registry/repository` of a reference. */
export function repoName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Canonical string: `registry/repo:tag`, `registry/repo@digest` or `registry/repo:tag@digest`. */
export function formatReference(ref: ImageReference): string {
  return repoName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** True when `s` is a well-formed `sha256:<hex>` digest. */
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}
