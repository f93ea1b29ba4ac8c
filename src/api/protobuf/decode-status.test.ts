/**
 * Decoding of the fields the first field tables lacked: pod container statuses, workload and Job
 * conditions, the whole Node status and the in-tree volume sources. Bodies are built by hand with
 * upstream's field numbers (k8s.io/api generated.proto), independently of the tables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeKubernetesProtobuf } from './decode.ts';
import { envelope, int, mapEntry, msg, str } from './test-encoder.ts';

const meta = (name: string) => msg(1, str(1, name), str(3, 'default'));
/** metav1.Time of `seconds` since the epoch. */
const time = (field: number, seconds: number) => msg(field, int(1, seconds));
const T0 = 1767323045; // 2026-01-02T03:04:05Z

test('Pod status: init and app container statuses with states, resources and mounts', () => {
  const running = msg(2, msg(2, time(1, T0))); // state.running.startedAt
  const terminated = msg(3, msg(3, int(1, 0), str(3, 'Completed'), time(5, T0), time(6, T0 + 1), str(7, 'containerd://a'))); // lastState.terminated
  const status = msg(3,
    str(1, 'Running'),
    msg(10, str(1, 'init'), msg(2, msg(3, int(1, 0), str(3, 'Completed'))), int(4, false), int(5, 0), str(6, 'busybox'), str(7, ''), int(9, false)),
    msg(8, str(1, 'app'), running, terminated, int(4, true), int(5, 2), str(6, 'nginx:1'), str(7, 'sha256:ab'), str(8, 'containerd://b'), int(9, true),
      mapEntry(10, 'cpu', ''), msg(11, msg(2, str(1, 'memory'), msg(2, str(1, '64Mi')))),
      msg(12, str(1, 'data'), str(2, '/data'), int(3, true)), msg(13, msg(1, int(1, 1000), int(2, 0), int(3, 4))),
      msg(14, str(1, 'claim:gpu'), msg(2, str(1, 'dev-1'), str(2, 'Healthy')))),
    msg(13, str(1, 'debug'), msg(2, msg(1, str(1, 'ContainerCreating'))), int(4, false), int(5, 0), str(6, 'busybox'), str(7, '')),
    msg(15, str(1, 'gpu'), str(2, 'pod-gpu')),
    int(17, 3),
  );
  const r = decodeKubernetesProtobuf(envelope('v1', 'Pod', meta('p'), status));
  assert.deepEqual(r.unknownFields, []);
  assert.deepEqual(r.object.status, {
    phase: 'Running',
    initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed' } }, ready: false, restartCount: 0, image: 'busybox', imageID: '', started: false }],
    containerStatuses: [{
      name: 'app', state: { running: { startedAt: '2026-01-02T03:04:05Z' } },
      lastState: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-02T03:04:05Z', finishedAt: '2026-01-02T03:04:06Z', containerID: 'containerd://a' } },
      ready: true, restartCount: 2, image: 'nginx:1', imageID: 'sha256:ab', containerID: 'containerd://b', started: true,
      allocatedResources: { cpu: '0' }, resources: { requests: { memory: '64Mi' } },
      volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
      user: { linux: { uid: 1000, gid: 0, supplementalGroups: [4] } },
      allocatedResourcesStatus: [{ name: 'claim:gpu', resources: [{ resourceID: 'dev-1', health: 'Healthy' }] }],
    }],
    ephemeralContainerStatuses: [{ name: 'debug', state: { waiting: { reason: 'ContainerCreating' } }, ready: false, restartCount: 0, image: 'busybox', imageID: '' }],
    resourceClaimStatuses: [{ name: 'gpu', resourceClaimName: 'pod-gpu' }],
    observedGeneration: 3,
  });
});

test('apps/v1 and batch/v1 status conditions', () => {
  const cond = (...extra: Buffer[]) => [str(1, 'Available'), str(2, 'True'), ...extra];
  const dep = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', meta('d'),
    msg(3, int(1, 2), int(2, 1), msg(6, ...cond(time(6, T0), time(7, T0), str(4, 'MinimumReplicasAvailable'), str(5, 'ok'))), int(9, 0))));
  assert.deepEqual(dep.object.status, {
    observedGeneration: 2, replicas: 1, terminatingReplicas: 0,
    conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2026-01-02T03:04:05Z', lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'MinimumReplicasAvailable', message: 'ok' }],
  });
  const short = [{ type: 'Available', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'R' }];
  for (const [kind, field] of [['ReplicaSet', 6], ['DaemonSet', 10], ['StatefulSet', 10]] as const) {
    const r = decodeKubernetesProtobuf(envelope('apps/v1', kind, meta('x'), msg(3, msg(field, ...cond(time(3, T0), str(4, 'R'))))));
    assert.deepEqual(r.unknownFields, [], kind);
    assert.deepEqual((r.object.status as { conditions: unknown }).conditions, short, kind);
  }
  const job = decodeKubernetesProtobuf(envelope('batch/v1', 'Job', meta('j'),
    msg(3, msg(1, str(1, 'Complete'), str(2, 'True'), time(3, T0), time(4, T0)), msg(8, str(1, 'u1'), str(2, 'u2')))));
  assert.deepEqual(job.object.status, {
    conditions: [{ type: 'Complete', status: 'True', lastProbeTime: '2026-01-02T03:04:05Z', lastTransitionTime: '2026-01-02T03:04:05Z' }],
    uncountedTerminatedPods: { succeeded: ['u1'], failed: ['u2'] },
  });
});

