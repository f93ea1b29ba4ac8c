import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';
import { applyPatch } from './apply-patch.ts';
import { PatchError } from './patch-error.ts';

const DEPLOY = 'io.k8s.api.apps.v1.Deployment';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', finalizers: ['a', 'b'], labels: { app: 'web' } },
  spec: {
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    template: {
      spec: {
        containers: [
          { name: 'a', image: 'img:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], ports: [{ containerPort: 80 }] },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
    },
  },
});

test('kubectl apply: delete env Y, add port 81, with $setElementOrder', () => {
  const patch = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'a' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'X' }],
              '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 81 }],
              env: [{ $patch: 'delete', name: 'Y' }],
              name: 'a',
              ports: [{ containerPort: 81 }],
            },
          ],
        },
      },
    },
  };
  const expected = deployment();
  expected.spec.template.spec.containers[0].env = [{ name: 'X', value: '1' }];
  expected.spec.template.spec.containers[0].ports = [{ containerPort: 80 }, { containerPort: 81 }];
  assert.deepEqual(applyStrategicMergePatch(deployment(), patch, DEPLOY), expected);
});

test('merge by key updates in place and appends new items; lists without strategy replace', () => {
  const out: any = applyStrategicMergePatch(deployment(), {
    spec: { template: { spec: { containers: [{ name: 'a', image: 'img:2' }, { name: 'b', image: 'b' }], tolerations: [{ key: 'k' }] } } },
  }, DEPLOY);
  assert.deepEqual(out.spec.template.spec.containers.map((c: any) => [c.name, c.image, c.env?.length]), [['a', 'img:2', 2], ['b', 'b', undefined]]);
  assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'k' }]);
  const replaced: any = applyStrategicMergePatch(deployment(), { metadata: { ownerReferences: [] }, spec: { template: { spec: { containers: [{ name: 'c' }, { $patch: 'replace' }] } } } }, DEPLOY);
  assert.deepEqual(replaced.spec.template.spec.containers, [{ name: 'c' }]);
});

test('$setElementOrder interleaves server-only items by their server position', () => {
  const orig = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 's' }, { name: 'b' }] } } } };
  const out: any = applyStrategicMergePatch(orig, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'c' }], containers: [{ name: 'c' }] } } } }, DEPLOY);
  // Kubernetes' mergeSortedSlice: s (server index 1) goes before b (server index 2).
  assert.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['s', 'b', 'a', 'c']);
  const noOrder: any = applyStrategicMergePatch(orig, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } } } }, DEPLOY);
  assert.deepEqual(noOrder.spec.template.spec.containers.map((c: any) => c.name), ['s', 'b', 'a']);
});

test('primitive merge lists, $deleteFromPrimitiveList, null, $retainKeys, map $patch', () => {
  const out: any = applyStrategicMergePatch(deployment(), {
    metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'], labels: { app: null, tier: 'x' } },
    spec: { replicas: null, strategy: { $retainKeys: ['type'], type: 'Recreate' } },
  }, DEPLOY);
  assert.deepEqual(out.metadata.finalizers, ['a', 'c']);
  assert.deepEqual(out.metadata.labels, { tier: 'x' });
  assert.equal('replicas' in out.spec, false);
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  const rep: any = applyStrategicMergePatch(deployment(), { metadata: { labels: { $patch: 'replace', only: 'this' } }, spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'Z', value: '3' }, { $patch: 'replace' }] }] } } } }, DEPLOY);
  assert.deepEqual(rep.metadata.labels, { only: 'this' });
  assert.deepEqual(rep.spec.template.spec.containers[0].env, [{ name: 'Z', value: '3' }]);
  const del: any = applyStrategicMergePatch(deployment(), { spec: { strategy: { $patch: 'delete' } } }, DEPLOY);
  assert.equal('strategy' in del.spec, false);
});

test('statefulset undo: $patch replace on the template', () => {
  const orig = { spec: { template: { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'x', image: 'old', env: [{ name: 'E' }] }] } } } };
  const out: any = applyStrategicMergePatch(orig, { spec: { template: { $patch: 'replace', spec: { containers: [{ name: 'x', image: 'new' }] } } } }, 'io.k8s.api.apps.v1.StatefulSet');
  assert.deepEqual(out.spec.template, { spec: { containers: [{ name: 'x', image: 'new' }] } });
});

test('errors: missing merge key, unknown directive', () => {
  assert.throws(() => applyStrategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, DEPLOY), /does not contain declared merge key: name/);
  assert.throws(() => applyStrategicMergePatch(deployment(), { spec: { $patch: 'frob' } }, DEPLOY), PatchError);
});

test('applyPatch selects by content type', () => {
  const d = deployment();
  assert.equal((applyPatch('application/merge-patch+json', d, { spec: { replicas: 3 } }, 'apps/v1', 'Deployment') as any).spec.replicas, 3);
  assert.equal((applyPatch('application/json-patch+json', d, [{ op: 'replace', path: '/spec/replicas', value: 4 }], 'apps/v1', 'Deployment') as any).spec.replicas, 4);
  const smp: any = applyPatch('application/strategic-merge-patch+json; charset=utf-8', d, { spec: { template: { spec: { containers: [{ name: 'a', image: 'z' }] } } } }, 'apps/v1', 'Deployment');
  assert.equal(smp.spec.template.spec.containers[0].env.length, 2);
  const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as PatchError).code; } return 0; };
  assert.equal(code(() => applyPatch('application/apply-patch+yaml', d, {}, 'apps/v1', 'Deployment')), 415);
  assert.equal(code(() => applyPatch('application/strategic-merge-patch+json', d, {}, 'example.com/v1', 'Widget')), 415);
  assert.equal(code(() => applyPatch('text/plain', d, {}, 'apps/v1', 'Deployment')), 415);
  assert.deepEqual(d, deployment(), 'original untouched');
});

test('service ports merge by port; pod conditions by type', () => {
  const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
  const out: any = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, 'io.k8s.api.core.v1.Service');
  assert.deepEqual(out.spec.ports, [{ port: 80, targetPort: 9090 }, { port: 443 }]);
  const pod = { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } };
  const p: any = applyStrategicMergePatch(pod, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'io.k8s.api.core.v1.Pod');
  assert.deepEqual(p.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }]);
});
