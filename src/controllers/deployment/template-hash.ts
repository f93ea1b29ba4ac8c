/**
 * The `pod-template-hash` of a Deployment's ReplicaSet: a 32-bit FNV-1a hash of the pod template's
 * canonical JSON (keys sorted, so equal templates hash equally whatever their key order), plus the
 * collision count when there is one, encoded in Kubernetes' "safe" alphabet (no vowels, no 0/1/3,
 * so a hash never spells a word). Stable across restarts; not byte-identical to Kubernetes' own.
 */
import type { KubeObject } from '../../apis/object.ts';

/** The label that ties a ReplicaSet and its pods to one template. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted at every level. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** 32-bit FNV-1a over the UTF-8 bytes of `s`. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Encodes a number in the safe alphabet (like rand.SafeEncodeString of its decimal form). */
function safeEncode(n: number): string {
  return String(n).split('').map((d) => ALPHABET[(d.charCodeAt(0)) % ALPHABET.length]).join('');
}

/** The template hash for a Deployment's pod template and collisionCount. */
export function templateHash(template: unknown, collisionCount?: number): string {
  let s = canonicalJson(template ?? {});
  if (collisionCount) s += `#${collisionCount}`;
  return safeEncode(fnv32a(s));
}

/** The template without the pod-template-hash label (what a Deployment's own template looks like). */
export function stripHash(template: KubeObject['spec']): unknown {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
    if (!Object.keys(t.metadata.labels).length) delete t.metadata.labels;
  }
  return t;
}

/** EqualIgnoreHash: the same pod template but for the pod-template-hash label. */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  return canonicalJson(stripHash(a)) === canonicalJson(stripHash(b));
}
