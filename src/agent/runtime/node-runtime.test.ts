/**
 * The node runtime over a catalog of fake drivers: which drivers a node builds (settings, optional
 * ones that cannot be built), which driver a container runs on (annotation, RuntimeClass, default, image),
 * and a pod's clean-up (its cgroup, then every driver's hook). No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { createLogger } from '../../util/log.ts';
import type { CgroupLayout } from './cgroups/index.ts';
import type { RuntimeDriver } from './driver.ts';
import type { DriverContext, RuntimeRegistration } from './drivers.ts';
import { NodeRuntime } from './node-runtime.ts';

function catalog(record: { built: DriverContext[]; cleaned: string[] }, opts: { brokenOptional?: boolean; cleanupFails?: boolean } = {}): RuntimeRegistration[] {
  const fake = (name: string, cleanup?: boolean) => (ctx: DriverContext): RuntimeDriver => {
    record.built.push(ctx);
    return {
      name,
      ...(cleanup ? { cleanupPod: async (parent: string) => { record.cleaned.push(`${name}:${parent}`); if (opts.cleanupFails) throw new Error('busy'); } } : {}),
    } as unknown as RuntimeDriver;
  };
  return [
    { handler: 'host', optional: false, create: fake('host') },
    { handler: 'oci', optional: true, create: opts.brokenOptional ? () => { throw new Error('oci: binary not found'); } : fake('oci', true) },
  ];
}

const pod = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', annotations }, spec: { containers: [{ name: 'c' }], ...spec } }) as unknown as KubeObject;

function runtime(registry: RuntimeRegistration[], extra: Partial<ConstructorParameters<typeof NodeRuntime>[0]> = {}) {
  const warnings: string[] = [];
  const gets: string[] = [];
  const classes: Record<string, string> = { fast: 'oci', slow: 'host', gone: 'kata' };
  const rt = new NodeRuntime({
    dataDir: '/var/lib/berth-test/agent', images: { get: async () => undefined }, nodeName: 'n1', defaultRuntimeClass: 'slow',
    client: {
      get: (async (_r: unknown, _ns: unknown, name: string) => {
        gets.push(name);
        if (!(name in classes)) throw new Error(`runtimeclasses "${name}" not found`);
        return { metadata: { name }, handler: classes[name] };
      }) as never,
    },
    log: createLogger({ level: 'warn', write: (l) => warnings.push(JSON.parse(l).msg) }),
    registry, ...extra,
  });
  return { rt, warnings, gets };
}

test('every driver of the catalog is built with its own state dir and settings; false leaves one out', () => {
  const record = { built: [] as DriverContext[], cleaned: [] as string[] };
  const { rt } = runtime(catalog(record), { settings: { oci: { binary: '/opt/oci' } } });
  assert.deepEqual([...rt.drivers.keys()], ['host', 'oci']);
  assert.deepEqual(record.built.map((c) => [c.stateDir, c.settings]), [
    ['/var/lib/berth-test/agent/runtime/host', {}],
    ['/var/lib/berth-test/agent/runtime/oci', { binary: '/opt/oci' }],
  ]);
  const off = runtime(catalog({ built: [], cleaned: [] }), { settings: { oci: false } });
  assert.deepEqual([...off.rt.drivers.keys()], ['host']);
});

test('an optional driver that cannot be built is left out with a warning; a required one stops the node', () => {
  const { rt, warnings } = runtime(catalog({ built: [], cleaned: [] }, { brokenOptional: true }));
  assert.deepEqual([...rt.drivers.keys()], ['host']);
  assert.deepEqual(warnings, ['the oci runtime is not available on this node; pods that need it fail with CreateContainerError']);
  const required: RuntimeRegistration[] = [{ handler: 'host', optional: false, create: () => { throw new Error('no tini'); } }];
  assert.throws(() => runtime(required), /no tini/);
});

test('pick: the container annotation, else the pod\'s RuntimeClass handler, else the default class; classes are read once', async () => {
  const { rt, gets } = runtime(catalog({ built: [], cleaned: [] }));
  assert.equal((await rt.pick(pod(), 'c')).name, 'host', 'default class slow → host');
  assert.equal((await rt.pick(pod({ runtimeClassName: 'fast' }), 'c')).name, 'oci');
  assert.equal((await rt.pick(pod({ runtimeClassName: 'fast' }), 'c')).name, 'oci');
  assert.equal((await rt.pick(pod({ runtimeClassName: 'fast' }, { 'runtime.berth.dev/c': 'host' }), 'c')).name, 'host', 'the annotation wins');
  assert.equal((await rt.pick(pod({ runtimeClassName: 'fast' }, { 'runtime.berth.dev/other': 'host' }), 'c')).name, 'oci', 'another container\'s annotation');
  assert.deepEqual(gets, ['slow', 'fast']);
  await assert.rejects(rt.pick(pod({ runtimeClassName: 'gone' }), 'c'), /runtime handler "kata" is not available on node n1 \(available: host, oci\)/);
  await assert.rejects(rt.pick(pod({ runtimeClassName: 'nope' }), 'c'), /not found/);
});

test('pick with no default class: each container\'s image decides (host: process, any other: runc), init containers too', async () => {
  const reg: RuntimeRegistration[] = [
    { handler: 'process', optional: false, create: () => ({ name: 'process' }) as unknown as RuntimeDriver },
    { handler: 'runc', optional: true, create: () => ({ name: 'runc' }) as unknown as RuntimeDriver },
  ];
  const { rt, gets } = runtime(reg, { defaultRuntimeClass: undefined });
  const mixed = pod({ initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'web', image: 'registry.local/web:1' }, { name: 'agent', image: 'host' }] });
  assert.equal((await rt.pick(mixed, 'web')).name, 'runc', 'a stock image runs as a container');
  assert.equal((await rt.pick(mixed, 'agent')).name, 'process', 'image: host stays a process');
  assert.equal((await rt.pick(mixed, 'init')).name, 'runc');
  assert.equal((await rt.pick(pod({ containers: [{ name: 'web', image: 'nginx' }] }, { 'runtime.berth.dev/web': 'process' }), 'web')).name, 'process', 'the annotation wins');
  assert.deepEqual(gets, [], 'no RuntimeClass read');
});

test('cleanupPod removes the pod\'s cgroup tree, then runs every driver\'s hook; errors come back together', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-node-runtime-'));
  try {
    const layout: CgroupLayout = { mode: 'v2', unifiedRoot: root, v1Roots: {} };
    const record = { built: [] as DriverContext[], cleaned: [] as string[] };
    mkdirSync(join(root, 'berth', 'pod-1'), { recursive: true });
    mkdirSync(join(root, 'berth', 'pod-2'));
    const { rt } = runtime(catalog(record), { cgroupLayout: layout });
    await rt.cleanupPod('berth/pod-1');
    assert.ok(!existsSync(join(root, 'berth', 'pod-1')), 'the pod cgroup is gone');
    assert.ok(existsSync(join(root, 'berth', 'pod-2')), 'another pod\'s stays, and their parent');
    assert.deepEqual(record.cleaned, ['oci:berth/pod-1']);
    await rt.cleanupPod('berth/pod-2');
    assert.ok(!existsSync(join(root, 'berth')), 'the last pod takes the empty parent with it');
    const failing = runtime(catalog({ built: [], cleaned: [] }, { cleanupFails: true }), { cgroupLayout: layout });
    await assert.rejects(failing.rt.cleanupPod('berth/pod-3'), /^Error: oci: busy$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