test('Node status in full', () => {
  const status = msg(3,
    msg(1, str(1, 'cpu'), msg(2, str(1, '4'))), msg(2, str(1, 'pods'), msg(2, str(1, '110'))), str(3, 'Running'),
    msg(4, str(1, 'Ready'), str(2, 'True'), time(3, T0), time(4, T0), str(5, 'KubeletReady'), str(6, 'ready')),
    msg(5, str(1, 'InternalIP'), str(2, '10.0.0.1')),
    msg(6, msg(1, int(1, 10250))),
    msg(7, str(1, 'm'), str(2, 's'), str(3, 'b'), str(4, '6.1'), str(5, 'Debian'), str(6, 'berth://1'), str(7, 'v1.32.0'), str(8, ''),
      str(9, 'linux'), str(10, 'amd64'), msg(11, int(1, 0))),
    msg(8, str(1, 'nginx:1'), int(2, 1234)),
    str(9, 'kubernetes.io/csi/x'), msg(10, str(1, 'kubernetes.io/csi/x'), str(2, '/dev/sdb')),
    msg(11, msg(1, msg(2, str(1, 'kube-system'), str(2, 'cfg'), str(5, 'kubelet'))), str(4, 'bad')),
    msg(12, str(1, 'runc'), msg(2, int(1, true), int(2, false))), msg(13, int(1, true)),
  );
  const r = decodeKubernetesProtobuf(envelope('v1', 'Node', msg(1, str(1, 'n1')), msg(2, msg(6, msg(2, str(1, 'kube-system'), str(2, 'cfg'), str(5, 'kubelet')))), status));
  assert.deepEqual(r.unknownFields, []);
  assert.deepEqual(r.object.spec, { configSource: { configMap: { namespace: 'kube-system', name: 'cfg', kubeletConfigKey: 'kubelet' } } });
  assert.deepEqual(r.object.status, {
    capacity: { cpu: '4' }, allocatable: { pods: '110' }, phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-02T03:04:05Z', lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'KubeletReady', message: 'ready' }],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1', osImage: 'Debian', containerRuntimeVersion: 'berth://1',
      kubeletVersion: 'v1.32.0', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64', swap: { capacity: 0 },
    },
    images: [{ names: ['nginx:1'], sizeBytes: 1234 }],
    volumesInUse: ['kubernetes.io/csi/x'], volumesAttached: [{ name: 'kubernetes.io/csi/x', devicePath: '/dev/sdb' }],
    config: { assigned: { configMap: { namespace: 'kube-system', name: 'cfg', kubeletConfigKey: 'kubelet' } }, error: 'bad' },
    runtimeHandlers: [{ name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } }],
    features: { supplementalGroupsPolicy: true },
  });
});

test('in-tree volume sources', () => {
  const vol = (name: string, field: number, ...source: Buffer[]) => msg(1, str(1, name), msg(2, msg(field, ...source)));
  const spec = msg(2,
    vol('gce', 3, str(1, 'pd-1'), str(2, 'ext4'), int(3, 1), int(4, true)),
    vol('iscsi', 8, str(1, '10.0.0.2:3260'), str(2, 'iqn.x'), int(3, 0), str(7, 'a'), str(7, 'b'), msg(10, str(1, 'chap')), str(12, 'init')),
    vol('rbd', 11, str(1, 'm1'), str(2, 'img'), str(4, 'rbd'), msg(7, str(1, 'ceph'))),
    vol('cephfs', 14, str(1, 'm1'), str(2, '/'), int(6, true)),
    vol('azure', 22, str(1, 'd'), str(2, 'uri'), str(3, 'None'), str(4, 'ext4'), int(5, false), str(6, 'Managed')),
    vol('flex', 12, str(1, 'vendor/drv'), mapEntry(5, 'k', 'v')),
  );
  const r = decodeKubernetesProtobuf(envelope('v1', 'Pod', meta('p'), spec));
  assert.deepEqual(r.unknownFields, []);
  assert.deepEqual((r.object.spec as { volumes: unknown }).volumes, [
    { name: 'gce', gcePersistentDisk: { pdName: 'pd-1', fsType: 'ext4', partition: 1, readOnly: true } },
    { name: 'iscsi', iscsi: { targetPortal: '10.0.0.2:3260', iqn: 'iqn.x', lun: 0, portals: ['a', 'b'], secretRef: { name: 'chap' }, initiatorName: 'init' } },
    { name: 'rbd', rbd: { monitors: ['m1'], image: 'img', pool: 'rbd', secretRef: { name: 'ceph' } } },
    { name: 'cephfs', cephfs: { monitors: ['m1'], path: '/', readOnly: true } },
    { name: 'azure', azureDisk: { diskName: 'd', diskURI: 'uri', cachingMode: 'None', fsType: 'ext4', readOnly: false, kind: 'Managed' } },
    { name: 'flex', flexVolume: { driver: 'vendor/drv', options: { k: 'v' } } },
  ]);
});
