import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { R } from './client.ts';
import { SharedInformer, podForm, withoutManagedFields } from './informer.ts';
import { internPod, sameJson } from './object-intern.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';
import type { KubeObject } from '../apis/object.ts';

/** A pod as bench scale's server stores it (a ReplicaSet's, bound, Running as berth sim reports it), without managedFields. */
function benchPod(i: number, opts: { rs?: string; second?: number; command?: string[] } = {}): KubeObject {
  const rs = opts.rs ?? 'scale-1000-3-cb6f6b4b6';
  const t = `2026-12-07T15:33:${String(opts.second ?? 51).padStart(2, '0')}Z`;
  const uid = `b5204b44-a9dd-44ba-913a-${String(i).padStart(12, '0')}`;
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${rs}-`, namespace: 'scale', name: `${rs}-p${i}`, uid, resourceVersion: String(1000 + i), creationTimestamp: t,
      labels: { app: rs.replace(/-[^-]+$/, ''), 'pod-template-hash': rs.replace(/^.*-/, '') }, annotations: {},
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `1cdf687b-901b-435b-9a17-${rs.length}ea5ab141e97`, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      containers: [{
        name: 'c', image: 'host', command: opts.command ?? ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } },
        imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        volumeMounts: [{ name: `kube-api-access-${i}`, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
      }],
      dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler',
      serviceAccountName: 'default',
      volumes: [{ name: `kube-api-access-${i}`, projected: { defaultMode: 420, sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ] } }],
      priority: 0, preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      ],
      enableServiceLinks: true, serviceAccount: 'default', nodeName: `sim-${i % 50}`,
    },
    status: {
      phase: 'Running', qosClass: 'Burstable',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
      hostIP: `10.10.0.${i % 50}`, hostIPs: [{ ip: `10.10.0.${i % 50}` }], podIP: `10.42.${i >> 8}.${i & 255}`, podIPs: [{ ip: `10.42.${i >> 8}.${i & 255}` }], startTime: t,
      containerStatuses: [{
        name: 'c', image: 'host', imageID: `host@sha256:${'0'.repeat(64)}`, containerID: `berth-sim://${uid.slice(-12)}-c`, ready: true, started: true,
        restartCount: 0, state: { running: { startedAt: t } }, lastState: {},
      }],
    },
  };
}

/** A pod as the informer gets it from a watch event: decoded from its own JSON. */
const decoded = (pod: KubeObject): KubeObject => JSON.parse(JSON.stringify(pod));

