// The scheduler's view of pods and nodes keeps everything the scheduler reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/object.ts';
import { withoutManagedFields } from '../client/informer.ts';
import { NodeInfo } from './node-info.ts';
import { podInfoOf, type PodInfo } from './pod-info.ts';
import { startTime, terminatingByPreemption } from './preemption.ts';
import { intern, schedulerNodeView, schedulerPodView, schedulerTransform } from './scheduler-view.ts';
import { runningPodStatus } from '../sim/running-pod-status.ts';

const term = (key: string, values: string[]) => ({ matchExpressions: [{ key, operator: 'In', values }] });

/** A pod using every scheduling feature, with what the API server and the kubelet add around them. */
function richPod(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'web-7c9f8b6d4-abcde', generateName: 'web-7c9f8b6d4-', namespace: 'shop', uid: 'u-1', resourceVersion: '4242',
      creationTimestamp: '2026-12-07T06:00:00Z', deletionTimestamp: '2026-12-07T06:05:00Z', deletionGracePeriodSeconds: 30,
      labels: { app: 'web', tier: 'frontend-of-the-shop' }, annotations: { note: 'x'.repeat(200) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9f8b6d4', uid: 'rs-1', controller: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      schedulerName: 'default-scheduler', priority: 1000, priorityClassName: 'high', preemptionPolicy: 'PreemptLowerPriority',
      nodeName: '', nodeSelector: { disk: 'ssd' }, runtimeClassName: 'runc', overhead: { cpu: '50m', memory: '10Mi' },
      schedulingGates: [], hostNetwork: false,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term('zone', ['a', 'b'])] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: term('zone', ['a']) }],
        },
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname', namespaces: ['shop', 'infra'] } }],
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname', namespaceSelector: {} }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, topologyKey: 'zone' } }],
        },
      },
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' },
      ],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, minDomains: 2, nodeTaintsPolicy: 'Honor' },
        { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } }, nodeAffinityPolicy: 'Ignore' },
      ],
      initContainers: [
        { name: 'setup', image: 'busybox', command: ['sh', '-c', 'true'], resources: { requests: { cpu: '500m', memory: '1Gi' } } },
        { name: 'proxy', image: 'envoy', restartPolicy: 'Always', resources: { requests: { cpu: '100m', memory: '64Mi' } }, ports: [{ containerPort: 15000 }] },
      ],
      containers: [{
        name: 'app', image: 'registry.local/web:1', command: ['/web'], args: ['--port', '8080'],
        env: [{ name: 'MODE', value: 'production' }], imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log',
        resources: { requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '1Gi', 'example.com/gpu': '1' }, limits: { memory: '512Mi' } },
        ports: [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }, { containerPort: 9090, protocol: 'UDP', hostPort: 9090, hostIP: '10.0.0.5' }, { containerPort: 7070 }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      }],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } },
        { name: 'cfg', configMap: { name: 'web-config' } },
        { name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } },
      ],
      serviceAccountName: 'default', serviceAccount: 'default', dnsPolicy: 'ClusterFirst', restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30, securityContext: {}, enableServiceLinks: true,
    },
    status: {
      phase: 'Running', nominatedNodeName: 'node-3', startTime: '2026-12-07T06:00:02Z', qosClass: 'Burstable', podIP: '10.42.0.7',
      hostIP: '192.168.1.3', podIPs: [{ ip: '10.42.0.7' }],
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available', lastProbeTime: null, lastTransitionTime: '2026-12-07T06:00:01Z' },
        { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'preempted', lastTransitionTime: '2026-12-07T06:04:59Z' },
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-12-07T06:00:05Z' },
      ],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'registry.local/web:1', imageID: 'sha256:' + 'a'.repeat(64), containerID: 'berth://' + 'b'.repeat(64), state: { running: { startedAt: '2026-12-07T06:00:04Z' } } }],
    },
  };
}

function node(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: 'node-3', uid: 'n-3', resourceVersion: '77', labels: { zone: 'a', disk: 'ssd', 'kubernetes.io/hostname': 'node-3' }, annotations: { a: 'b' }, creationTimestamp: '2026-12-07T05:00:00Z' },
    spec: { podCIDR: '10.42.3.0/24', podCIDRs: ['10.42.3.0/24'], unschedulable: true, taints: [{ key: 'dedicated', value: 'shop', effect: 'NoSchedule' }] },
    status: {
      capacity: { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      allocatable: { cpu: '3800m', memory: '15Gi', pods: '100', 'example.com/gpu': '2' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2026-12-07T06:00:00Z' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.3' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-berth', osImage: 'Debian GNU/Linux 12' },
      images: [{ names: ['registry.local/web:1'], sizeBytes: 1234 }],
    },
  };
}

/** A PodInfo without its raw pod, for comparing what the plugins read. */
function parsed(p: PodInfo): Omit<PodInfo, 'pod'> {
  const { pod: _, ...rest } = p;
  return rest;
}

