import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { issuedBy } from '../pki/certificate-info.ts';
import { openStore } from '../storage/index.ts';
import { createLogger } from '../util/log.ts';
import { ensureClusterPki } from './cluster-pki.ts';
import { CLUSTER_PKI_KEY, ensureSharedClusterPki } from './cluster-pki-share.ts';
import { SERVER_TOKEN_FILE } from './cluster-pki-seal.ts';

const log = createLogger({ level: 'error' });

async function fixture() {
  const root = await mkdtemp(join(tmpdir(), 'berth-pki-share-'));
  const store = await openStore('sqlite', join(root, 'store'));
  const dir = (n: string) => join(root, n);
  return { root, store, dir, async cleanup() { await store.close(); await rm(root, { recursive: true, force: true }); } };
}

test('the first server publishes its CA and ServiceAccount key; a second server on the store takes them and issues its own leaves', async () => {
  const f = await fixture();
  try {
    const first = await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: ['198.18.0.1'] }, log);
    const stored = (await f.store.get(CLUSTER_PKI_KEY))!.value;
    assert.ok(stored.includes(first.ca.cert.split('\n')[1]), 'published: the CA certificate readable');
    for (const secret of [first.ca.key, first.serviceAccountKey.key]) {
      assert.ok(!stored.includes(secret.split('\n')[1]), 'the CA and ServiceAccount keys sealed, not in clear');
    }
    const token = await readFile(join(f.dir('a'), SERVER_TOKEN_FILE), 'utf8');
    assert.match(token, /^[\w-]{43}\n$/, 'the first server made a token (DATA/server-token)');
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'] }, log), /sealed with its server token: give this server --server-token-file/);
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'], serverToken: 'not-the-token' }, log), /does not open the cluster PKI/);
    const second = await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'], serverToken: token }, log);
    assert.equal(second.ca.cert, first.ca.cert);
    assert.equal(second.caPin, first.caPin);
    assert.deepEqual(second.serviceAccountKey, first.serviceAccountKey, 'one token signing key: tokens from either server verify on both');
    assert.notEqual(second.serving.cert, first.serving.cert, 'each server its own serving certificate');
    assert.ok(issuedBy(second.serving.cert, first.ca.cert) && issuedBy(second.admin.cert, first.ca.cert));
    assert.equal(await readFile(join(f.dir('b'), 'pki', 'ca.key'), 'utf8'), first.ca.key);
    // A restart of either changes nothing.
    const again = await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'] }, log);
    assert.deepEqual(again.renewed, []);
    // A restart given a token that does not open the store's value is refused, as a first start is.
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'], serverToken: 'not-the-token' }, log), /does not open the cluster PKI/);
    // A restart whose ServiceAccount key went astray takes the cluster's back.
    await writeFile(join(f.dir('a'), 'pki', 'sa.key'), 'garbage');
    const healed = await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: ['198.18.0.1'] }, log);
    assert.deepEqual(healed.serviceAccountKey, first.serviceAccountKey);
  } finally {
    await f.cleanup();
  }
});

test('a server whose data dir already has another CA is refused with a way out, and nothing of it is changed', async () => {
  const f = await fixture();
  try {
    await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: [] }, log);
    const other = await ensureClusterPki({ dataDir: f.dir('c'), sans: [] });
    const serverToken = await readFile(join(f.dir('a'), SERVER_TOKEN_FILE), 'utf8');
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('c'), sans: [], serverToken }, log), /is not the cluster's.*move .* away/s);
    assert.equal(await readFile(join(f.dir('c'), 'pki', 'ca.crt'), 'utf8'), other.ca.cert);
  } finally {
    await f.cleanup();
  }
});

test('an existing single server moved onto a fresh store publishes the CA it has (its nodes keep trusting it)', async () => {
  const f = await fixture();
  try {
    const before = await ensureClusterPki({ dataDir: f.dir('a'), sans: [] });
    const after = await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: [] }, log);
    assert.equal(after.ca.cert, before.ca.cert);
    assert.equal(JSON.parse((await f.store.get(CLUSTER_PKI_KEY))!.value)['ca.crt'], before.ca.cert);
  } finally {
    await f.cleanup();
  }
});

test('servers starting at the same moment on a fresh store end with one CA', async () => {
  const f = await fixture();
  try {
    // Given one token, as k3s's servers are given one --token.
    const all = await Promise.all(['a', 'b', 'c'].map((n) => ensureSharedClusterPki(f.store, { dataDir: f.dir(n), sans: [], serverToken: 'one-token-for-all' }, log)));
    assert.equal(new Set(all.map((p) => p.ca.cert)).size, 1);
    assert.equal(new Set(all.map((p) => p.serviceAccountKey.key)).size, 1);
    for (const p of all) assert.ok(issuedBy(p.serving.cert, p.ca.cert));
  } finally {
    await f.cleanup();
  }
});

test('a store entry that lacks a file is refused', async () => {
  const f = await fixture();
  try {
    await f.store.create(CLUSTER_PKI_KEY, JSON.stringify({ 'ca.crt': 'x' }));
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: [] }, log), /lacks ca\.key/);
  } finally {
    await f.cleanup();
  }
});

test('a store written before the seal: the next server seals it with its token, and the data dir keeps the token for restarts', async () => {
  const f = await fixture();
  try {
    const before = await ensureClusterPki({ dataDir: f.dir('a'), sans: [] });
    const read = (n: string) => readFile(join(f.dir('a'), 'pki', n), 'utf8');
    const clear = { 'ca.crt': before.ca.cert, 'ca.key': before.ca.key, 'sa.key': await read('sa.key'), 'sa.pub': await read('sa.pub') };
    await f.store.create(CLUSTER_PKI_KEY, JSON.stringify(clear));
    const b = await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: [] }, log);
    assert.equal(b.ca.cert, before.ca.cert, 'the cluster CA taken as it was');
    const stored = JSON.parse((await f.store.get(CLUSTER_PKI_KEY))!.value);
    assert.equal(stored['ca.key'], undefined, 'sealed now');
    assert.ok(stored.sealed?.data);
    // A restart of b needs no flag (DATA/server-token); another server needs a copy of it.
    assert.deepEqual((await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: [] }, log)).renewed, []);
    await writeFile(join(f.root, 'copy'), await readFile(join(f.dir('b'), SERVER_TOKEN_FILE)));
    const c = await ensureSharedClusterPki(f.store, { dataDir: f.dir('c'), sans: [], serverToken: await readFile(join(f.root, 'copy'), 'utf8') }, log);
    assert.equal(c.ca.key, before.ca.key);
  } finally {
    await f.cleanup();
  }
});

test('a sealed entry that lacks a part, or was tampered with, is refused', async () => {
  const f = await fixture();
  try {
    await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: [], serverToken: 't' }, log);
    const kv = (await f.store.get(CLUSTER_PKI_KEY))!;
    const v = JSON.parse(kv.value);
    v.sealed.data = Buffer.from('{"ca.key":"attacker"}').toString('base64');
    const rev = await f.store.update(CLUSTER_PKI_KEY, JSON.stringify(v), kv.modRevision);
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: [], serverToken: 't' }, log), /does not open the cluster PKI/);
    delete v.sealed.iv;
    await f.store.update(CLUSTER_PKI_KEY, JSON.stringify(v), rev);
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: [], serverToken: 't' }, log), /sealed but lacks sealed\.iv/);
  } finally {
    await f.cleanup();
  }
});
