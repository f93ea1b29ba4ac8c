/**
 * The files of configMap, secret, downwardAPI and projected volumes (pkg/volume/{configmap,secret,
 * downwardapi,projected} MakePayload): all keys or the listed `items`, each with `mode` or the
 * volume's `defaultMode` (0644), optional sources that may be missing, and the kubelet's errors.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Payload } from './atomic-writer.ts';
import { containerResourceValue, findContainer, podFieldValue, type NodeAllocatable, type PodRuntimeFacts } from './field-ref.ts';
import { configMapBytes, secretBytes, type ObjectLookup } from './lookup.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';

/** What payload builders need besides the volume source. */
export interface PayloadContext {
  pod: KubeObject;
  lookup: ObjectLookup;
  facts: PodRuntimeFacts;
  nodeAllocatable?: NodeAllocatable;
  /** Called for things done differently from Kubernetes (skipped projected sources). */
  warn?: (msg: string) => void;
  /** Bound ServiceAccount tokens for serviceAccountToken sources (the node's token manager). */
  tokens?: Pick<ServiceAccountTokens, 'token'>;
}

const DEFAULT_MODE = 0o644;

async function keyed(
  kind: 'configmap' | 'secret',
  src: Record<string, any>,
  ctx: PayloadContext,
  defaultMode: number,
  out: Payload,
): Promise<void> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const name = kind === 'configmap' ? src.name : (src.secretName ?? src.name);
  const obj = kind === 'configmap' ? await ctx.lookup.configMap(ns, name) : await ctx.lookup.secret(ns, name);
  if (!obj) {
    if (src.optional) return;
    throw new Error(`${kind} "${name}" not found`);
  }
  const data = kind === 'configmap' ? configMapBytes(obj) : secretBytes(obj);
  if (!src.items?.length) {
    for (const [k, v] of data) out.set(k, { data: v, mode: defaultMode });
    return;
  }
  for (const item of src.items as { key: string; path: string; mode?: number }[]) {
    const v = data.get(item.key);
    if (!v) {
      if (src.optional) continue;
      throw new Error(`${kind === 'configmap' ? 'configmap' : 'secret'} references non-existent ${kind === 'configmap' ? 'config' : 'secret'} key: ${item.key}`);
    }
    out.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
}

function downward(src: Record<string, any>, ctx: PayloadContext, defaultMode: number, out: Payload): void {
  for (const item of (src.items ?? []) as Record<string, any>[]) {
    let value: string;
    if (item.fieldRef) value = podFieldValue(ctx.pod, item.fieldRef.fieldPath, ctx.facts);
    else if (item.resourceFieldRef) {
      const c = findContainer(ctx.pod, item.resourceFieldRef.containerName);
      if (!c) throw new Error(`container ${item.resourceFieldRef.containerName} not found`);
      value = containerResourceValue(item.resourceFieldRef, c, ctx.nodeAllocatable);
    } else continue;
    out.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
}

/** Builds the files of a volume of kind configMap, secret, downwardAPI or projected. */
export async function volumePayload(volume: Record<string, any>, ctx: PayloadContext): Promise<Payload> {
  const out: Payload = new Map();
  if (volume.configMap) await keyed('configmap', volume.configMap, ctx, volume.configMap.defaultMode ?? DEFAULT_MODE, out);
  else if (volume.secret) await keyed('secret', volume.secret, ctx, volume.secret.defaultMode ?? DEFAULT_MODE, out);
  else if (volume.downwardAPI) downward(volume.downwardAPI, ctx, volume.downwardAPI.defaultMode ?? DEFAULT_MODE, out);
  else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
    for (const s of (volume.projected.sources ?? []) as Record<string, any>[]) {
      if (s.configMap) await keyed('configmap', s.configMap, ctx, mode, out);
      else if (s.secret) await keyed('secret', s.secret, ctx, mode, out);
      else if (s.downwardAPI) downward(s.downwardAPI, ctx, mode, out);
      else if (s.serviceAccountToken) {
        if (!ctx.tokens) throw new Error('this node cannot request ServiceAccount tokens');
        out.set(s.serviceAccountToken.path, { data: Buffer.from(await ctx.tokens.token(ctx.pod, s.serviceAccountToken)), mode: s.serviceAccountToken.mode ?? mode });
      } else ctx.warn?.(`volume "${volume.name}": unsupported projected source ${Object.keys(s).join(',')} skipped`);
    }
  }
  return out;
}

/** Kinds whose content comes from API objects and is refreshed by updateVolumes. */
export function isProjectedKind(volume: Record<string, any>): boolean {
  return !!(volume.configMap || volume.secret || volume.downwardAPI || volume.projected);
}
