import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { ApiError } from '../../errors/index.ts';
import type { Backend, WatchEvent } from '../../storage/backend.ts';
import { openStore } from '../../storage/index.ts';
import { ALLOCATION_PREFIX } from '../allocation/allocation-store.ts';
import { resourceTypes } from '../kinds/index.ts';
import { Registry } from '../registry.ts';
import { deleteObject } from '../store-delete.ts';
import { watchResource, type ApiWatchEvent } from '../store-watch.ts';
import { encryptingBackend } from './encrypting-backend.ts';
import { startEtcd } from '../../../test/support/etcd.ts';
import { parseEncryptionConfig } from './encryption-config.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
const SECRET_VALUE = 'hunter2-very-secret';

function config(resources: string[], providers: object[]) {
  const { config: c, errors } = parseEncryptionConfig({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
  assert.deepEqual(errors, []);
  return c!;
}
const aescbc1 = { aescbc: { keys: [{ name: 'key1', secret: key1 }] } };
const secretbox2 = { secretbox: { keys: [{ name: 'key2', secret: key2 }] } };
const identity = { identity: {} };

const secret = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { password: b64(SECRET_VALUE) } });
const rawValue = async (raw: Backend, name: string) => (await raw.get(`/registry/core/secrets/default/${name}`))!.value;

