import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { parseConfiguration } from '../../auth/pod-security/configuration.ts';
import { ApiError } from '../../errors/index.ts';
import { openStore } from '../../storage/index.ts';
import { createLogger } from '../../util/log.ts';
import { resourceTypes } from '../kinds/index.ts';
import { Registry } from '../registry.ts';
import { AdmissionChain } from './admission.ts';
import { podSecurityAdmission, registryLookups } from './pod-security.ts';

interface Env { registry: Registry; logs: Record<string, unknown>[] }

async function withRegistry(fn: (env: Env) => Promise<void>, config?: object): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-psa-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    const logs: Record<string, unknown>[] = [];
    const log = createLogger({ format: 'json', write: (l) => logs.push(JSON.parse(l)) });
    const parsed = config ? parseConfiguration(config) : undefined;
    assert.deepEqual(parsed?.errors ?? [], []);
    registry.admission = new AdmissionChain([podSecurityAdmission({ lookups: registryLookups(registry), log, config: parsed?.config })]);
    await fn({ registry, logs });
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const P = 'pod-security.kubernetes.io/';
const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }], ...spec },
});
const nonRoot = { securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false } };
const forbidden = (pattern: RegExp) => (e: unknown) => e instanceof ApiError && e.http === 403 && pattern.test(e.message);

test('enforce=baseline refuses a root process pod and a privileged runc pod in Kubernetes\' words, admits runAsUser 1000', async () => {
  await withRegistry(async ({ registry }) => {
    await registry.store('', 'namespaces')!.create(undefined, ns('b', { [`${P}enforce`]: 'baseline' }));
    const pods = registry.store('', 'pods')!;
    await assert.rejects(pods.create('b', pod('root')), (e: ApiError) => {
      assert.equal(e.http, 403);
      assert.equal(e.message, `pods "root" is forbidden: violates PodSecurity "baseline:latest": host process (container "c" runs on the host's file system as root: set runAsUser to a non-zero uid and allowPrivilegeEscalation=false, or run it under runtimeClassName: runc)`);
      return true;
    });
    await assert.rejects(pods.create('b', pod('priv', { runtimeClassName: 'runc', hostNetwork: true, containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] })),
      forbidden(/^pods "priv" is forbidden: violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\), privileged \(container "c" must not set securityContext\.privileged=true\)$/));
    await pods.create('b', pod('user', { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], ...nonRoot }] }));
    await pods.create('b', pod('uid-only', { securityContext: { runAsUser: 1000 } }));
    await assert.rejects(pods.create('b', pod('escalating', { securityContext: { runAsUser: 1000 }, containers: [{ name: 'c', image: 'host', securityContext: { allowPrivilegeEscalation: true } }] })),
      forbidden(/host process \(container "c" runs on the host's file system with allowPrivilegeEscalation=true/));
    await pods.create('b', pod('container', { runtimeClassName: 'runc' }), { dryRun: true });
    // A dry run is judged like a write.
    await assert.rejects(pods.create('b', pod('dry'), { dryRun: true }), forbidden(/host process/));
    // The default namespace has no labels: privileged.
    await registry.store('', 'namespaces')!.create(undefined, ns('open'));
    await pods.create('open', pod('anything', { hostPID: true }));
  });
});

test('which runtime runs a container: RuntimeClass handler, the per-container annotation, else the image (host: process)', async () => {
  await withRegistry(async ({ registry }) => {
    await registry.store('', 'namespaces')!.create(undefined, ns('b', { [`${P}enforce`]: 'baseline' }));
    await registry.store('node.k8s.io', 'runtimeclasses')!.create(undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'sneaky' }, handler: 'process' });
    const pods = registry.store('', 'pods')!;
    await assert.rejects(pods.create('b', pod('a', { runtimeClassName: 'sneaky' })), forbidden(/host process/));
    await pods.create('b', pod('b', { runtimeClassName: 'runc' }));
    const mixed = pod('m', { runtimeClassName: 'runc', containers: [{ name: 'web', image: 'x' }, { name: 'agent', image: 'host' }] }, { annotations: { 'runtime.berth.dev/agent': 'process' } });
    await assert.rejects(pods.create('b', mixed), forbidden(/host process \(container "agent" runs/));
    // No RuntimeClass: a stock image is a runc container (admitted), `image: host` a process (refused as root).
    await pods.create('b', pod('stock', { containers: [{ name: 'web', image: 'registry.local/web:1' }] }));
    await assert.rejects(pods.create('b', pod('half', { containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'host' }] })),
      forbidden(/host process \(container "side" runs/));
    // Switching a running runc pod's container to the process runtime is judged again.
    const created = await pods.create('b', pod('r', { runtimeClassName: 'runc' }));
    created.metadata.annotations = { 'runtime.berth.dev/c': 'process' };
    await assert.rejects(pods.update('b', 'r', created), forbidden(/host process/));
    // A change Pod Security does not look at passes even when the pod would not be admitted now.
    await registry.store('', 'namespaces')!.create(undefined, ns('late'));
    const old = await pods.create('late', pod('old'));
    const n = await registry.store('', 'namespaces')!.get(undefined, 'late');
    n.metadata.labels = { [`${P}enforce`]: 'restricted' };
    await registry.store('', 'namespaces')!.update(undefined, 'late', n);
    old.metadata.labels = { touched: 'yes' };
    await pods.update('late', 'old', old);
  });
});

