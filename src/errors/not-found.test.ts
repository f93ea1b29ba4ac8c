import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from './index.ts';
import { orUndefined } from './not-found.ts';

test('orUndefined: the object when found, undefined on NotFound, any other error thrown on', async () => {
  assert.deepEqual(await orUndefined(Promise.resolve({ a: 1 })), { a: 1 });
  assert.equal(await orUndefined(Promise.reject(errors.notFound('', 'services', 'web'))), undefined);
  await assert.rejects(orUndefined(Promise.reject(errors.conflict('', 'services', 'web', 'stale'))), /stale/);
  await assert.rejects(orUndefined(Promise.reject(new Error('disk gone'))), /disk gone/);
});
