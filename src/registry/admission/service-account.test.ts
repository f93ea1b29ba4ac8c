import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ApiError } from '../../errors/index.ts';
import { openStore } from '../../storage/index.ts';
import { resourceTypes } from '../kinds/index.ts';
import { Registry } from '../registry.ts';
import { AdmissionChain } from './admission.ts';
import { serviceAccountAdmission, TOKEN_MOUNT_PATH, tokenVolumeSource } from './service-account.ts';

/** A registry with the plugin, ServiceAccounts read from its own store; `a` has a `default` and a `robot`. */
async function withRegistry(fn: (r: Registry, sas: Map<string, KubeObject>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sa-admission-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const sas = registry.store('', 'serviceaccounts')!;
    await sas.create('a', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    await sas.create('a', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' }, imagePullSecrets: [{ name: 'regcred' }] });
    await sas.create('a', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false });
    const cache = new Map<string, KubeObject>();
    let n = 0;
    registry.admission = new AdmissionChain([serviceAccountAdmission({
      lookup: {
        cached: (ns, name) => cache.get(`${ns}/${name}`),
        live: (ns, name) => sas.get(ns, name).catch(() => undefined),
      },
      random: () => ['xxxxx', 'abcde'][n++ % 2],
      retryMs: () => 5,
    })]);
    await fn(registry, cache);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const pod = (spec: Record<string, unknown> = {}, name = 'p'): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', image: 'host', command: ['true'] }], ...spec },
});

test('a pod gets the default ServiceAccount and the kube-api-access volume in every container', async () => {
  await withRegistry(async (registry) => {
    const p = await registry.store('', 'pods')!.create('a', pod({ initContainers: [{ name: 'i', image: 'host', command: ['true'] }] }));
    assert.equal(p.spec.serviceAccountName, 'default');
    assert.deepEqual(p.spec.volumes, [{ name: 'kube-api-access-xxxxx', projected: tokenVolumeSource() }]);
    const mount = { name: 'kube-api-access-xxxxx', readOnly: true, mountPath: TOKEN_MOUNT_PATH };
    assert.deepEqual(p.spec.containers[0].volumeMounts, [mount]);
    assert.deepEqual(p.spec.initContainers[0].volumeMounts, [mount]);
    assert.equal(p.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds, 3607);
  });
});

test('a volume named with the prefix is taken as the token volume; a container mounting its own token path is left alone', async () => {
  await withRegistry(async (registry) => {
    const p = await registry.store('', 'pods')!.create('a', pod({
      volumes: [{ name: 'kube-api-access-xxxxx', emptyDir: {} }],
      containers: [
        { name: 'c', image: 'host', command: ['true'] },
        { name: 'own', image: 'host', command: ['true'], volumeMounts: [{ name: 'kube-api-access-xxxxx', mountPath: TOKEN_MOUNT_PATH }] },
      ],
    }));
    // The emptyDir's name starts with the prefix: upstream takes it as the token volume and adds none.
    assert.equal(p.spec.volumes.length, 1);
    assert.deepEqual(p.spec.containers[0].volumeMounts, [{ name: 'kube-api-access-xxxxx', readOnly: true, mountPath: TOKEN_MOUNT_PATH }]);
    assert.equal(p.spec.containers[1].volumeMounts.length, 1);
    const q = await registry.store('', 'pods')!.create('a', pod({ volumes: [{ name: 'data', emptyDir: {} }] }, 'q'));
    assert.deepEqual(q.spec.volumes.map((v: { name: string }) => v.name), ['data', 'kube-api-access-xxxxx']);
  });
});

test('automountServiceAccountToken: the pod decides, else the ServiceAccount; imagePullSecrets come from the ServiceAccount', async () => {
  await withRegistry(async (registry) => {
    const pods = registry.store('', 'pods')!;
    assert.equal((await pods.create('a', pod({ automountServiceAccountToken: false }, 'off'))).spec.volumes, undefined);
    assert.equal((await pods.create('a', pod({ serviceAccountName: 'quiet' }, 'quiet'))).spec.volumes, undefined);
    assert.equal((await pods.create('a', pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true }, 'loud'))).spec.volumes.length, 1);
    const robot = await pods.create('a', pod({ serviceAccountName: 'robot' }, 'robot'));
    assert.deepEqual(robot.spec.imagePullSecrets, [{ name: 'regcred' }]);
    const own = await pods.create('a', pod({ serviceAccountName: 'robot', imagePullSecrets: [{ name: 'mine' }] }, 'own'));
    assert.deepEqual(own.spec.imagePullSecrets, [{ name: 'mine' }]);
  });
});

test('a pod naming a missing ServiceAccount is refused with 403 and nothing is stored; the cache is asked first', async () => {
  await withRegistry(async (registry, cache) => {
    const pods = registry.store('', 'pods')!;
    await assert.rejects(pods.create('a', pod({ serviceAccountName: 'ghost' }, 'g')), (err: ApiError) => {
      assert.equal(err.http, 403);
      assert.equal(err.message, 'pods "g" is forbidden: error looking up service account a/ghost: serviceaccount "ghost" not found');
      return true;
    });
    await assert.rejects(pods.create('a', { ...pod({ serviceAccountName: 'ghost' }, ''), metadata: { generateName: 'web-' } }), /pods "web-" is forbidden/);
    assert.equal((await pods.list('a', {})).items.length, 0);
    cache.set('a/ghost', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ghost', namespace: 'a' } });
    assert.ok(await pods.create('a', pod({ serviceAccountName: 'ghost' }, 'g')));
  });
});

test('the default ServiceAccount is waited for a moment after its namespace appears', async () => {
  await withRegistry(async (registry) => {
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
    const created = new Promise((r) => setTimeout(r, 20)).then(() => registry.store('', 'serviceaccounts')!.create('fresh', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }));
    const p = await registry.store('', 'pods')!.create('fresh', pod());
    await created;
    assert.equal(p.spec.serviceAccountName, 'default');
  });
});
