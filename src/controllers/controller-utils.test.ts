import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { CONTROLLER_UID_INDEX, ORPHAN_INDEX, claimCandidates, controllerUidIndex, orphanIndex } from './controller-utils.ts';

const pod = (ns: string, name: string, controller?: string, extraRef?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    namespace: ns, name,
    ownerReferences: [
      ...(controller ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: controller, uid: `uid-${controller}`, controller: true }] : []),
      ...(extraRef ? [{ apiVersion: 'v1', kind: 'ConfigMap', name: extraRef, uid: `uid-${extraRef}` }] : []),
    ],
  },
});

/** The informer's indexes over `objs`, built with the index functions the controllers register. */
function indexed(objs: KubeObject[]) {
  const fns: Record<string, (o: KubeObject) => string[]> = { [CONTROLLER_UID_INDEX]: controllerUidIndex, [ORPHAN_INDEX]: orphanIndex };
  return { byIndex: (name: string, value: string) => objs.filter((o) => fns[name]!(o).includes(value)) };
}

test('claim candidates: the owner\'s own and its namespace\'s orphans (a non-controller reference is an orphan), never others\' or another namespace\'s — what a whole-namespace list would let claimObjects take', () => {
  const objs = [
    pod('a', 'mine-1', 'web'), pod('a', 'mine-2', 'web'), pod('a', 'theirs', 'db'),
    pod('a', 'orphan'), pod('a', 'weak-ref', undefined, 'cfg'),
    pod('b', 'orphan-b'), pod('b', 'cross-ns', 'web'),
  ];
  const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { namespace: 'a', name: 'web', uid: 'uid-web' } };
  assert.deepEqual(claimCandidates(indexed(objs), rs).map((p) => p.metadata.name).sort(), ['mine-1', 'mine-2', 'orphan', 'weak-ref']);
  assert.deepEqual(orphanIndex(pod('a', 'x', 'web')), []);
  assert.deepEqual(orphanIndex(pod('a', 'x')), ['a']);
});
