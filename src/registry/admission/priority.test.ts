import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ApiError } from '../../errors/index.ts';
import { openStore } from '../../storage/index.ts';
import { resourceTypes } from '../kinds/index.ts';
import { systemPriorityClassObject } from '../kinds/priority-class.ts';
import { Registry } from '../registry.ts';
import { deleteObject } from '../store-delete.ts';
import { AdmissionChain } from './admission.ts';
import { defaultPriorityClass, priorityAdmission } from './priority.ts';

async function withRegistry(fn: (registry: Registry) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-priority-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    registry.admission = new AdmissionChain([priorityAdmission({ registry })]);
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    await fn(registry);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
const pod = (name: string, spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'host' }], ...spec } });

async function refused(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.http, code);
    assert.equal(err.message, message);
    return true;
  });
}

test('a pod gets its class value and policy; no class and no default: 0 and PreemptLowerPriority', async () => {
  await withRegistry(async (registry) => {
    const classes = registry.store('scheduling.k8s.io', 'priorityclasses')!;
    const pods = registry.store('', 'pods')!;
    await classes.create(undefined, pc('high', 1000));
    await classes.create(undefined, pc('polite', 500, { preemptionPolicy: 'Never' }));
    const high = await pods.create('default', pod('a', { priorityClassName: 'high' }));
    assert.equal(high.spec.priority, 1000);
    assert.equal(high.spec.preemptionPolicy, 'PreemptLowerPriority');
    const polite = await pods.create('default', pod('b', { priorityClassName: 'polite' }));
    assert.deepEqual([polite.spec.priority, polite.spec.preemptionPolicy], [500, 'Never']);
    const plain = await pods.create('default', pod('c'));
    assert.deepEqual([plain.spec.priority, plain.spec.preemptionPolicy, plain.spec.priorityClassName], [0, 'PreemptLowerPriority', undefined]);
    // Giving the class's own value is allowed, as upstream.
    assert.equal((await pods.create('default', pod('d', { priorityClassName: 'high', priority: 1000 }))).spec.priority, 1000);
  });
});

test('unknown class, a priority or policy that differs from the class: 403 in upstream words', async () => {
  await withRegistry(async (registry) => {
    const pods = registry.store('', 'pods')!;
    await registry.store('scheduling.k8s.io', 'priorityclasses')!.create(undefined, pc('high', 1000));
    await refused(pods.create('default', pod('a', { priorityClassName: 'nope' })), 403, 'pods "a" is forbidden: no PriorityClass with name nope was found');
    await refused(pods.create('default', pod('b', { priorityClassName: 'high', priority: 7 })), 403,
      'pods "b" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    await refused(pods.create('default', pod('c', { priority: 7 })), 403,
      'pods "c" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name');
    await refused(pods.create('default', pod('d', { priorityClassName: 'high', preemptionPolicy: 'Never' })), 403,
      'pods "d" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name');
  });
});

test('the global default applies to pods naming no class, and only one class may be it', async () => {
  await withRegistry(async (registry) => {
    const classes = registry.store('scheduling.k8s.io', 'priorityclasses')!;
    await classes.create(undefined, pc('base', 100, { globalDefault: true }));
    const p = await registry.store('', 'pods')!.create('default', pod('a'));
    assert.deepEqual([p.spec.priorityClassName, p.spec.priority], ['base', 100]);
    await refused(classes.create(undefined, pc('other', 5, { globalDefault: true })), 403,
      'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass base is marked as default. Only one default can exist');
    await classes.create(undefined, pc('other', 5));
    const other = await classes.get(undefined, 'other');
    await refused(classes.update(undefined, 'other', { ...other, globalDefault: true }), 403,
      'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass base is marked as default. Only one default can exist');
    // The default itself may be updated (description) while it stays the default.
    const base = await classes.get(undefined, 'base');
    await classes.update(undefined, 'base', { ...base, description: 'the floor' });
  });
});

test('several defaults (written around admission): the lowest value wins', () => {
  assert.equal(defaultPriorityClass([pc('a', 10, { globalDefault: true }), pc('b', 3, { globalDefault: true }), pc('c', 1)])?.metadata.name, 'b');
  assert.equal(defaultPriorityClass([pc('c', 1)]), undefined);
});

test('class validation: user values up to 1e9, system- names only the built-ins, value and policy immutable; built-ins cannot be deleted', async () => {
  await withRegistry(async (registry) => {
    const classes = registry.store('scheduling.k8s.io', 'priorityclasses')!;
    await refused(classes.create(undefined, pc('huge', 1_000_000_001)), 422,
      'PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
    await classes.create(undefined, pc('max', 1_000_000_000));
    await refused(classes.create(undefined, pc('system-mine', 5)), 422,
      "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class");
    await refused(classes.create(undefined, pc('system-node-critical', 5)), 422,
      "PriorityClass.scheduling.k8s.io \"system-node-critical\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000");
    const sys = await classes.create(undefined, systemPriorityClassObject('system-node-critical'));
    assert.equal(sys.value, 2_000_001_000);
    await refused(classes.create(undefined, pc('p', 1, { preemptionPolicy: 'Sometimes' })), 422,
      'PriorityClass.scheduling.k8s.io "p" is invalid: preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"');
    const max = await classes.get(undefined, 'max');
    assert.equal(max.preemptionPolicy, 'PreemptLowerPriority');
    await refused(classes.update(undefined, 'max', { ...max, value: 7 }), 422,
      'PriorityClass.scheduling.k8s.io "max" is invalid: value: Forbidden: may not be changed in an update.');
    await refused(classes.update(undefined, 'max', { ...max, preemptionPolicy: 'Never' }), 422,
      'PriorityClass.scheduling.k8s.io "max" is invalid: preemptionPolicy: Invalid value: "Never": field is immutable');
    await refused(deleteObject(classes, undefined, 'system-node-critical'), 403,
      'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted');
    await deleteObject(classes, undefined, 'max');
  });
});

test('a pod update keeps the priority create set', async () => {
  await withRegistry(async (registry) => {
    await registry.store('scheduling.k8s.io', 'priorityclasses')!.create(undefined, pc('high', 1000));
    const pods = registry.store('', 'pods')!;
    const p = await pods.create('default', pod('a', { priorityClassName: 'high' }));
    const { priority: _p, preemptionPolicy: _pp, ...spec } = p.spec;
    const updated = await pods.update('default', 'a', { ...p, metadata: { ...p.metadata, labels: { x: 'y' } }, spec });
    assert.deepEqual([updated.spec.priority, updated.spec.preemptionPolicy], [1000, 'PreemptLowerPriority']);
  });
});
