import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { bootstrapTokenSecret } from '../../auth/bootstrap/bootstrap-token.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { startControllerEnv, waitFor } from '../control-plane.fixture.ts';
import { TokenCleaner } from './token-cleaner.ts';

test('expired bootstrap tokens are deleted (also when the expiration does not parse); others when they expire', async () => {
  const e = await startControllerEnv((env, factory) => new TokenCleaner(env.client, factory));
  try {
    const c = e.env.client;
    const create = (s: KubeObject) => c.create(R.secrets, 'kube-system', s);
    await create(bootstrapTokenSecret({ id: 'expird', secret: '0123456789abcdef' }, { expiration: new Date(Date.now() - 1000) }));
    const garbled = bootstrapTokenSecret({ id: 'garble', secret: '0123456789abcdef' });
    garbled.stringData.expiration = 'next tuesday';
    await create(garbled);
    await create(bootstrapTokenSecret({ id: 'soonxx', secret: '0123456789abcdef' }, { expiration: new Date(Date.now() + 1500) }));
    await create(bootstrapTokenSecret({ id: 'foreve', secret: '0123456789abcdef' }));
    // Not a bootstrap token: never touched, whatever its data says.
    await create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-opaque' }, stringData: { expiration: '2000-01-01T00:00:00Z' } });
    const gone = async (name: string) => c.get(R.secrets, 'kube-system', name).then(() => false, (err) => isNotFound(err));
    await waitFor(() => gone('bootstrap-token-expird'), 'expired token deleted');
    await waitFor(() => gone('bootstrap-token-garble'), 'unparsable expiration deleted');
    assert.equal(await gone('bootstrap-token-soonxx'), false, 'not yet');
    await waitFor(() => gone('bootstrap-token-soonxx'), 'deleted once it expires', 8000);
    assert.equal(await gone('bootstrap-token-foreve'), false);
    assert.equal(await gone('bootstrap-token-opaque'), false);
  } finally {
    await e.stop();
  }
});
