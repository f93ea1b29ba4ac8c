/**
 * managedFields as the API server keeps them: encoding and order, Update and Apply entries, times,
 * client-sent managedFields, and the client-side-apply bridges for `kubectl`.
 * Upstream cases: k8s.io/apimachinery/pkg/util/managedfields/internal (*_test.go).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../object.ts';
import { applyObject, ConflictsError, LAST_APPLIED, trackUpdate, type TrackContext } from './field-manager.ts';
import { FieldSet } from './field-set.ts';
import { decodeManagedFields, encodeManagedFields, printManager, managerIdentifier } from './managed-fields.ts';
import { typeForKind } from './schema.ts';

let clock = 0;
const ctx = (extra: Partial<TrackContext> = {}): TrackContext => ({
  type: typeForKind('apps/v1', 'Deployment'), apiVersion: 'apps/v1', ignored: FieldSet.of([{ field: 'status' }]),
  now: () => new Date(Date.UTC(2026, 11, 6, 10, 0, clock++)).toISOString().replace(/\.\d+Z$/, 'Z'), ...extra,
});

const dep = (replicas: number, labels: Record<string, string> = { app: 'a' }): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns', labels },
  spec: { replicas, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
});

test('managedFields: entries decode, encode in upstream order and refuse garbage', () => {
  const entries = [
    { manager: 'z', operation: 'Update', apiVersion: 'apps/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    { manager: 'a', operation: 'Update', apiVersion: 'apps/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:x': {} } } }, subresource: 'status' },
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: '2027-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } },
  ];
  const m = decodeManagedFields(entries);
  assert.deepEqual(encodeManagedFields(m).map((e) => e.manager), ['kubectl', 'a', 'z'], 'Apply first, then time, then manager');
  assert.deepEqual(Object.keys(encodeManagedFields(m)[1]), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource']);
  assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Patch', fieldsV1: {} }]), /operation/);
  assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', fieldsV1: { 'q:x': {} } }]), /fieldsV1/);
  assert.throws(() => decodeManagedFields('x'), /must be a list/);
});

test('conflict messages name managers as upstream prints them', () => {
  assert.equal(printManager(managerIdentifier({ manager: 'kubectl', operation: 'Apply' })), '"kubectl"');
  assert.equal(printManager(managerIdentifier({ manager: 'kubectl-scale', operation: 'Update', apiVersion: 'apps/v1', subresource: 'scale' })), '"kubectl-scale" with subresource "scale" using apps/v1');
});

test('Update: create records the creator without server fields; a later writer takes what it changed', () => {
  const created = dep(1);
  created.metadata.managedFields = trackUpdate(undefined, created, 'kubectl-create', ctx());
  const [e] = created.metadata.managedFields as any[];
  assert.equal(e.manager, 'kubectl-create');
  assert.equal(e.operation, 'Update');
  assert.equal(e.fieldsV1['f:metadata']['f:name'], undefined, 'metadata.name is never owned');
  assert.deepEqual(e.fieldsV1['f:metadata']['f:labels'], { '.': {}, 'f:app': {} });
  assert.deepEqual(e.fieldsV1['f:spec']['f:replicas'], {});
  const scaled = structuredClone(created);
  scaled.spec.replicas = 3;
  scaled.status = { replicas: 3 };
  scaled.metadata.managedFields = trackUpdate(created, scaled, 'kubectl-scale', ctx());
  const byName = Object.fromEntries((scaled.metadata.managedFields as any[]).map((x) => [x.manager, x]));
  assert.deepEqual(byName['kubectl-scale'].fieldsV1, { 'f:spec': { 'f:replicas': {} } }, 'status is reset on the main resource: not owned');
  assert.equal(byName['kubectl-create'].fieldsV1['f:spec']['f:replicas'], undefined);
  // A write that changes nothing leaves managedFields (and their times) alone.
  const again = structuredClone(scaled);
  assert.deepEqual(trackUpdate(scaled, again, 'kubectl-scale', ctx()), scaled.metadata.managedFields);
});

test('Update: managedFields sent by the client replace the stored ones (how kubectl migrates owners)', () => {
  const live = dep(1);
  live.metadata.managedFields = trackUpdate(undefined, live, 'kubectl-client-side-apply', ctx());
  const next = structuredClone(live);
  next.metadata.managedFields = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
  const out = trackUpdate(live, next, 'kubectl', ctx()) as any[];
  assert.deepEqual(out.map((x) => `${x.manager}/${x.operation}`), ['kubectl/Apply']);
  // [{}] clears them: only what this write changes is recorded (here nothing).
  next.metadata.managedFields = [{}];
  assert.deepEqual(trackUpdate(live, next, 'kubectl', ctx()), []);
  // Undecodable ones are ignored: the stored ones stay.
  next.metadata.managedFields = [{ manager: 'x', operation: 'Bogus' }];
  assert.deepEqual((trackUpdate(live, next, 'kubectl', ctx()) as any[]).map((x) => x.manager), ['kubectl-client-side-apply']);
});

test('Apply: conflict with an Update owner; force takes it; the apply entry has no server fields', () => {
  const live = applyObject(undefined, dep(1), 'kubectl', false, ctx()).object;
  const scaled = structuredClone(live);
  scaled.spec.replicas = 4;
  scaled.metadata.managedFields = trackUpdate(live, scaled, 'hpa', ctx());
  assert.throws(() => applyObject(scaled, dep(2), 'kubectl', false, ctx()), (err: unknown) => err instanceof ConflictsError && /hpa/.test(err.conflicts[0].manager));
  const forced = applyObject(scaled, dep(2), 'kubectl', true, ctx());
  assert.equal(forced.object.spec.replicas, 2);
  assert.deepEqual((forced.object.metadata.managedFields as any[]).map((x) => x.manager), ['kubectl']);
  const noop = applyObject(forced.object, dep(2), 'kubectl', false, ctx());
  assert.equal(noop.changed, false);
});

test('Apply by kubectl over a client-side-applied object: values equal to last-applied are no conflict; the annotation follows', () => {
  const csa = dep(2, { app: 'a', old: 'x' });
  const lastApplied = JSON.stringify(dep(2, { app: 'a', old: 'x' }));
  csa.metadata.annotations = { [LAST_APPLIED]: lastApplied };
  csa.metadata.managedFields = trackUpdate(undefined, csa, 'kubectl-client-side-apply', ctx());
  // Same replicas as last applied: the CSA owner's replicas may be taken.
  const result = applyObject(csa, dep(2, { app: 'a' }), 'kubectl', false, ctx());
  assert.equal(JSON.parse(result.object.metadata.annotations![LAST_APPLIED]).metadata.labels.old, undefined);
  // A value that differs from what was last applied (someone scaled by hand) still conflicts…
  const scaled = structuredClone(csa);
  scaled.spec.replicas = 7;
  scaled.metadata.managedFields = trackUpdate(csa, scaled, 'kubectl-scale', ctx());
  assert.throws(() => applyObject(scaled, dep(2), 'kubectl', false, ctx()), ConflictsError);
  // …and another manager name gets no such bridge.
  assert.throws(() => applyObject(csa, dep(3), 'other', false, ctx()), ConflictsError);
});

test('Update entries are capped at 10: the oldest fold into one ancient-changes entry per apiVersion', () => {
  let obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
  const cm = { type: typeForKind('v1', 'ConfigMap'), apiVersion: 'v1' };
  for (let i = 0; i < 12; i++) {
    const next = structuredClone(obj);
    next.data[`k${i}`] = String(i);
    next.metadata.managedFields = trackUpdate(obj, next, `writer-${String(i).padStart(2, '0')}`, { ...cm, now: () => `2026-12-06T10:00:${String(i).padStart(2, '0')}Z` });
    obj = next;
  }
  const entries = obj.metadata.managedFields as any[];
  assert.equal(entries.length, 10);
  const ancient = entries.find((e) => e.manager === 'ancient-changes');
  // writer-00 opens the bucket, writer-01 and writer-02 fold into it: 12 - 2 = 10 entries.
  assert.deepEqual(ancient.fieldsV1, { 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
  assert.equal(ancient.time, '2026-12-06T10:00:02Z', 'the time of the last one folded in');
  assert.deepEqual(entries.map((e) => e.manager), ['ancient-changes', ...Array.from({ length: 9 }, (_, i) => `writer-${String(i + 3).padStart(2, '0')}`)]);
});
