/**
 * A container's environment, built as the kubelet's makeEnvironmentVariables does: service link
 * vars, then `envFrom` (ConfigMaps/Secrets with an optional prefix), then `env` in order — later
 * entries win, and a literal `value` may reference earlier vars with `$(VAR)`. Problems are
 * collected as the kubelet would word them; the worker reports any as CreateContainerConfigError.
 */
import type { KubeObject } from '../../apis/object.ts';
import { expandVars } from './expand.ts';
import { containerResourceValue, findContainer, podFieldValue, type NodeAllocatable, type PodRuntimeFacts } from './field-ref.ts';
import { configMapBytes, secretBytes, type ObjectLookup } from './lookup.ts';

export { expandArgs } from './expand.ts';

/** Facts from the agent that the pod object may not hold yet. */
export interface EnvExtras extends PodRuntimeFacts {
  /** Defaults for resourceFieldRef limits the container leaves unset. */
  nodeAllocatable?: NodeAllocatable;
  /** Service link variables (FOO_SERVICE_HOST, …); lowest precedence, visible to `$(VAR)`. */
  serviceEnv?: Record<string, string>;
}

/** The resolved environment and the problems found (empty = the container may start). */
export interface EnvResult {
  env: Record<string, string>;
  errors: string[];
}

/** Resolves `container`'s env and envFrom for `pod`. */
export async function resolveEnv(pod: KubeObject, container: Record<string, any>, lookup: ObjectLookup, extras: EnvExtras): Promise<EnvResult> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...(extras.serviceEnv ?? {}) };
  const errors: string[] = [];
  // Each object is fetched once per call, as the kubelet caches within one makeEnvironmentVariables.
  const cms = new Map<string, Promise<KubeObject | undefined>>();
  const secrets = new Map<string, Promise<KubeObject | undefined>>();
  const getCm = (name: string) => memo(cms, name, () => lookup.configMap(ns, name));
  const getSecret = (name: string) => memo(secrets, name, () => lookup.secret(ns, name));

  for (const from of (container.envFrom ?? []) as Record<string, any>[]) {
    const prefix = from.prefix ?? '';
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const isCm = !!from.configMapRef;
    const obj = await safe(() => (isCm ? getCm(ref.name) : getSecret(ref.name)), errors);
    if (obj === null) continue;
    if (!obj) {
      if (!ref.optional) errors.push(`${isCm ? 'configmap' : 'secret'} "${ref.name}" not found`);
      continue;
    }
    const data = isCm ? configMapBytes(obj) : secretBytes(obj);
    for (const [k, v] of data) {
      // Names with '=' can never be an env var; the kubelet drops them (with an event).
      if (k.includes('=')) continue;
      env[prefix + k] = v.toString('utf8');
    }
  }

  const lookupVar = (n: string) => (Object.prototype.hasOwnProperty.call(env, n) ? env[n] : undefined);
  for (const ev of (container.env ?? []) as Record<string, any>[]) {
    const name: string = ev.name;
    if (!ev.valueFrom) {
      env[name] = typeof ev.value === 'string' && ev.value !== '' ? expandVars(ev.value, lookupVar) : (ev.value ?? '');
      continue;
    }
    const vf = ev.valueFrom;
    try {
      if (vf.fieldRef) {
        env[name] = podFieldValue(pod, vf.fieldRef.fieldPath, extras);
      } else if (vf.resourceFieldRef) {
        const target = vf.resourceFieldRef.containerName ? findContainer(pod, vf.resourceFieldRef.containerName) : container;
        if (!target) throw new Error(`container ${vf.resourceFieldRef.containerName} not found`);
        env[name] = containerResourceValue(vf.resourceFieldRef, target, extras.nodeAllocatable);
      } else if (vf.configMapKeyRef || vf.secretKeyRef) {
        const isCm = !!vf.configMapKeyRef;
        const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
        const obj = await (isCm ? getCm(ref.name) : getSecret(ref.name));
        if (!obj) {
          if (!ref.optional) errors.push(`${isCm ? 'configmap' : 'secret'} "${ref.name}" not found`);
          continue;
        }
        // configMapKeyRef reads `data` only, like the kubelet.
        const value = isCm ? (obj.data ?? {})[ref.key] : secretBytes(obj).get(ref.key)?.toString('utf8');
        if (value === undefined) {
          if (!ref.optional) errors.push(`couldn't find key ${ref.key} in ${isCm ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name}`);
          continue;
        }
        env[name] = String(value);
      } else if (vf.fileKeyRef) {
        errors.push(`env ${name}: fileKeyRef is not supported`);
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { env, errors };
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) cache.set(key, (p = load()));
  return p;
}

/** Runs a lookup; a thrown error (API unreachable, …) is recorded and turned into `null`. */
async function safe(fn: () => Promise<KubeObject | undefined>, errors: string[]): Promise<KubeObject | undefined | null> {
  try {
    return await fn();
  } catch (err) {
    errors.push((err as Error).message);
    return null;
  }
}