describe('object-intern: shared parts of cached pods', () => {
  it('sameJson: equal JSON values, key order included', () => {
    assert.ok(sameJson({ a: [1, { b: 'x' }], c: null }, { a: [1, { b: 'x' }], c: null }));
    assert.ok(sameJson({}, {}));
    assert.ok(!sameJson({ a: 1, b: 2 }, { b: 2, a: 1 }), 'another key order is another JSON text');
    assert.ok(!sameJson({ a: 1 }, { a: 1, b: undefined }));
    assert.ok(!sameJson([1, 2], [1, 2, 3]));
    assert.ok(!sameJson([], {}));
    assert.ok(!sameJson({ a: { b: 1 } }, { a: { b: '1' } }));
    assert.ok(!sameJson(null, {}));
  });

  it('leaves every pod equal to what it was (its JSON the same text) while pods share their repeated parts', () => {
    const a = decoded(benchPod(1)), b = decoded(benchPod(2)), c = decoded(benchPod(3, { second: 52, command: ['sleep', '2'], rs: 'scale-500-4-aa11bb22c' }));
    const before = [a, b, c].map((p) => JSON.stringify(p));
    for (const p of [a, b, c]) internPod(p);
    assert.deepEqual([a, b, c].map((p) => JSON.stringify(p)), before, 'nothing observable changed');
    assert.equal(b.spec.tolerations, a.spec.tolerations, 'tolerations shared');
    assert.equal(b.spec.volumes[0].projected, a.spec.volumes[0].projected, 'the token volume projection shared');
    assert.notEqual(b.spec.volumes[0], a.spec.volumes[0], 'the volume itself is the pod own (its name differs)');
    assert.equal(b.spec.containers[0].resources, a.spec.containers[0].resources);
    assert.equal(b.spec.securityContext, a.spec.securityContext);
    assert.equal(b.metadata.annotations, a.metadata.annotations);
    assert.equal(b.metadata.labels, a.metadata.labels, 'one ReplicaSet: its labels');
    assert.equal(b.metadata.ownerReferences, a.metadata.ownerReferences, 'one ReplicaSet: its owner references');
    assert.equal(b.status.conditions, a.status.conditions, 'conditions set in the same second');
    assert.equal(b.status.containerStatuses[0].state, a.status.containerStatuses[0].state);
    assert.equal(c.status.containerStatuses[0].lastState, a.status.containerStatuses[0].lastState, 'empty objects shared');
    assert.equal(c.spec.tolerations, a.spec.tolerations, 'what every pod has, across ReplicaSets');
    assert.notEqual(c.spec.containers[0].command, a.spec.containers[0].command, 'another command is not shared');
    assert.notEqual(c.status.conditions, a.status.conditions, 'other times are not shared');
    assert.notEqual(c.metadata.labels, a.metadata.labels, 'another ReplicaSet: its own labels');
    assert.notEqual(c.metadata.ownerReferences, a.metadata.ownerReferences);
    assert.notEqual(b.status.containerStatuses[0], a.status.containerStatuses[0], 'container IDs differ');
  });

  it('shares a part only with one of the same key order, and leaves odd shapes alone', () => {
    const a = decoded(benchPod(10)), b = decoded(benchPod(11));
    internPod(a);
    b.spec.tolerations = b.spec.tolerations.map((t: Record<string, unknown>) => ({ operator: t.operator, key: t.key, effect: t.effect, tolerationSeconds: t.tolerationSeconds }));
    const text = JSON.stringify(b);
    internPod(b);
    assert.notEqual(b.spec.tolerations, a.spec.tolerations);
    assert.equal(JSON.stringify(b), text);
    const odd = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'odd', labels: null, annotations: 'x' }, spec: { containers: 'no', volumes: [null, 1], tolerations: {} }, status: null } as unknown as KubeObject;
    const oddText = JSON.stringify(odd);
    assert.equal(JSON.stringify(internPod(odd)), oddText);
    assert.equal(JSON.stringify(internPod({} as KubeObject)), '{}');
  });

  it('takes a third of the heap a trimmed pod took (3,000 decoded bench pods)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapOf = (form: (o: KubeObject) => KubeObject): number => {
      const texts = Array.from({ length: 3000 }, (_, i) => JSON.stringify(benchPod(100_000 + i, { rs: `scale-10-${i % 30}-h${i % 30}`, second: Math.floor(i / 500) })));
      gc();
      const h0 = process.memoryUsage().heapUsed;
      const kept = texts.map((t) => form(JSON.parse(t)));
      texts.length = 0;
      gc();
      const bytes = (process.memoryUsage().heapUsed - h0) / kept.length;
      assert.equal(kept.length, 3000);
      return bytes;
    };
    const trimmed = heapOf(withoutManagedFields);
    const shared = heapOf(podForm);
    assert.ok(shared < trimmed * 0.45, `a pod: ${shared.toFixed(0)} B shared against ${trimmed.toFixed(0)} B trimmed`);
  });
});

describe('object-intern in the informer', () => {
  let env: TestEnv;
  before(async () => { env = await startTestEnv(); });
  after(async () => { await env.close(); });

  it('pod informers cache pods with shared parts (listed and watched) and hand deleted pods over whole', async () => {
    const { client } = env;
    const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'intern-test' } },
      spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1000'], resources: { requests: { cpu: '10m' } } }] } });
    await client.create(R.pods, 'default', pod('listed'));
    const inf = new SharedInformer(client, R.pods, { namespace: 'default', labelSelector: 'app=intern-test' });
    const gone: KubeObject[] = [];
    inf.addHandlers({ delete: (o) => gone.push(o) });
    inf.start();
    await inf.synced();
    await client.create(R.pods, 'default', pod('watched'));
    await waitFor(() => inf.get('default/watched'), 'watched');
    const [a, b] = [inf.get('default/listed')!, inf.get('default/watched')!];
    assert.equal(a.metadata.managedFields, undefined, 'trimmed too');
    assert.equal(b.spec.containers[0].resources, a.spec.containers[0].resources, 'a template part shared between a listed and a watched pod');
    assert.equal(b.spec.containers[0].command, a.spec.containers[0].command);
    const stored = await client.get(R.pods, 'default', 'watched');
    assert.deepEqual(b, withoutManagedFields(stored), 'the cached pod is the stored one, trimmed');
    await client.delete(R.pods, 'default', 'watched', { gracePeriodSeconds: 0 });
    await waitFor(() => gone.length === 1, 'deleted');
    assert.equal(gone[0]!.metadata.name, 'watched');
    assert.equal(gone[0]!.metadata.managedFields, undefined);
    inf.stop();
  });
});
