import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { RESOURCES } from '../../apis/resources.ts';
import type { AdmissionRequest, Operation } from './admission.ts';
import { defaultTolerationSecondsAdmission } from './default-toleration-seconds.ts';

const info = (group: string, plural: string) => RESOURCES.find((r) => r.group === group && r.plural === plural)!;
const user = { name: 'u', groups: ['system:authenticated'] };
const pod = (tolerations?: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) } });
const req = (operation: Operation, object: KubeObject, o: Partial<AdmissionRequest> = {}): AdmissionRequest =>
  ({ operation, resource: info('', 'pods'), subresource: '', namespace: 'd', name: 'p', user, dryRun: false, object, ...o });
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

test('a pod without them gets not-ready and unreachable NoExecute tolerations of 30 s (Berth\'s default; Kubernetes 300)', async () => {
  const p = pod();
  await defaultTolerationSecondsAdmission().admit!(req('CREATE', p));
  assert.deepEqual(p.spec.tolerations, [
    { key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
  ]);
});

test('the seconds are configurable per taint; a pod tolerating a taint itself keeps its own', async () => {
  const p = pod([{ key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]);
  await defaultTolerationSecondsAdmission({ notReadySeconds: 100, unreachableSeconds: 7 }).admit!(req('CREATE', p));
  assert.deepEqual(p.spec.tolerations.map((t: any) => [t.key, t.tolerationSeconds]), [[NOT_READY, 5], [UNREACHABLE, 7]]);
  // Tolerating every taint (no key, Exists) or the key with no effect counts as tolerating.
  const all = pod([{ operator: 'Exists' }]);
  await defaultTolerationSecondsAdmission().admit!(req('CREATE', all));
  assert.deepEqual(all.spec.tolerations, [{ operator: 'Exists' }]);
  const noEffect = pod([{ key: UNREACHABLE, operator: 'Exists' }]);
  await defaultTolerationSecondsAdmission().admit!(req('CREATE', noEffect));
  assert.deepEqual(noEffect.spec.tolerations.map((t: any) => t.key), [UNREACHABLE, NOT_READY]);
  // A NoSchedule toleration of the key does not count.
  const noSchedule = pod([{ key: UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }]);
  await defaultTolerationSecondsAdmission().admit!(req('CREATE', noSchedule));
  assert.equal(noSchedule.spec.tolerations.length, 3);
});

test('only pod creates: updates, subresources and other kinds are left alone', async () => {
  const plugin = defaultTolerationSecondsAdmission();
  for (const r of [req('UPDATE', pod(), { oldObject: pod() }), req('CREATE', pod(), { subresource: 'binding' }), req('CREATE', pod(), { resource: info('', 'configmaps') })]) {
    await plugin.admit!(r);
    assert.equal(r.object!.spec.tolerations, undefined, `${r.operation} ${r.resource.plural}/${r.subresource}`);
  }
});

test('a negative or fractional setting is refused at start', () => {
  assert.throws(() => defaultTolerationSecondsAdmission({ unreachableSeconds: -1 }), /--default-unreachable-toleration-seconds must be a whole number of seconds ≥ 0, got -1/);
  assert.throws(() => defaultTolerationSecondsAdmission({ notReadySeconds: 1.5 }), /--default-not-ready-toleration-seconds/);
});
