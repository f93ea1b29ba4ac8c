import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeKubernetesProtobuf, unknownFieldWarnings } from './decode.ts';
import { messageNames, messageSchema, isSpecialMessage } from './schema.ts';
import { bytes, double, envelope, int, mapEntry, msg, str, varint } from './test-encoder.ts';

/** ObjectMeta with a name (and an always-present zero creationTimestamp, as gogo writes it). */
const meta = (name: string, namespace = '') => msg(1, str(1, name), str(2, ''), str(3, namespace), msg(8));

test('rejects a body without the k8s magic', () => {
  assert.throws(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Pod"}')), /missing the "k8s\\0" prefix/);
});

test('rejects an unsupported kind with a clear message', () => {
  assert.throws(
    () => decodeKubernetesProtobuf(envelope('example.com/v1', 'Widget', meta('r'))),
    { message: 'protobuf decoding of example.com/v1 Widget is not supported; send JSON' },
  );
});

test('rejects a compressed envelope', () => {
  const body = Buffer.concat([envelope('v1', 'ConfigMap', meta('x')), str(3, 'gzip')]);
  assert.throws(() => decodeKubernetesProtobuf(body), /content encoding "gzip"/);
});

test('policy/v1 Eviction with DeleteOptions (pointer zero kept)', () => {
  const body = envelope('policy/v1', 'Eviction',
    meta('victim', 'default'),
    msg(2, int(1, 0), msg(2, str(1, 'uid-1')), str(4, 'Foreground'), str(5, 'All')));
  const r = decodeKubernetesProtobuf(body);
  assert.deepEqual(r.object, {
    apiVersion: 'policy/v1', kind: 'Eviction',
    metadata: { name: 'victim', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'] },
  });
  assert.deepEqual(r.unknownFields, []);
});

test('DeleteOptions is accepted under any group version', () => {
  const r = decodeKubernetesProtobuf(envelope('apps/v1', 'DeleteOptions', int(1, 30), int(3, false)));
  assert.deepEqual(r.object, { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 30, orphanDependents: false });
});

test('autoscaling/v1 Scale and core/v1 Binding', () => {
  const scale = decodeKubernetesProtobuf(envelope('autoscaling/v1', 'Scale', meta('web', 'default'), msg(2, int(1, 5)), msg(3, int(1, 2), str(2, 'app=web'))));
  assert.deepEqual(scale.object, {
    apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 5 }, status: { replicas: 2, selector: 'app=web' },
  });
  const binding = decodeKubernetesProtobuf(envelope('v1', 'Binding', meta('p1', 'default'), msg(2, str(1, 'Node'), str(3, 'node-a'))));
  assert.deepEqual(binding.object, {
    apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1', namespace: 'default' }, target: { kind: 'Node', name: 'node-a' },
  });
});

test('ObjectMeta in full: labels, annotations, ownerReferences, finalizers, times, managedFields', () => {
  const body = envelope('v1', 'ConfigMap', msg(1,
    str(1, ''), str(2, 'gen-'), str(3, 'ns'), str(5, 'u-1'), str(6, '42'), int(7, 3),
    msg(8, int(1, 1767323045)), msg(9, int(1, 1767323100)), int(10, 0),
    mapEntry(11, 'app', 'x'), mapEntry(12, 'note', ''),
    msg(13, str(1, 'Deployment'), str(3, 'd'), str(4, 'u-0'), str(5, 'apps/v1'), int(6, true), int(7, false)),
    str(14, 'a/b'), str(14, 'c/d'),
    msg(17, str(1, 'kubectl'), str(2, 'Update'), msg(4, int(1, 1767323045)), str(6, 'FieldsV1'), msg(7, bytes(1, Buffer.from('{"f:data":{}}')))),
  ), int(4, true));
  assert.deepEqual(decodeKubernetesProtobuf(body).object, {
    apiVersion: 'v1', kind: 'ConfigMap', immutable: true,
    metadata: {
      generateName: 'gen-', namespace: 'ns', uid: 'u-1', resourceVersion: '42', generation: 3,
      creationTimestamp: '2026-01-02T03:04:05Z', deletionTimestamp: '2026-01-02T03:05:00Z', deletionGracePeriodSeconds: 0,
      labels: { app: 'x' }, annotations: { note: '' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u-0', controller: true, blockOwnerDeletion: false }],
      finalizers: ['a/b', 'c/d'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', time: '2026-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }],
    },
  });
});

test('Pod: inline probe handler and volume source, env sources, quantities, packed int64, negative int64', () => {
  const container = msg(2,
    str(1, 'app'), str(2, 'img'),
    msg(6, str(1, 'http'), int(3, 8080), str(4, 'TCP')),
    msg(7, str(1, 'A'), str(2, '1')),
    msg(7, str(1, 'POD_IP'), msg(3, msg(1, str(1, 'v1'), str(2, 'status.podIP')))),
    msg(7, str(1, 'PASS'), msg(3, msg(4, msg(1, str(1, 'creds')), str(2, 'password'), int(3, false)))),
    msg(19, str(1, 'CFG_'), msg(2, msg(1, str(1, 'cfg')))),
    msg(8, msg(1, str(1, 'cpu'), msg(2, str(1, '500m'))), msg(2, str(1, 'memory'), msg(2, str(1, '64Mi')))),
    msg(9, str(1, 'data'), str(3, '/data'), int(2, true)),
    msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 1), str(3, 'http')))), int(2, 5), int(4, 10)),
    msg(11, msg(1, msg(3, msg(1, int(1, 0), int(2, 8080)))), int(7, -1)),
    msg(12, msg(2, msg(1, str(1, 'sh'), str(1, '-c'), str(1, 'sleep 5')))),
    msg(15, msg(1, str(2, 'ALL')), int(4, 0), int(5, true), int(7, false)),
  );
  const spec = msg(2,
    msg(1, str(1, 'data'), msg(2, msg(2, str(1, 'Memory'), msg(2, str(1, '1Gi'))))),
    msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'cfg')), msg(2, str(1, 'k'), str(2, 'p')), int(3, 0o644)))),
    container,
    str(3, 'Always'), int(4, 0), mapEntry(7, 'disk', 'ssd'),
    msg(14, int(2, 1000), bytes(4, Buffer.concat([varint(1), varint(2), varint(3)])), int(5, 2000)),
    msg(22, str(1, 'k'), str(2, 'Exists'), str(4, 'NoExecute'), int(5, 30)),
    msg(18, msg(1, msg(1, msg(1, msg(1, str(1, 'zone'), str(2, 'In'), str(3, 'a'), str(3, 'b')))))),
  );
  const r = decodeKubernetesProtobuf(envelope('v1', 'Pod', meta('p'), spec, msg(3)));
  assert.deepEqual(r.unknownFields, []);
  assert.deepEqual(r.object, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: {},
    spec: {
      volumes: [
        { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'k', path: 'p' }], defaultMode: 420 } },
      ],
      containers: [{
        name: 'app', image: 'img',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [
          { name: 'A', value: '1' },
          { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password', optional: false } } },
        ],
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'cfg' } }],
        resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
        volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10 },
        readinessProbe: { tcpSocket: { port: 8080 }, terminationGracePeriodSeconds: -1 },
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 5'] } } },
        securityContext: { capabilities: { drop: ['ALL'] }, runAsUser: 0, runAsNonRoot: true, allowPrivilegeEscalation: false },
      }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 0, nodeSelector: { disk: 'ssd' },
      securityContext: { runAsUser: 1000, supplementalGroups: [1, 2, 3], fsGroup: 2000 },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } },
    },
  });
});

