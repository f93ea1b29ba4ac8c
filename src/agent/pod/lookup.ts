/**
 * How the pod worker's building blocks read ConfigMaps and Secrets (usually a cached client), and
 * how their data becomes bytes: ConfigMap `data` is text, `binaryData` and Secret `data` are base64.
 */
import type { KubeObject } from '../../apis/object.ts';

/** Reads ConfigMaps and Secrets; resolves to undefined when the object does not exist. */
export interface ObjectLookup {
  configMap(namespace: string, name: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
}

/** A ConfigMap's keys as bytes (`data` and `binaryData` merged). */
export function configMapBytes(cm: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((cm.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'utf8'));
  for (const [k, v] of Object.entries((cm.binaryData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
  return out;
}

/** A Secret's keys as bytes (`data` is base64; `stringData` is honoured for objects never stored). */
export function secretBytes(secret: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'utf8'));
  return out;
}
