import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../api-server.fixture.ts';
import { storedValueOf } from '../../registry/resource-store.ts';

let api: TestApiServer;
before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { a: 'b' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }] } });

/** The object as the store holds it now, as JSON.stringify writes it (what every response was before). */
async function storedJson(name: string): Promise<string> {
  return JSON.stringify(await api.registry.store('', 'pods')!.get('default', name));
}

/**
 * `body` is the stored object's JSON: the same bytes but for metadata.resourceVersion's place (the
 * splice puts it first in metadata, object-codec.ts) — equal length, equal once parsed.
 */
function assertStoredBytes(body: string, stored: string): void {
  assert.equal(body.length, stored.length, body);
  assert.deepStrictEqual(JSON.parse(body), JSON.parse(stored));
}

test('a write answers with the bytes JSON.stringify gives the stored object (resourceVersion first in metadata)', async () => {
  const created = await api.request('POST', '/api/v1/namespaces/default/pods', { body: pod('r1') });
  assert.equal(created.status, 201);
  assertStoredBytes(created.body, await storedJson('r1'));
  assert.equal(created.headers['content-length'], String(Buffer.byteLength(created.body)));

  const merge = await api.request('PATCH', '/api/v1/namespaces/default/pods/r1', { body: { metadata: { labels: { x: 'y' }, annotations: { note: 'ü' } } }, headers: { 'content-type': 'application/merge-patch+json' } });
  assert.equal(merge.status, 200);
  assertStoredBytes(merge.body, await storedJson('r1'));
  assert.equal(merge.json.metadata.annotations.note, 'ü');
  assert.equal(merge.headers['content-length'], String(Buffer.byteLength(merge.body)), 'UTF-8 bytes counted');

  const status = await api.request('PATCH', '/api/v1/namespaces/default/pods/r1/status', { body: { status: { phase: 'Running', podIP: '10.0.0.9' } }, headers: { 'content-type': 'application/merge-patch+json' } });
  assert.equal(status.status, 200);
  assert.equal(status.json.status.phase, 'Running');
  assertStoredBytes(status.body, await storedJson('r1'));

  const put = await api.request('PUT', '/api/v1/namespaces/default/pods/r1', { body: { ...status.json, metadata: { ...status.json.metadata, annotations: { n: '1' } } } });
  assert.equal(put.status, 200);
  assertStoredBytes(put.body, await storedJson('r1'));

  const deleting = await api.request('DELETE', '/api/v1/namespaces/default/pods/r1');
  assert.equal(deleting.status, 202, 'graceful: the object with its deletionTimestamp');
  assert.ok(deleting.json.metadata.deletionTimestamp);
  assertStoredBytes(deleting.body, await storedJson('r1'));
});

test('a response with warnings (non-ASCII text in a header) still carries the stored bytes', async () => {
  const r = await api.request('POST', '/api/v1/namespaces/default/pods', { body: { ...pod('r2'), spec: { ...pod('r2').spec, bogus: 1 }, metadata: { name: 'r2', labels: { 'ä': 'x' } } } });
  // The label key is invalid: a 422 Status, no object. Then a valid one with an unknown field: a warning.
  assert.equal(r.status, 422);
  const w = await api.request('POST', '/api/v1/namespaces/default/pods?fieldValidation=Warn', { body: { ...pod('r3'), spec: { ...pod('r3').spec, 'bögus': 1 } } });
  assert.equal(w.status, 201);
  assert.deepEqual(w.warnings, ['299 - "unknown field \\"spec.bögus\\""']);
  assertStoredBytes(w.body, await storedJson('r3'));
});

test('what was not stored (dry run) is encoded as before, and a stored write hands its JSON over', async () => {
  const dry = await api.request('POST', '/api/v1/namespaces/default/pods?dryRun=All', { body: pod('r4') });
  assert.equal(dry.status, 201);
  assert.equal(dry.json.metadata.name, 'r4');
  assert.equal(dry.json.metadata.resourceVersion, undefined);
  const pods = api.registry.store('', 'pods')!;
  const obj = await pods.create('default', pod('r5'));
  const stored = storedValueOf(obj);
  assert.ok(stored);
  const { resourceVersion, ...meta } = obj.metadata;
  assert.ok(resourceVersion);
  assert.equal(stored, JSON.stringify({ ...obj, metadata: meta }));
  assert.equal(storedValueOf(await pods.create('default', pod('r6'), { dryRun: true })), undefined);
});
