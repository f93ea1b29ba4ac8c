import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { issuedBy } from '../pki/certificate-info.ts';
import { openStore } from '../storage/index.ts';
import { createLogger } from '../util/log.ts';
import { ensureClusterPki } from './cluster-pki.ts';
import { CLUSTER_PKI_KEY, ensureSharedClusterPki } from './cluster-pki-share.ts';

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
    assert.ok(await f.store.get(CLUSTER_PKI_KEY), 'published');
    const second = await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'] }, log);
    assert.equal(second.ca.cert, first.ca.cert);
    assert.equal(second.caPin, first.caPin);
    assert.deepEqual(second.serviceAccountKey, first.serviceAccountKey, 'one token signing key: tokens from either server verify on both');
    assert.notEqual(second.serving.cert, first.serving.cert, 'each server its own serving certificate');
    assert.ok(issuedBy(second.serving.cert, first.ca.cert) && issuedBy(second.admin.cert, first.ca.cert));
    assert.equal(await readFile(join(f.dir('b'), 'pki', 'ca.key'), 'utf8'), first.ca.key);
    // A restart of either changes nothing.
    const again = await ensureSharedClusterPki(f.store, { dataDir: f.dir('b'), sans: ['198.18.0.2'] }, log);
    assert.deepEqual(again.renewed, []);
  } finally {
    await f.cleanup();
  }
});

test('a server whose data dir already has another CA is refused with a way out, and nothing of it is changed', async () => {
  const f = await fixture();
  try {
    await ensureSharedClusterPki(f.store, { dataDir: f.dir('a'), sans: [] }, log);
    const other = await ensureClusterPki({ dataDir: f.dir('c'), sans: [] });
    await assert.rejects(ensureSharedClusterPki(f.store, { dataDir: f.dir('c'), sans: [] }, log), /is not the cluster's.*move .* away/s);
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
    const all = await Promise.all(['a', 'b', 'c'].map((n) => ensureSharedClusterPki(f.store, { dataDir: f.dir(n), sans: [] }, log)));
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
