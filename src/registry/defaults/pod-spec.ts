/**
 * Pod spec defaulting as in pkg/apis/core/v1/defaults.go: SetDefaults_PodSpec and friends apply to every
 * PodSpec (pods and the templates of workloads); `defaultPod` adds what SetDefaults_Pod and the
 * ServiceAccount admission add to pods only.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';

type Rec = Record<string, any>;

/** The volume source kinds a Volume may carry; a volume with none is defaulted to emptyDir. */
export const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI',
  'fc', 'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk',
  'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
] as const;

/** 0644, the default file mode of secret, configMap, downwardAPI and projected volumes. */
const DEFAULT_MODE = 420;

/** `latest` or no tag (and no digest) means Always; anything else IfNotPresent. */
export function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const nameAndTag = image.slice(lastSlash + 1);
  const colon = nameAndTag.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return nameAndTag.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHandler(h: unknown): void {
  if (!isObject(h) || !isObject(h.httpGet)) return;
  h.httpGet.path ??= '/';
  h.httpGet.scheme ??= 'HTTP';
}

function defaultProbe(p: unknown): void {
  if (!isObject(p)) return;
  defaultHandler(p);
  // Zero counts as unset, as in SetDefaults_Probe.
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
}

function defaultFieldRef(ref: unknown): void {
  if (isObject(ref)) ref.apiVersion ??= 'v1';
}

/** SetDefaults_Container and the defaults of what a container holds. */
export function defaultContainer(c: Rec): void {
  if (!isObject(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(c.image);
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  c.resources ??= {};
  for (const port of Array.isArray(c.ports) ? c.ports : []) {
    if (isObject(port) && !port.protocol) port.protocol = 'TCP';
  }
  for (const env of Array.isArray(c.env) ? c.env : []) {
    if (isObject(env) && isObject(env.valueFrom)) defaultFieldRef(env.valueFrom.fieldRef);
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObject(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

function defaultVolume(v: Rec): void {
  if (!isObject(v)) return;
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObject(v.secret)) v.secret.defaultMode ??= DEFAULT_MODE;
  if (isObject(v.configMap)) v.configMap.defaultMode ??= DEFAULT_MODE;
  if (isObject(v.downwardAPI)) {
    v.downwardAPI.defaultMode ??= DEFAULT_MODE;
    for (const item of Array.isArray(v.downwardAPI.items) ? v.downwardAPI.items : []) defaultFieldRef(item?.fieldRef);
  }
  if (isObject(v.projected)) v.projected.defaultMode ??= DEFAULT_MODE;
  if (isObject(v.hostPath)) v.hostPath.type ??= '';
}

/** SetDefaults_PodSpec plus the nested container/volume/probe defaults. Mutates `spec`. */
export function defaultPodSpec(spec: Rec): void {
  if (!isObject(spec)) return;
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
}

/** Defaults a PodTemplateSpec (`{metadata, spec}`) in place; creates `spec` when missing. */
export function defaultPodTemplateSpec(tpl: Rec | undefined): void {
  if (!isObject(tpl)) return;
  tpl.spec ??= {};
  defaultPodSpec(tpl.spec);
}

function defaultRequestsFromLimits(c: Rec): void {
  if (!isObject(c) || !isObject(c.resources) || !isObject(c.resources.limits)) return;
  const requests: Rec = isObject(c.resources.requests) ? c.resources.requests : {};
  for (const [k, v] of Object.entries(c.resources.limits)) if (requests[k] === undefined) requests[k] = v;
  c.resources.requests = requests;
}

/**
 * Pod-only defaults: SetDefaults_Pod (requests from limits, enableServiceLinks, host-network ports)
 * and the ServiceAccount admission's `serviceAccountName: default`.
 */
export function defaultPod(pod: KubeObject): void {
  if (!isObject(pod.spec)) pod.spec = {};
  const spec = pod.spec;
  defaultPodSpec(spec);
  const all = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])];
  for (const c of all) defaultRequestsFromLimits(c);
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork === true) {
    for (const c of all) {
      for (const port of Array.isArray(c?.ports) ? c.ports : []) {
        if (isObject(port) && !port.hostPort) port.hostPort = port.containerPort;
      }
    }
  }
  spec.serviceAccountName ||= typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : 'default';
  // v1 still serves the deprecated alias.
  spec.serviceAccount = spec.serviceAccountName;
}