test('warn gives warnings, audit a log line; templates are warned about, never refused', async () => {
  await withRegistry(async ({ registry, logs }) => {
    await registry.store('', 'namespaces')!.create(undefined, ns('w', { [`${P}enforce`]: 'baseline', [`${P}warn`]: 'restricted', [`${P}audit`]: 'restricted' }));
    const warnings: string[] = [];
    await registry.store('', 'pods')!.create('w', pod('p', { runtimeClassName: 'runc' }), { warnings });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities/);
    const audit = logs.find((l) => l.msg === 'PodSecurity audit');
    assert.ok(audit);
    assert.equal(audit['pod-security.kubernetes.io/audit-violations'], warnings[0]);
    assert.equal(audit.name, 'p');
    const deploy: KubeObject = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'host', command: ['x'] }] } } },
    };
    const dw: string[] = [];
    await registry.store('apps', 'deployments')!.create('w', deploy, { warnings: dw });
    assert.match(dw[0], /^would violate PodSecurity "restricted:latest": host process \(container "c" runs on the host's file system as root/);
  });
});

test('a refused pod gets no warnings; a compliant one none either', async () => {
  await withRegistry(async ({ registry }) => {
    await registry.store('', 'namespaces')!.create(undefined, ns('r', { [`${P}enforce`]: 'restricted' }));
    const warnings: string[] = [];
    await assert.rejects(registry.store('', 'pods')!.create('r', pod('p'), { warnings }), forbidden(/violates PodSecurity "restricted:latest": host process .*allowPrivilegeEscalation != false/));
    assert.deepEqual(warnings, []);
    const ok = pod('ok', {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', image: 'host', command: ['x'], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    });
    await registry.store('', 'pods')!.create('r', ok, { warnings });
    assert.deepEqual(warnings, []);
  });
});

test('namespace labels: invalid values are a 422; a stricter enforce level warns about existing pods', async () => {
  await withRegistry(async ({ registry }) => {
    const nss = registry.store('', 'namespaces')!;
    await assert.rejects(nss.create(undefined, ns('bad', { [`${P}enforce`]: 'strict' })), (e: ApiError) =>
      e.http === 422 && e.message === 'Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
    await nss.create(undefined, ns('n'));
    const pods = registry.store('', 'pods')!;
    for (const name of ['b', 'a', 'c']) await pods.create('n', pod(name));
    await pods.create('n', pod('net', { runtimeClassName: 'runc', hostNetwork: true }));
    await pods.create('n', pod('fine', { runtimeClassName: 'runc' }));
    const n = await nss.get(undefined, 'n');
    n.metadata.labels = { [`${P}enforce`]: 'baseline' };
    const warnings: string[] = [];
    await nss.update(undefined, 'n', n, { warnings });
    assert.deepEqual(warnings, [
      'existing pods in namespace "n" violate the new PodSecurity enforce level "baseline:latest"',
      'a (and 2 other pods): host process',
      'net: host namespaces',
    ]);
    // Relaxing, or keeping the level, checks nothing.
    const again: string[] = [];
    const cur = await nss.get(undefined, 'n');
    cur.metadata.labels = { [`${P}enforce`]: 'privileged' };
    await nss.update(undefined, 'n', cur, { warnings: again });
    assert.deepEqual(again, []);
  });
});

test('exemptions: usernames, namespaces and RuntimeClasses are not looked at; defaults apply to unlabelled namespaces', async () => {
  const config = {
    apiVersion: 'pod-security.admission.config.k8s.io/v1', kind: 'PodSecurityConfiguration',
    defaults: { enforce: 'baseline' },
    exemptions: { usernames: ['system:serviceaccount:ci:builder'], namespaces: ['tools'], runtimeClasses: ['trusted'] },
  };
  await withRegistry(async ({ registry }) => {
    const nss = registry.store('', 'namespaces')!;
    const pods = registry.store('', 'pods')!;
    await nss.create(undefined, ns('apps'));
    await assert.rejects(pods.create('apps', pod('p')), forbidden(/baseline:latest/));
    await pods.create('apps', pod('p'), { user: { name: 'system:serviceaccount:ci:builder', groups: [] } });
    await pods.create('apps', pod('t', { runtimeClassName: 'trusted' }));
    const warnings: string[] = [];
    await nss.create(undefined, ns('tools', { [`${P}enforce`]: 'restricted' }), { warnings });
    assert.deepEqual(warnings, ['namespace "tools" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored']);
    await pods.create('tools', pod('root'));
  }, config);
});