test('unknown field numbers are skipped and reported with their path', () => {
  const body = envelope('v1', 'Service', meta('s'), msg(2, str(4, 'ClusterIP'), str(99, 'future'), msg(1, int(3, 80), double(77, 1.5))));
  const r = decodeKubernetesProtobuf(body);
  assert.deepEqual(r.object, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
  assert.deepEqual(r.unknownFields, [
    { path: 'spec', message: 'ServiceSpec', field: 99 },
    { path: 'spec.ports[0]', message: 'ServicePort', field: 77 },
  ]);
  assert.deepEqual(unknownFieldWarnings([...r.unknownFields, { path: '', message: 'Service', field: 9 }, r.unknownFields[0]]), [
    'unknown protobuf field 99 in "spec" (ServiceSpec), dropped',
    'unknown protobuf field 77 in "spec.ports[0]" (ServicePort), dropped',
    'unknown protobuf field 9 in Service, dropped',
  ]);
});

test('a field with the wrong wire type is an error, not a silent misread', () => {
  assert.throws(() => decodeKubernetesProtobuf(envelope('v1', 'Namespace', msg(1, int(1, 5)))), /metadata\.name: wire type 0 does not fit a string/);
});

test('schema: every referenced message has a table or is special', () => {
  for (const name of messageNames()) {
    for (const [num, spec] of messageSchema(name)!) {
      const refs = [spec.message, spec.map?.value].filter((x): x is string => !!x);
      for (const ref of refs) {
        const ok = ['string', 'int32', 'int64', 'bool', 'bytes', 'double'].includes(ref) || isSpecialMessage(ref) || !!messageSchema(ref);
        assert.ok(ok, `${name}.${spec.name} (${num}) references unknown message ${ref}`);
      }
    }
  }
});
