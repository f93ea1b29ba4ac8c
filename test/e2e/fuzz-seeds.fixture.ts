/**
 * One minimal valid object per resource Berth serves, the starting points the fuzz suite mutates
 * (fuzz.fixture.ts), and where each lives: namespaced objects in the fuzz namespace, cluster
 * objects named with the fuzz prefix, so destructive requests stay on the fuzz's own objects.
 */
export interface Seed {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  /** Subresources worth writing to besides the main resource. */
  subresources: string[];
  /** A controller may remove such an object right after it is created (Endpoints with no Service). */
  volatile?: boolean;
  make(name: string, ns: string): Record<string, any>;
}

const meta = (name: string, ns: string, namespaced: boolean) => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: { fuzz: '1' } });
const podSpec = () => ({ containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'b' }] }] });
const template = (app: string) => ({ metadata: { labels: { app } }, spec: podSpec() });
const s = (group: string, plural: string, namespaced: boolean, kind: string, subresources: string[], body: (name: string) => Record<string, any>): Seed => ({
  group, version: 'v1', plural, namespaced, subresources,
  make: (name, ns) => ({ apiVersion: group ? `${group}/v1` : 'v1', kind, metadata: meta(name, ns, namespaced), ...body(name) }),
});

export const SEEDS: Seed[] = [
  s('', 'configmaps', true, 'ConfigMap', [], () => ({ data: { key: 'value', 'a.b': 'c' } })),
  s('', 'secrets', true, 'Secret', [], () => ({ type: 'Opaque', data: { k: 'dmFsdWU=' }, stringData: { s: 'x' } })),
  s('', 'pods', true, 'Pod', ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'], () => ({ spec: podSpec() })),
  s('', 'services', true, 'Service', ['status'], () => ({ spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } })),
  { ...s('', 'endpoints', true, 'Endpoints', [], () => ({ subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] })), volatile: true },
  s('', 'serviceaccounts', true, 'ServiceAccount', [], () => ({})),
  s('', 'events', true, 'Event', [], (name) => ({ involvedObject: { kind: 'Pod', name, namespace: 'fuzz' }, reason: 'R', message: 'm', type: 'Normal' })),
  s('', 'persistentvolumeclaims', true, 'PersistentVolumeClaim', ['status'], () => ({ spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } })),
  s('', 'persistentvolumes', false, 'PersistentVolume', ['status'], () => ({ spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/fuzz' } } })),
  s('', 'nodes', false, 'Node', ['status'], () => ({ spec: { taints: [{ key: 'fuzz', effect: 'NoSchedule' }] } })),
  s('', 'namespaces', false, 'Namespace', ['status', 'finalize'], () => ({})),
  s('apps', 'deployments', true, 'Deployment', ['status', 'scale'], (n) => ({ spec: { replicas: 0, selector: { matchLabels: { app: n } }, template: template(n) } })),
  s('apps', 'replicasets', true, 'ReplicaSet', ['status', 'scale'], (n) => ({ spec: { replicas: 0, selector: { matchLabels: { app: n } }, template: template(n) } })),
  s('apps', 'statefulsets', true, 'StatefulSet', ['status', 'scale'], (n) => ({ spec: { replicas: 0, serviceName: n, selector: { matchLabels: { app: n } }, template: template(n) } })),
  s('apps', 'daemonsets', true, 'DaemonSet', ['status'], (n) => ({ spec: { selector: { matchLabels: { app: n } }, template: { ...template(n), spec: { ...podSpec(), nodeSelector: { none: 'none' } } } } })),
  s('apps', 'controllerrevisions', true, 'ControllerRevision', [], () => ({ revision: 1, data: { a: 1 } })),
  s('batch', 'jobs', true, 'Job', ['status'], (n) => ({ spec: { suspend: true, template: { metadata: { labels: { app: n } }, spec: { ...podSpec(), restartPolicy: 'Never' } } } })),
  s('batch', 'cronjobs', true, 'CronJob', ['status'], () => ({ spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { template: { spec: { ...podSpec(), restartPolicy: 'Never' } } } } } })),
  s('coordination.k8s.io', 'leases', true, 'Lease', [], () => ({ spec: { holderIdentity: 'fuzz', leaseDurationSeconds: 10 } })),
  s('node.k8s.io', 'runtimeclasses', false, 'RuntimeClass', [], () => ({ handler: 'fuzz' })),
  s('storage.k8s.io', 'storageclasses', false, 'StorageClass', [], () => ({ provisioner: 'fuzz.example/p' })),
  s('discovery.k8s.io', 'endpointslices', true, 'EndpointSlice', [], () => ({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] })),
  s('policy', 'poddisruptionbudgets', true, 'PodDisruptionBudget', ['status'], (n) => ({ spec: { maxUnavailable: 1, selector: { matchLabels: { app: n } } } })),
  s('events.k8s.io', 'events', true, 'Event', [], (name) => ({ eventTime: '2026-01-01T00:00:00.000000Z', reportingController: 'fuzz.example/c', reportingInstance: 'i', action: 'A', reason: 'R', regarding: { kind: 'Pod', name, namespace: 'fuzz' }, type: 'Normal' })),
];

/** `/api/v1/namespaces/NS/pods` or `/apis/apps/v1/deployments`. */
export function collectionPath(seed: Seed, ns: string): string {
  const base = seed.group ? `/apis/${seed.group}/${seed.version}` : `/api/${seed.version}`;
  return seed.namespaced ? `${base}/namespaces/${encodeURIComponent(ns)}/${seed.plural}` : `${base}/${seed.plural}`;
}
