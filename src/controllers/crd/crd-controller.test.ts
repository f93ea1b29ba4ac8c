/**
 * The CRD controller on a real server: conditions and accepted names, a name conflict with another
 * CRD of the group and with a built-in kind, and the cleanup of a deleted CRD's objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestEnv } from '../control-plane.fixture.ts';
import { CRDS } from './crd-controller.ts';
import type { Crd } from '../../apis/custom-resource-definition.ts';
import { isNotFound } from '../../client/errors.ts';

function crd(plural: string, kind: string, group = 'example.com'): Crd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural}.${group}` },
    spec: {
      group, scope: 'Namespaced', names: { plural, kind },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const cond = (c: Crd, type: string) => c.status?.conditions?.find((x) => x.type === type);

test('conditions, name conflicts and cleanup', async (t) => {
  const env = await startTestEnv();
  t.after(() => env.close());
  const { client } = env;
  await client.create(CRDS, undefined, crd('gadgets', 'Gadget'));
  const ok = await until('Established', async () => {
    const c = await client.get(CRDS, undefined, 'gadgets.example.com') as Crd;
    return cond(c, 'Established')?.status === 'True' ? c : undefined;
  });
  assert.equal(cond(ok, 'NamesAccepted')?.reason, 'NoConflicts');
  assert.equal(ok.status?.acceptedNames?.kind, 'Gadget');

  // Another CRD of the group with the same kind, and one taking a built-in kind's plural.
  await client.create(CRDS, undefined, crd('gizmos', 'Gadget'));
  const clash = await until('NamesAccepted False', async () => {
    const c = await client.get(CRDS, undefined, 'gizmos.example.com') as Crd;
    return cond(c, 'NamesAccepted')?.status === 'False' ? c : undefined;
  });
  assert.equal(cond(clash, 'NamesAccepted')?.message, '"gadget" is already in use');
  assert.equal(cond(clash, 'Established')?.status, 'False');
  await client.create(CRDS, undefined, crd('endpointslices', 'MySlice', 'discovery.k8s.io'));
  const builtIn = await until('built-in conflict', async () => {
    const c = await client.get(CRDS, undefined, 'endpointslices.discovery.k8s.io') as Crd;
    return cond(c, 'NamesAccepted') ? c : undefined;
  });
  assert.equal(cond(builtIn, 'NamesAccepted')?.message, '"endpointslices" is already in use');

  // Objects of a deleted CRD go first, then the CRD.
  const ref = { group: 'example.com', version: 'v1', resource: 'gadgets' };
  await until('served', async () => client.list(ref, 'default').then(() => true, () => undefined));
  for (const name of ['a', 'b']) await client.create(ref, 'default', { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name }, spec: {} });
  await client.delete(CRDS, undefined, 'gadgets.example.com');
  await until('CRD gone', async () => client.get(CRDS, undefined, 'gadgets.example.com').then(() => undefined, (e) => (isNotFound(e) ? true : undefined)));
  const left = await env.server.registry.backend.list('/registry/example.com/gadgets/', {});
  assert.equal(left.items.length, 0);
});
