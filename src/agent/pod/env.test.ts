import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { resolveEnv, expandArgs } from './env.ts';
import { expandVars } from './expand.ts';
import type { ObjectLookup } from './lookup.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function lookupOf(objs: { cms?: Record<string, KubeObject>; secrets?: Record<string, KubeObject> }): ObjectLookup & { calls: number } {
  const l = {
    calls: 0,
    async configMap(ns: string, name: string) {
      l.calls++;
      return objs.cms?.[`${ns}/${name}`];
    },
    async secret(ns: string, name: string) {
      l.calls++;
      return objs.secrets?.[`${ns}/${name}`];
    },
  };
  return l;
}

const pod: KubeObject = {
  metadata: { name: 'web', namespace: 'ns1', uid: 'u-1', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'hi' } },
  spec: { serviceAccountName: 'sa1', containers: [{ name: 'c', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } } }] },
};
const extras = { nodeName: 'node-a', hostIP: '10.0.0.1', podIP: '10.88.0.5', podIPs: ['10.88.0.5', 'fd00::5'], nodeAllocatable: { cpu: '4', memory: '8Gi' } };

test('expandVars follows the kubelet rules', () => {
  const vars: Record<string, string> = { A: 'a', B: 'b' };
  const get = (n: string) => vars[n];
  assert.equal(expandVars('$(A)-$(B)', get), 'a-b');
  assert.equal(expandVars('$$(A)', get), '$(A)');
  assert.equal(expandVars('$(MISSING)', get), '$(MISSING)');
  assert.equal(expandVars('$A $ $(A', get), '$A $ $(A');
  assert.equal(expandVars('x$', get), 'x$');
  assert.equal(expandVars('$$$$', get), '$$');
});

test('expandArgs expands command and args against env', () => {
  assert.deepEqual(expandArgs(['echo', '$(GREETING) $(WHO)', '$$(GREETING)'], { GREETING: 'hello', WHO: 'you' }), ['echo', 'hello you', '$(GREETING)']);
});

test('envFrom with prefix, then env overriding and expanding earlier vars', async () => {
  const lookup = lookupOf({
    cms: { 'ns1/cfg': { metadata: { name: 'cfg' }, data: { HOST: 'db', PORT: '5432', 'BAD=KEY': 'x' } } },
    secrets: { 'ns1/sec': { metadata: { name: 'sec' }, data: { PASSWORD: b64('s3cret') } } },
  });
  const container = {
    name: 'c',
    envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'sec' } }, { configMapRef: { name: 'nope', optional: true } }],
    env: [
      { name: 'PORT', value: '6543' },
      { name: 'URL', value: 'postgres://$(HOST):$(PORT)/$(LATER)' },
      { name: 'LATER', value: 'x' },
      { name: 'EMPTY' },
      { name: 'LIT', value: '$$(HOST)' },
    ],
  };
  const r = await resolveEnv(pod, container, lookup, extras);
  assert.deepEqual(r.errors, []);
  assert.equal(r.env.HOST, 'db');
  assert.equal(r.env.PORT, '6543');
  assert.equal(r.env.S_PASSWORD, 's3cret');
  assert.equal(r.env.URL, 'postgres://db:6543/$(LATER)');
  assert.equal(r.env.EMPTY, '');
  assert.equal(r.env.LIT, '$(HOST)');
  assert.ok(!('BAD=KEY' in r.env));
});

test('missing required objects and keys are errors with kubelet wording; optional ones are skipped', async () => {
  const lookup = lookupOf({ cms: { 'ns1/cfg': { metadata: { name: 'cfg' }, data: { A: '1' } } }, secrets: { 'ns1/sec': { metadata: { name: 'sec' }, data: {} } } });
  const container = {
    name: 'c',
    envFrom: [{ secretRef: { name: 'gone' } }],
    env: [
      { name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'B' } } },
      { name: 'Y', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'B', optional: true } } },
      { name: 'Z', valueFrom: { secretKeyRef: { name: 'sec', key: 'K' } } },
      { name: 'W', valueFrom: { secretKeyRef: { name: 'other', key: 'K', optional: true } } },
      { name: 'V', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'A' } } },
    ],
  };
  const r = await resolveEnv(pod, container, lookup, extras);
  assert.deepEqual(r.errors, ['secret "gone" not found', "couldn't find key B in ConfigMap ns1/cfg", "couldn't find key K in Secret ns1/sec"]);
  assert.equal(r.env.V, '1');
  assert.ok(!('Y' in r.env) && !('W' in r.env));
  // The same ConfigMap is fetched once.
  assert.equal(lookup.calls, 4); // gone, cfg (once for three refs), sec, other
});

test('fieldRef exposes pod metadata, spec and status fields', async () => {
  const fields = ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['note']", 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.podIP', 'status.podIPs', 'metadata.labels'];
  const container = { name: 'c', env: fields.map((f, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: f } } })) };
  const r = await resolveEnv(pod, container, lookupOf({}), extras);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    fields.map((_, i) => r.env[`F${i}`]),
    ['web', 'ns1', 'u-1', 'web', 'hi', 'node-a', 'sa1', '10.0.0.1', '10.88.0.5', '10.88.0.5,fd00::5', 'app="web"\ntier="fe"'],
  );
  const bad = await resolveEnv(pod, { name: 'c', env: [{ name: 'B', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, lookupOf({}), extras);
  assert.deepEqual(bad.errors, ['unsupported fieldPath: spec.bogus']);
});

test('resourceFieldRef rounds up by divisor and defaults limits to node allocatable', async () => {
  const container = {
    name: 'c',
    resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } },
    env: [
      { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'MEM_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
      { name: 'EPH', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } },
    ],
  };
  const r = await resolveEnv(pod, container, lookupOf({}), { ...extras, nodeAllocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '10Gi' } });
  assert.deepEqual(r.errors, []);
  assert.deepEqual([r.env.CPU, r.env.CPU_M, r.env.REQ_M, r.env.MEM_MI, r.env.MEM_REQ, r.env.EPH], ['1', '500', '250', '64', '0', String(10 * 2 ** 30)]);
  const noLimit = await resolveEnv(pod, { name: 'c', env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }] }, lookupOf({}), extras);
  assert.equal(noLimit.env.CPU, '4');
});
