import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { blockingDependents, decideForDependent } from './owner-policy.ts';

const leaf = { hasDependents: false };

test('owners all present: keep', () => {
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'solid' }, { uid: 'b', state: 'solid' }], leaf), { action: 'keep' });
  assert.deepEqual(decideForDependent([], leaf), { action: 'keep' });
});

test('owners all gone: delete in the background, or as the dependent\'s own finalizers say', () => {
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'dangling' }], leaf), { action: 'delete', propagationPolicy: 'Background' });
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'dangling' }], { ...leaf, finalizers: ['orphan'] }), { action: 'delete', propagationPolicy: 'Orphan' });
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'dangling' }], { ...leaf, finalizers: ['foregroundDeletion'] }), { action: 'delete', propagationPolicy: 'Foreground' });
});

test('another owner keeps it: only the references to gone and waiting owners go', () => {
  assert.deepEqual(
    decideForDependent([{ uid: 'a', state: 'dangling' }, { uid: 'b', state: 'solid' }, { uid: 'c', state: 'waiting' }], leaf),
    { action: 'remove-references', uids: ['a', 'c'] },
  );
});

test('under a foreground-deleting owner: foreground when it has dependents of its own, else background', () => {
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'waiting' }], { hasDependents: true }), { action: 'delete', propagationPolicy: 'Foreground' });
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'waiting' }], leaf), { action: 'delete', propagationPolicy: 'Background' });
  assert.deepEqual(decideForDependent([{ uid: 'a', state: 'waiting' }, { uid: 'b', state: 'dangling' }], { hasDependents: true }), { action: 'delete', propagationPolicy: 'Foreground' });
});

test('only dependents with blockOwnerDeletion hold a foreground deletion', () => {
  const dep = (name: string, block?: boolean): KubeObject => ({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'o', blockOwnerDeletion: block }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x', blockOwnerDeletion: true }] },
  });
  assert.deepEqual(blockingDependents('o', [dep('a', true), dep('b'), dep('c', false)]).map((d) => d.metadata.name), ['a']);
});