async function withStore(fn: (raw: Backend) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-enc-backend-'));
  const raw = await openStore('sqlite', dir);
  try {
    const r = new Registry(raw, resourceTypes());
    await r.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    await fn(raw);
  } finally {
    await raw.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('a Secret is ciphertext in the store and clear through the registry: create, get, list, watch, delete', async () => {
  await withStore(async (raw) => {
    const registry = new Registry(encryptingBackend(raw, config(['secrets'], [aescbc1, identity])), resourceTypes());
    const secrets = registry.store('', 'secrets')!;
    const events: ApiWatchEvent[] = [];
    const w = await watchResource(secrets, 'default', { resourceVersion: String(await raw.currentRevision()) }, (e) => events.push(e), () => {});
    await secrets.create('default', secret('s'));
    const stored = await rawValue(raw, 's');
    assert.match(stored, /^k8s:enc:aescbc:v1:key1:/);
    assert.equal(stored.includes(b64(SECRET_VALUE)), false);
    assert.equal(stored.includes('"kind"'), false, 'the whole object is sealed');
    assert.equal((await secrets.get('default', 's')).data.password, b64(SECRET_VALUE));
    assert.equal((await secrets.list('default')).items[0].data.password, b64(SECRET_VALUE));
    for (let i = 0; i < 100 && !events.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((events[0].object as KubeObject).data.password, b64(SECRET_VALUE));
    w.close();
    const gone = await deleteObject(secrets, 'default', 's');
    assert.equal(gone.obj.data.password, b64(SECRET_VALUE));
    // Other resources are stored as they were.
    await registry.store('', 'configmaps')!.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
    assert.match((await raw.get('/registry/core/configmaps/default/c'))!.value, /^\{"apiVersion":"v1"/);
  });
});

test('rotation: a new key first reads the old secrets; a write, even unchanged, re-encrypts with it', async () => {
  await withStore(async (raw) => {
    const before = new Registry(encryptingBackend(raw, config(['secrets'], [aescbc1, identity])), resourceTypes());
    await before.store('', 'secrets')!.create('default', secret('old'));
    await new Registry(raw, resourceTypes()).store('', 'secrets')!.create('default', secret('plain'));
    const after = new Registry(encryptingBackend(raw, config(['secrets'], [secretbox2, aescbc1, identity])), resourceTypes());
    const secrets = after.store('', 'secrets')!;
    assert.equal((await secrets.get('default', 'old')).data.password, b64(SECRET_VALUE));
    assert.equal((await secrets.get('default', 'plain')).data.password, b64(SECRET_VALUE));
    await secrets.create('default', secret('new'));
    assert.match(await rawValue(raw, 'new'), /^k8s:enc:secretbox:v1:key2:/);
    assert.match(await rawValue(raw, 'old'), /^k8s:enc:aescbc:v1:key1:/);
    // kubectl replace of an unchanged object: stale, so written again with the writing key.
    for (const name of ['old', 'plain']) {
      const cur = await secrets.get('default', name);
      const replaced = await secrets.update('default', name, cur);
      assert.notEqual(replaced.metadata.resourceVersion, cur.metadata.resourceVersion);
      assert.match(await rawValue(raw, name), /^k8s:enc:secretbox:v1:key2:/);
    }
    // Current values are not rewritten by an unchanged update.
    const fresh = await secrets.get('default', 'new');
    assert.equal((await secrets.update('default', 'new', fresh)).metadata.resourceVersion, fresh.metadata.resourceVersion);
    // Without the old key (and identity) the old value cannot be read: a 500 naming the key, never the value.
    const noOld = new Registry(encryptingBackend(raw, config(['secrets'], [secretbox2])), resourceTypes());
    await before.store('', 'secrets')!.create('default', secret('old2'));
    await assert.rejects(noOld.store('', 'secrets')!.get('default', 'old2'), (e: Error) =>
      /no configured key reads values prefixed "k8s:enc:aescbc:v1:key1:"/.test(e.message) && !e.message.includes(b64(SECRET_VALUE)));
  });
});

test('without the configuration, an encrypted value is a clear 500; allocations are never encrypted', async () => {
  await withStore(async (raw) => {
    const enc = encryptingBackend(raw, config(['*.*'], [aescbc1, identity]));
    await new Registry(enc, resourceTypes()).store('', 'secrets')!.create('default', secret('s'));
    await assert.rejects(new Registry(raw, resourceTypes()).store('', 'secrets')!.get('default', 's'), (e: ApiError) =>
      e.http === 500 && e.message.includes('the stored value is encrypted (k8s:enc:aescbc:v1:key1:): start the API server with the --encryption-provider-config that wrote it'));
    await enc.create(`${ALLOCATION_PREFIX}clusterip/10.43.0.5`, '{"owner":{}}');
    assert.equal((await raw.get(`${ALLOCATION_PREFIX}clusterip/10.43.0.5`))!.value, '{"owner":{}}');
    // Corrupt JSON: the parser's message (which quotes the value) does not reach the error.
    await raw.create('/registry/core/configmaps/default/bad', `{"data":{"k":"${SECRET_VALUE}"}`);
    await assert.rejects(new Registry(raw, resourceTypes()).store('', 'configmaps')!.get('default', 'bad'), (e: ApiError) =>
      e.http === 500 && e.message.endsWith('/registry/core/configmaps/default/bad: the stored value is not valid JSON'));
  });
});

test('a watch that meets a value it cannot read ends with an error; other watches pass events through untouched', async () => {
  await withStore(async (raw) => {
    const enc = encryptingBackend(raw, config(['secrets'], [secretbox2]));
    const from = await raw.currentRevision();
    const errs: Error[] = [];
    const seen: WatchEvent[] = [];
    const w = enc.watch('/registry/core/secrets/', { afterRevision: from, onEvents: (e) => seen.push(...e), onError: (e) => errs.push(e) });
    const cmEvents: WatchEvent[] = [];
    const viaRaw: WatchEvent[] = [];
    const wc = enc.watch('/registry/core/configmaps/', { afterRevision: from, onEvents: (e) => cmEvents.push(...e), onError: () => {} });
    const wr = raw.watch('/registry/core/configmaps/', { afterRevision: from, onEvents: (e) => viaRaw.push(...e), onError: () => {} });
    await raw.create('/registry/core/configmaps/default/c', '{}');
    await raw.create('/registry/core/secrets/default/x', 'k8s:enc:aescbc:v1:key1:AAAA');
    for (let i = 0; i < 200 && (!errs.length || !cmEvents.length || !viaRaw.length); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, 0);
    assert.equal(errs.length, 1);
    assert.match(errs[0].message, /no configured key/);
    assert.equal(cmEvents[0], viaRaw[0], 'the same event object: decoded once for every watcher');
    w.close(); wc.close(); wr.close();
  });
});

test('on etcd too: the stored value is ciphertext, reads are clear', async () => {
  const etcd = await startEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'berth-enc-etcd-'));
  const raw = await openStore(`etcd://${etcd.endpoint}`, dir);
  try {
    const registry = new Registry(encryptingBackend(raw, config(['secrets'], [secretbox2, identity])), resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    await registry.store('', 'secrets')!.create('default', secret('e'));
    const stored = await rawValue(raw, 'e');
    assert.match(stored, /^k8s:enc:secretbox:v1:key2:[A-Za-z0-9+/]+=*$/);
    assert.equal(stored.includes(b64(SECRET_VALUE)), false);
    assert.equal((await registry.store('', 'secrets')!.get('default', 'e')).data.password, b64(SECRET_VALUE));
  } finally {
    await raw.close();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
