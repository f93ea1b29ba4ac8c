import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, parseReference } from './reference.ts';
import { credentialFor, parseChallenges } from './registry-auth.ts';
import { isLoopbackRegistry } from './registry-client.ts';
import { selectPlatform } from './manifest.ts';

const D = 'sha256:' + 'a'.repeat(64);

test('short names normalise to docker.io/library', () => {
  assert.deepEqual(parseReference('nginx'), { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined });
  assert.equal(formatReference(parseReference('user/app:1.2')), 'docker.io/user/app:1.2');
  assert.equal(formatReference(parseReference('nginx', { defaultRegistry: 'reg.local:5000' })), 'reg.local:5000/nginx:latest');
});

test('registries, ports, digests', () => {
  assert.deepEqual(parseReference(`127.0.0.1:5000/a/b:v1@${D}`), { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'v1', digest: D });
  assert.deepEqual(parseReference(`localhost/x@${D}`), { registry: 'localhost', repository: 'x', tag: undefined, digest: D });
  assert.equal(parseReference('index.docker.io/library/busybox').registry, 'docker.io');
  assert.throws(() => parseReference('Upper/Case'), /bad repository/);
  assert.throws(() => parseReference('x@sha256:zz'), /bad digest/);
  assert.throws(() => parseReference(''), /empty/);
});

test('WWW-Authenticate parsing', () => {
  const c = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' } }]);
  assert.deepEqual(parseChallenges('Basic realm="x"'), [{ scheme: 'basic', params: { realm: 'x' } }]);
});

test('dockerconfigjson credentials', () => {
  const auth = Buffer.from('u:p:w').toString('base64');
  assert.deepEqual(credentialFor('docker.io', [{ auths: { 'https://index.docker.io/v1/': { auth } } }]), { username: 'u', password: 'p:w' });
  assert.deepEqual(credentialFor('r.io', ['not json', JSON.stringify({ 'r.io': { username: 'a', password: 'b' } })]), { username: 'a', password: 'b' });
  assert.equal(credentialFor('other.io', [{ auths: { 'r.io': { auth } } }]), undefined);
});

test('loopback detection and platform selection', () => {
  assert.ok(isLoopbackRegistry('127.0.0.1:5000') && isLoopbackRegistry('127.9.9.9') && isLoopbackRegistry('localhost:1'));
  assert.ok(!isLoopbackRegistry('10.0.0.1:5000') && !isLoopbackRegistry('docker.io'));
  const m = (architecture: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 1, platform: { os: 'linux', architecture } });
  assert.equal(selectPlatform({ schemaVersion: 2, manifests: [m('arm64'), { ...m('amd64'), size: 2 }] }, { os: 'linux', architecture: 'amd64' }).size, 2);
  assert.throws(() => selectPlatform({ schemaVersion: 2, manifests: [m('arm64')] }, { os: 'linux', architecture: 'amd64' }), /has: linux\/arm64/);
});