describe('the scheduler view of pods and nodes', () => {
  it('a pod: what the scheduler parses and reads is the same as from the full pod; the rest is gone', () => {
    const full = richPod();
    const fullCopy = structuredClone(full);
    const view = schedulerPodView(full);
    assert.deepEqual(full, fullCopy, 'the input is left as it was (other watchers share it)');
    assert.deepEqual(parsed(podInfoOf(view)), parsed(podInfoOf(full)), 'requests (sidecar, overhead, extended), host ports, affinity, spread, tolerations, claims, priority');
    assert.equal(podInfoOf(view).claimNames.length, 1, 'the claim volume is kept');
    // Read off the object directly by the scheduler, its preemption and its events.
    for (const path of ['apiVersion', 'kind', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.resourceVersion', 'metadata.deletionTimestamp',
      'spec.preemptionPolicy', 'spec.schedulerName', 'spec.nodeName', 'spec.schedulingGates', 'spec.priorityClassName', 'spec.runtimeClassName',
      'status.phase', 'status.nominatedNodeName', 'status.startTime']) {
      const get = (o: any) => path.split('.').reduce((v, k) => v?.[k], o);
      assert.deepEqual(get(view), get(full), path);
    }
    assert.deepEqual(view.status.conditions.map((c: any) => c.type), ['PodScheduled', 'DisruptionTarget']);
    assert.deepEqual(view.status.conditions[0], full.status.conditions[0], 'PodScheduled as it is (its message decides a rewrite)');
    const info = podInfoOf(view);
    assert.equal(terminatingByPreemption(info), true);
    assert.equal(startTime(info), Date.parse('2026-12-07T06:00:02Z'));
    // Gone: what only the kubelet and the controllers read.
    assert.equal(view.metadata.managedFields, undefined);
    assert.equal(view.metadata.annotations, undefined);
    assert.equal(view.metadata.ownerReferences, undefined);
    assert.deepEqual(Object.keys(view.spec.containers[0]).sort(), ['name', 'ports', 'resources']);
    assert.equal(view.spec.containers[0].ports.length, 2, 'only the host ports');
    assert.equal(view.spec.initContainers[1].restartPolicy, 'Always');
    assert.equal(view.spec.initContainers[1].ports, undefined);
    assert.deepEqual(view.spec.volumes.map((v: any) => v.name), ['data', 'scratch']);
    assert.equal(view.status.containerStatuses, undefined);
    assert.equal(view.spec.serviceAccountName, undefined);
    // Nothing of the full pod is shared: it can all be collected.
    assert.notEqual(view.spec.affinity, full.spec.affinity);
    assert.notEqual(view.metadata.labels, full.metadata.labels);
  });

  it('a node: the NodeInfo and volume decisions read the same; conditions, addresses, images are gone', () => {
    const full = node();
    const view = schedulerNodeView(full);
    const a = new NodeInfo('node-3', full);
    const b = new NodeInfo('node-3', view);
    for (const k of ['labels', 'taints', 'unschedulable', 'allocatable', 'allowedPods'] as const) assert.deepEqual(b[k], a[k], k);
    assert.equal(view.status.capacity['ephemeral-storage'], '100Gi', 'local-path capacity');
    assert.deepEqual(view.metadata, { name: 'node-3', uid: 'n-3', resourceVersion: '77', labels: full.metadata.labels });
    assert.deepEqual(Object.keys(view.status).sort(), ['allocatable', 'capacity']);
    assert.deepEqual(Object.keys(view.spec).sort(), ['taints', 'unschedulable']);
  });

  it('is a fraction of the managedFields-trimmed object for bench scale\'s pods and simulated nodes', () => {
    // A pod of bench scale's Deployments as the API server defaults it (read back from a run), Running
    // as berth sim reports it; decoded, 4.1 KB of heap trimmed and 1.0 KB as the view (V8, 20,000 copies).
    const pod: KubeObject = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: 'd-0000-1000-6fd4ddbb87-', namespace: 'scale', labels: { app: 'd-0000-1000', 'pod-template-hash': '6fd4ddbb87' }, annotations: {},
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'd-0000-1000-6fd4ddbb87', uid: 'c10f5654-4838-44f9-a645-6635a89402f8', controller: true, blockOwnerDeletion: true }],
        name: 'd-0000-1000-6fd4ddbb87-24zbw', uid: '45f554a9-b489-46e9-a716-530b13d10e74', creationTimestamp: '2026-12-07T06:03:06Z', resourceVersion: '26434',
      },
      spec: {
        containers: [{
          name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } }, imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
          volumeMounts: [{ name: 'kube-api-access-2npbt', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        }],
        dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler',
        serviceAccountName: 'default',
        volumes: [{ name: 'kube-api-access-2npbt', projected: { defaultMode: 420, sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ] } }],
        priority: 0, preemptionPolicy: 'PreemptLowerPriority', enableServiceLinks: true, serviceAccount: 'default', nodeName: 'sim-4892',
        tolerations: [
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
        ],
      },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-07T06:03:07Z' }] },
    };
    pod.status = runningPodStatus(pod, '10.224.0.1', '10.240.0.7', '2026-12-07T06:03:09Z');
    const ratio = JSON.stringify(schedulerPodView(pod)).length / JSON.stringify(withoutManagedFields(pod)).length;
    assert.ok(ratio < 0.35, `pod view ${ratio.toFixed(2)} of the trimmed pod`);
    const n = node();
    const nRatio = JSON.stringify(schedulerNodeView(n)).length / JSON.stringify(n).length;
    assert.ok(nRatio < 0.5, `node view ${nRatio.toFixed(2)} of the node`);
  });

  it('interns long strings (one per contents), leaves short ones, and applies to core pods and nodes only', () => {
    const a = 'node.kubernetes.io/' + 'not-ready';
    const b = ['node.kubernetes.io', 'not-ready'].join('/');
    assert.equal(intern(a), intern(b));
    assert.equal(intern('short'), 'short');
    assert.equal(schedulerTransform({ group: '', version: 'v1', resource: 'pods' }), schedulerPodView);
    assert.equal(schedulerTransform({ group: '', version: 'v1', resource: 'nodes' }), schedulerNodeView);
    assert.equal(schedulerTransform({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' }), undefined);
    assert.equal(schedulerTransform({ group: '', version: 'v1', resource: 'persistentvolumeclaims' }), undefined);
  });
});
