/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go): on pod
 * create it defaults spec.serviceAccountName to `default`, refuses a pod whose ServiceAccount does
 * not exist (403 `error looking up service account …`), copies the ServiceAccount's imagePullSecrets
 * when the pod names none, and — unless automountServiceAccountToken is false on the pod, else on the
 * ServiceAccount — adds the projected volume `kube-api-access-<random>` (a bound token of 3607 s,
 * the cluster CA from the `kube-root-ca.crt` ConfigMap, the namespace) mounted read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container that mounts nothing there.
 *
 * The `default` ServiceAccount is made by a controller just after its namespace: as upstream, a miss
 * in the cache is looked up in the store, and for `default` retried for up to ~2 s.
 */
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';

/** Where every container finds its token, CA and namespace (DefaultAPITokenMountPath). */
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The volume's name prefix (ServiceAccountVolumeName). */
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap every namespace gets with the cluster CA (root-ca-cert-publisher). */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** The token's life the volume asks for: an hour and 7 s, so a token of it can be told apart (kubelet/admission). */
export const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** utilrand.String's alphabet: no vowels, no look-alikes. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** How the plugin finds ServiceAccounts. */
export interface ServiceAccountLookup {
  /** From a cache; undefined on a miss. */
  cached(namespace: string, name: string): KubeObject | undefined;
  /** From the store; undefined when it does not exist. */
  live(namespace: string, name: string): Promise<KubeObject | undefined>;
}

export interface ServiceAccountAdmissionOptions {
  lookup: ServiceAccountLookup;
  /** Random volume-name suffixes (tests fix it). */
  random?: () => string;
  /** Waits between lookups of `default` (tests shorten it). */
  retryMs?: () => number;
}

/** The projected volume source of the token volume (TokenVolumeSource). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
}

/** pods "<name or generateName or Unknown>" is forbidden: … (admission.NewForbidden). */
function forbidden(req: AdmissionRequest, why: string) {
  const m = req.object?.metadata ?? {};
  return errors.forbidden('', 'pods', req.name || m.name || m.generateName || 'Unknown', why);
}

/** Whether the pod gets the token (shouldAutomount): the pod's setting, else the ServiceAccount's, else yes. */
function shouldAutomount(sa: KubeObject, pod: KubeObject): boolean {
  const p = pod.spec?.automountServiceAccountToken;
  if (typeof p === 'boolean') return p;
  return sa.automountServiceAccountToken !== false;
}

/** Adds the token volume and its mounts (mountServiceAccountToken). */
function mountToken(pod: KubeObject, random: () => string): void {
  const spec = pod.spec;
  const volumes: Record<string, any>[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  // A volume named with the prefix is taken as the token volume, as upstream does (so no new name can clash).
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const name: string = existing?.name ?? TOKEN_VOLUME_PREFIX + random();
  let needed = false;
  for (const list of [spec.initContainers, spec.containers] as unknown[]) {
    if (!Array.isArray(list)) continue;
    for (const c of list as Record<string, any>[]) {
      if (!c || typeof c !== 'object') continue;
      const mounts: Record<string, any>[] = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      if (mounts.some((m) => m?.mountPath === TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (needed && !existing) spec.volumes = [...volumes, { name, projected: tokenVolumeSource() }];
}

function isPodCreate(req: AdmissionRequest): boolean {
  return req.operation === 'CREATE' && req.resource.group === '' && req.resource.plural === 'pods' && req.subresource === '' && !!req.object;
}

/** The plugin; see the file comment. */
export function serviceAccountAdmission(opts: ServiceAccountAdmissionOptions): AdmissionPlugin {
  const random = opts.random ?? randomSuffix;
  const retryMs = opts.retryMs ?? (() => 100 + Math.floor(Math.random() * 100));

  async function find(namespace: string, name: string): Promise<KubeObject | undefined> {
    const hit = opts.lookup.cached(namespace, name);
    if (hit) return hit;
    // `default` is created by a controller right after its namespace: give it a moment.
    const attempts = name === 'default' ? 10 : 1;
    for (let i = 0; i < attempts; i++) {
      if (i) await new Promise((r) => setTimeout(r, retryMs()));
      const sa = await opts.lookup.live(namespace, name);
      if (sa) return sa;
    }
    return undefined;
  }

  async function serviceAccountOf(req: AdmissionRequest, pod: KubeObject): Promise<KubeObject> {
    const name: string = pod.spec.serviceAccountName;
    const sa = await find(req.namespace, name);
    if (!sa) throw forbidden(req, `error looking up service account ${req.namespace}/${name}: serviceaccount "${name}" not found`);
    return sa;
  }

  return {
    name: 'ServiceAccount',
    // Both synchronous for what is not a pod's creation (most writes: no promise for nothing to do).
    admit(req) {
      if (!isPodCreate(req)) return;
      return admitPod(req);
    },
    validate(req) {
      if (!isPodCreate(req)) return;
      const pod = req.object!;
      if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined || typeof pod.spec?.serviceAccountName !== 'string') return;
      return serviceAccountOf(req, pod).then(() => undefined);
    },
  };

  async function admitPod(req: AdmissionRequest): Promise<void> {
    const pod = req.object!;
    if (!pod.spec || typeof pod.spec !== 'object') return;
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    // `serviceAccount` is the deprecated alias the pod defaults also read.
    if (!pod.spec.serviceAccountName) pod.spec.serviceAccountName = typeof pod.spec.serviceAccount === 'string' && pod.spec.serviceAccount ? pod.spec.serviceAccount : 'default';
    if (typeof pod.spec.serviceAccountName !== 'string') return;
    const sa = await serviceAccountOf(req, pod);
    if (shouldAutomount(sa, pod)) mountToken(pod, random);
    const pullSecrets = (sa.imagePullSecrets ?? []) as { name?: string }[];
    if (!pod.spec.imagePullSecrets?.length && pullSecrets.length) pod.spec.imagePullSecrets = pullSecrets.map((s) => ({ name: s.name }));
  }
}
