/**
 * Secrets encrypted at rest, against a real `bin/berth server --encryption-provider-config FILE`
 * and real kubectl: the SQLite row (read with better-sqlite3, as `etcdctl get` would show it) is
 * `k8s:enc:…` ciphertext while kubectl reads the Secret in clear; key rotation (a new key listed
 * first: old Secrets still read, new ones written with it, `kubectl replace` re-encrypts); the
 * three providers; and the server's log never holds a Secret's value, also on its refusals.
 * Run: node --import tsx --test test/e2e/secrets-at-rest.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startBerth, type BerthServer } from '../support/berth-server.ts';

const VALUE = `s3cr3t-${randomBytes(6).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const key = () => randomBytes(32).toString('base64');

function encryptionConfig(providers: string[]): string {
  return ['apiVersion: apiserver.config.k8s.io/v1', 'kind: EncryptionConfiguration', 'resources:', '  - resources: [secrets]', '    providers:', ...providers.map((p) => `      - ${p}`)].join('\n');
}
const aescbc = (name: string, k: string) => `aescbc: {keys: [{name: ${name}, secret: "${k}"}]}`;
const secretbox = (name: string, k: string) => `secretbox: {keys: [{name: ${name}, secret: "${k}"}]}`;
const aesgcm = (name: string, k: string) => `aesgcm: {keys: [{name: ${name}, secret: "${k}"}]}`;

describe('secrets at rest (kubectl, real server, SQLite rows)', () => {
  let berth: BerthServer;
  let dir = '';
  let configPath = '';
  const key1 = key();
  const key2 = key();
  const k = (args: string[], input?: string) => berth.kubectl(args, { input });
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** The stored value of a Secret, straight from state.db (the newest row of its key). */
  const row = (name: string, ns = 'default'): string => {
    const db = new Database(join(berth.dataDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      const r = db.prepare('SELECT value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1').get(`/registry/core/secrets/${ns}/${name}`) as { value: string } | undefined;
      assert.ok(r, `no row for secret ${ns}/${name}`);
      return r.value;
    } finally {
      db.close();
    }
  };
  const secretValue = async (name: string) => Buffer.from(await ok(['get', 'secret', name, '-o', 'jsonpath={.data.password}']), 'base64').toString();
  const createSecret = (name: string) => ok(['create', 'secret', 'generic', name, `--from-literal=password=${VALUE}`]);
  const restartWith = async (providers: string[]) => {
    writeFileSync(configPath, encryptionConfig(providers));
    await berth.restart();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-e2e-enc-'));
    configPath = join(dir, 'encryption.yaml');
    writeFileSync(configPath, encryptionConfig([aescbc('key1', key1), 'identity: {}']));
    berth = await startBerth({ extraArgs: ['--encryption-provider-config', configPath] });
  });
  after(async () => {
    const logs = berth.logs();
    await berth.cleanup();
    await rm(dir, { recursive: true, force: true });
    assert.equal(logs.includes(VALUE) || logs.includes(b64(VALUE)), false, 'a Secret value reached the server log');
    assert.equal(logs.includes(key1) || logs.includes(key2), false, 'a key reached the server log');
  });

  it('a Secret is ciphertext in SQLite and clear through kubectl; other kinds are stored as before', async () => {
    await createSecret('one');
    const stored = row('one');
    assert.match(stored, /^k8s:enc:aescbc:v1:key1:[A-Za-z0-9+/]+=*$/);
    assert.equal(stored.includes(b64(VALUE)) || stored.includes(VALUE) || stored.includes('"one"'), false);
    assert.equal(await secretValue('one'), VALUE);
    assert.match(await ok(['get', 'secrets']), /^one\s+Opaque\s+1\s+/m);
    await ok(['create', 'configmap', 'plain', '--from-literal=a=b']);
    const db = new Database(join(berth.dataDir, 'state.db'), { readonly: true });
    const cm = db.prepare('SELECT value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1').get('/registry/core/configmaps/default/plain') as { value: string };
    db.close();
    assert.match(cm.value, /^\{"apiVersion":"v1"/);
    // kubectl edit-style updates keep it encrypted.
    await ok(['label', 'secret', 'one', 'x=y']);
    assert.match(row('one'), /^k8s:enc:aescbc:v1:key1:/);
  });

  it('rotation: a new key first — old Secrets still read, new ones written with it; kubectl replace re-encrypts', async () => {
    await createSecret('before-rotation');
    await restartWith([secretbox('key2', key2), aescbc('key1', key1), 'identity: {}']);
    assert.equal(await secretValue('before-rotation'), VALUE);
    assert.match(row('before-rotation'), /^k8s:enc:aescbc:v1:key1:/);
    await createSecret('after-rotation');
    assert.match(row('after-rotation'), /^k8s:enc:secretbox:v1:key2:/);
    assert.equal(await secretValue('after-rotation'), VALUE);
    // The documented way to finish a rotation: rewrite every Secret, unchanged, in every namespace.
    const all = await ok(['get', 'secrets', '--all-namespaces', '-o', 'json']);
    await ok(['replace', '-f', '-'], all);
    for (const name of ['one', 'before-rotation', 'after-rotation']) assert.match(row(name), /^k8s:enc:secretbox:v1:key2:/, name);
    // key1 can go now.
    await restartWith([secretbox('key2', key2), 'identity: {}']);
    assert.equal(await secretValue('before-rotation'), VALUE);
  });

  it('a value no configured key reads is a 500 naming the key, never the value; aesgcm works too', async () => {
    await restartWith([aesgcm('key3', randomBytes(16).toString('base64')), 'identity: {}']);
    const r = await k(['get', 'secret', 'one']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Internal error occurred: \/registry\/core\/secrets\/default\/one: no configured key reads values prefixed "k8s:enc:secretbox:v1:key2:"/);
    await createSecret('gcm');
    assert.match(row('gcm'), /^k8s:enc:aesgcm:v1:key3:/);
    assert.equal(await secretValue('gcm'), VALUE);
  });

  it('refusals do not echo or log the value: an invalid Secret is a 422 without it', async () => {
    const bad = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad' }, data: { 'not a key!': b64(VALUE), ok: `${VALUE}-not-base64!` } });
    const r = await k(['create', '-f', '-'], bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is invalid/);
    assert.equal(r.stderr.includes(VALUE) || r.stderr.includes(b64(VALUE)), false, r.stderr);
  });

  it('a bad configuration stops the server from starting, naming the field but not the key', async () => {
    const { spawnSync } = await import('node:child_process');
    const badPath = join(dir, 'bad.yaml');
    const shortKey = randomBytes(20).toString('base64');
    writeFileSync(badPath, encryptionConfig([aescbc('k', shortKey)]));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'bin', 'berth'), 'server', '--data-dir', join(dir, 'never'), '--listen', '127.0.0.1:0', '--encryption-provider-config', badPath], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: Invalid value: \\?"REDACTED\\?": secret is not of the expected length, got 20/);
    assert.equal(r.stderr.includes(shortKey), false);
  });
});
