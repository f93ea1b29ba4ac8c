import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from './backend.ts';
import { instrumentBackend, resourceOfKey, storageRegistry } from './storage-metrics.ts';

/** The count of etcd_request_duration_seconds for one operation and type, from the exposition. */
async function countOf(operation: string, type: string): Promise<number> {
  const line = (await storageRegistry.metrics()).split('\n')
    .find((l) => l.startsWith(`etcd_request_duration_seconds_count{operation="${operation}",type="${type}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('resourceOfKey names types as upstream: <plural>.<group>, core without a group', () => {
  assert.equal(resourceOfKey('/registry/core/pods/ns/p'), 'pods');
  assert.equal(resourceOfKey('/registry/apps/deployments/ns/d'), 'deployments.apps');
  assert.equal(resourceOfKey('/registry/core/pods'), 'pods');
  assert.equal(resourceOfKey('/compact'), 'compact');
});

test('the instrumented backend times its key-value calls by operation and type, passes the rest through, keeps errors', async () => {
  const calls: string[] = [];
  const fake = {
    name: 'fake',
    async get(key: string) { calls.push(`get ${key}`); return undefined; },
    async create(key: string) { calls.push(`create ${key}`); throw new Error('full'); },
    currentRevision() { calls.push('rev'); return 7; },
  } as unknown as Backend;
  const b = instrumentBackend(fake) as unknown as { name: string; get(k: string): Promise<unknown>; create(k: string): Promise<unknown>; currentRevision(): number };
  const before = await countOf('get', 'pods');
  await b.get('/registry/core/pods/a/p1');
  await b.get('/registry/core/pods/b/p2');
  await assert.rejects(b.create('/registry/apps/deployments/a/d'), /full/);
  assert.equal(b.currentRevision(), 7);
  assert.equal(b.name, 'fake');
  assert.equal(b.get, b.get, 'one wrapper per method, not a new function per access');
  assert.deepEqual(calls, ['get /registry/core/pods/a/p1', 'get /registry/core/pods/b/p2', 'create /registry/apps/deployments/a/d', 'rev']);
  assert.equal(await countOf('get', 'pods') - before, 2);
  assert.ok(await countOf('create', 'deployments.apps') >= 1, 'a failed call is timed too');
});
