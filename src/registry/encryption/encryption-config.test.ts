import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadEncryptionConfig, parseEncryptionConfig } from './encryption-config.ts';

const head = { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration' };
const key32 = randomBytes(32).toString('base64');
const aescbc = (name = 'key1', secret = key32) => ({ aescbc: { keys: [{ name, secret }] } });

test('resources resolve exact name, then the group wildcard, then *.*; an earlier entry wins', () => {
  const { config, errors } = parseEncryptionConfig({
    ...head,
    resources: [
      { resources: ['secrets', 'deployments.apps'], providers: [aescbc('a')] },
      { resources: ['*.apps'], providers: [{ secretbox: { keys: [{ name: 'b', secret: key32 }] } }] },
      { resources: ['secrets'], providers: [{ identity: {} }] },
      { resources: ['*.'], providers: [{ aesgcm: { keys: [{ name: 'c', secret: randomBytes(16).toString('base64') }] } }] },
      { resources: ['*.*'], providers: [{ identity: {} }, aescbc('d')] },
    ],
  });
  assert.deepEqual(errors, []);
  const w = (g: string, r: string) => config!.transformerFor(g, r)?.writer;
  assert.equal(w('', 'secrets'), 'aescbc:a');
  assert.equal(w('apps', 'deployments'), 'aescbc:a');
  assert.equal(w('apps', 'daemonsets'), 'secretbox:b');
  assert.equal(w('', 'configmaps'), 'aesgcm:c');
  assert.equal(w('batch', 'jobs'), 'identity');
});

test('without *.*, other resources are not encrypted', () => {
  const { config } = parseEncryptionConfig({ ...head, resources: [{ resources: ['secrets'], providers: [aescbc(), { identity: {} }] }] });
  assert.equal(config!.transformerFor('', 'configmaps'), undefined);
  assert.equal(config!.transformerFor('', 'secrets')!.keys.length, 2);
});

test('refusals name the field and never the key', () => {
  const { config, errors } = parseEncryptionConfig({
    apiVersion: 'v1', kind: 'EncryptionConfiguration',
    resources: [
      { resources: ['Secrets', '*', 'events.events.k8s.io', 'foo.*'], providers: [aescbc('k', 'not base64!'), aescbc('k', randomBytes(20).toString('base64')), { kms: { name: 'x' } }, { aescbc: { keys: [] }, identity: {} }, {}] },
      { resources: ['secrets', 'secrets', '*.'], providers: [] },
    ],
  });
  assert.equal(config, undefined);
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(lines, [
    'apiVersion: Unsupported value: "v1": supported values: "apiserver.config.k8s.io/v1"',
    `resources[0].resources: Invalid value: []string{"Secrets", "*", "events.events.k8s.io", "foo.*"}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked`,
    'resources[0].resources[0]: Invalid value: "Secrets": resource name should not contain capital letters',
    "resources[0].resources[1]: Invalid value: \"*\": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources",
    "resources[0].resources[2]: Invalid value: \"events.events.k8s.io\": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file",
    'resources[0].resources[3]: Invalid value: "foo.*": encrypting the same resource across groups is not supported',
    'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secrets must be base64 encoded',
    'resources[0].providers[1].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 20, expected one of [16 24 32]',
    'resources[0].providers[2].kms: Invalid value: "": KMS providers are not supported by Berth: use aescbc, aesgcm or secretbox',
    'resources[0].providers[3]: Invalid value: "": more than one provider specified in a single element, should split into different list elements',
    'resources[0].providers[4]: Invalid value: "": provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity',
    'resources[1].resources: Invalid value: []string{"secrets", "secrets", "*."}: the same resource cannot be specified multiple times',
    'resources[1].resources: Invalid value: []string{"secrets", "secrets", "*."}: using overlapping resources such as \'secrets\' and \'*.\' in the same resource list is not allowed as they will be masked',
    'resources[1].providers: Required value: at least one resources[1].providers is required',
  ]);
  assert.equal(lines.some((l) => l.includes(key32)), false);
});

test('loading a file: a YAML error says where, not what the line holds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-enc-'));
  try {
    const path = join(dir, 'enc.yaml');
    writeFileSync(path, `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - aescbc: {keys: [{name: k, secret: ${key32}}]}\n`);
    assert.equal(loadEncryptionConfig(path).transformerFor('', 'secrets')?.writer, 'aescbc:k');
    writeFileSync(path, `resources: [\n  secret: ${key32}: x\n`);
    assert.throws(() => loadEncryptionConfig(path), (e: Error) => /invalid YAML \([A-Z_]+\) at line \d+/.test(e.message) && !e.message.includes(key32));
    assert.throws(() => loadEncryptionConfig(join(dir, 'missing.yaml')), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
