/**
 * The registry's side of server-side apply: a custom resource merged by its structural schema
 * (x-kubernetes-list-type map with keys, a set, an atomic map), status reset on the main resource,
 * and the 409 as kube-apiserver words it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { ApiError } from '../errors/index.ts';
import { applyToObject, stampUpdate, stampUpdateFullyForTest } from './managed-fields.ts';
import type { ResourceStore } from './resource-store.ts';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        ports: {
          type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'],
          items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' }, name: { type: 'string' } } },
        },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        selector: { type: 'object', additionalProperties: { type: 'string' }, 'x-kubernetes-map-type': 'atomic' },
        size: { type: 'integer' },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

/** Just what managed-fields.ts reads of a store: a custom resource's type with its schema. */
const store = {
  apiVersion: 'example.com/v1', group: 'example.com',
  type: { info: { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true, subresources: ['status'] }, strategy: {}, schema },
} as unknown as ResourceStore;

const widget = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns' }, spec });

test('custom resource: list-map items merge by their keys (defaulted protocol), sets by value, an atomic map whole', () => {
  let live = applyToObject(store, undefined, widget({ ports: [{ port: 80, name: 'http' }], tags: ['a'], selector: { x: '1', y: '2' } }), 'one', false).object;
  live = applyToObject(store, live, widget({ ports: [{ port: 443, protocol: 'TCP', name: 'https' }], tags: ['b'] }), 'two', false).object;
  assert.deepEqual(live.spec.ports, [{ port: 80, name: 'http' }, { port: 443, protocol: 'TCP', name: 'https' }]);
  assert.deepEqual(live.spec.tags, ['a', 'b']);
  const fields = Object.fromEntries((live.metadata.managedFields as any[]).map((e) => [e.manager, e.fieldsV1]));
  assert.deepEqual(fields.one['f:spec']['f:ports'], { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} } });
  assert.deepEqual(fields.one['f:spec']['f:selector'], {}, 'atomic map: one leaf');
  assert.deepEqual(fields.two['f:spec']['f:tags'], { 'v:"b"': {} });
  // "two" changing the atomic selector conflicts with "one" as a whole.
  assert.throws(() => applyToObject(store, live, widget({ selector: { x: '1' } }), 'two', false), (err: unknown) =>
    err instanceof ApiError && err.http === 409 && err.message === 'Apply failed with 1 conflict: conflict with "one": .spec.selector');
});

test('custom resource: an Update marks new structs as added (compared as plain JSON upstream)', () => {
  const created = widget({ size: 1 });
  stampUpdate(store, undefined, created, 'kubectl-create', undefined);
  assert.deepEqual((created.metadata.managedFields as any[])[0].fieldsV1, { 'f:spec': { '.': {}, 'f:size': {} } });
});

test('conflicts with several managers: grouped by sorted manager, one cause per field', () => {
  let live = applyToObject(store, undefined, widget({ size: 1, tags: ['a'] }), 'b-manager', false).object;
  live = applyToObject(store, live, widget({ ports: [{ port: 1, name: 'h' }] }), 'a-manager', false).object;
  try {
    applyToObject(store, live, widget({ size: 2, ports: [{ port: 1, name: 'x' }] }), 'c', false);
    assert.fail('no conflict');
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.message, 'Apply failed with 2 conflicts: conflicts with "a-manager":\n- .spec.ports[port=1,protocol="TCP"].name\nconflicts with "b-manager":\n- .spec.size');
    assert.deepEqual(err.details?.causes?.map((c) => [c.reason, c.message, c.field]).sort(), [
      ['FieldManagerConflict', 'conflict with "a-manager"', '.spec.ports[port=1,protocol="TCP"].name'],
      ['FieldManagerConflict', 'conflict with "b-manager"', '.spec.size'],
    ]);
  }
});

test('the main resource resets status: an apply of status there owns nothing of it', () => {
  const r = applyToObject(store, undefined, { ...widget({ size: 1 }), status: { ready: true } }, 'm', false).object;
  assert.equal((r.metadata.managedFields as any[])[0].fieldsV1['f:status'], undefined);
});

/** Built-in kinds by their OpenAPI definitions, as the registry's stores are. */
const builtin = (apiVersion: string, kind: string, plural: string, subresources: string[] = []) => ({
  apiVersion, group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
  type: { info: { group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '', version: apiVersion.split('/').pop(), kind, plural, namespaced: true, subresources }, strategy: {} },
}) as unknown as ResourceStore;
const leases = builtin('coordination.k8s.io/v1', 'Lease', 'leases');
const pods = builtin('v1', 'Pod', 'pods', ['status']);

/**
 * stampUpdate's shortcut (a write that moves no ownership keeps the stored entries, only its
 * manager's time moves) against the full algebra, on writes that take it and writes that must not.
 */
test('managedFields: the shortcut for writes that move no ownership gives what the full algebra gives', () => {
  const lease = (renewTime: string, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: 'n1', namespace: 'kube-node-lease', uid: 'u1', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'n' }] },
    spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime, ...extra },
  });
  const created = lease('2026-01-01T00:00:00.000000Z');
  stampUpdate(leases, undefined, created, 'sim', undefined);
  // A second manager owning another field (holderIdentity would conflict): a "controller" adding transitions.
  const withOther = lease('2026-01-01T00:00:00.000000Z', { leaseTransitions: 1 });
  withOther.metadata.managedFields = created.metadata.managedFields;
  stampUpdate(leases, created, withOther, 'controller', undefined);
  // Shared ownership (two appliers of one value, or entries a client sent): an Update takes the field from the other.
  const shared = structuredClone(withOther);
  const simEntry = (shared.metadata.managedFields as any[]).find((e) => e.manager === 'sim');
  shared.metadata.managedFields!.unshift({ manager: 'applier', operation: 'Apply', apiVersion: 'coordination.k8s.io/v1', time: simEntry.time, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:renewTime': {} } } });
  const pod: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  };
  stampUpdate(pods, undefined, pod, 'creator', undefined);
  const podStatus = structuredClone(pod);
  podStatus.status = { phase: 'Pending', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'False' }] };
  stampUpdate(pods, pod, podStatus, 'kubelet', 'status');
  const cases: [string, ResourceStore, KubeObject, (o: KubeObject) => void, string, string | undefined, boolean][] = [
    ['renewal by the owner', leases, withOther, (o) => { o.spec.renewTime = '2026-01-01T00:00:10.000000Z'; }, 'sim', undefined, true],
    ['nothing changed', leases, withOther, () => {}, 'sim', undefined, true],
    ['a field another manager owns too', leases, shared, (o) => { o.spec.renewTime = '2026-01-01T00:00:10.000000Z'; }, 'sim', undefined, false],
    ['renewal by another manager', leases, withOther, (o) => { o.spec.renewTime = '2026-01-01T00:00:10.000000Z'; }, 'other', undefined, false],
    ['a field owned by another manager', leases, withOther, (o) => { o.spec.leaseTransitions = 2; }, 'sim', undefined, false],
    ['a field added', leases, withOther, (o) => { o.spec.acquireTime = '2026-01-01T00:00:10.000000Z'; }, 'sim', undefined, false],
    ['a field removed', leases, withOther, (o) => { delete o.spec.leaseDurationSeconds; }, 'sim', undefined, false],
    ['a list changed', leases, withOther, (o) => { o.metadata.ownerReferences![0].name = 'x'; }, 'sim', undefined, false],
    ['managedFields sent that differ', leases, withOther, (o) => { o.spec.renewTime = 'x'; o.metadata.managedFields = [o.metadata.managedFields![0]]; }, 'sim', undefined, false],
    ['a status scalar by its owner', pods, podStatus, (o) => { o.status.podIP = '10.0.0.2'; }, 'kubelet', 'status', true],
    ['a status scalar by the main resource', pods, podStatus, (o) => { o.status.podIP = '10.0.0.2'; }, 'kubelet', undefined, false],
    ['a status list by its owner', pods, podStatus, (o) => { o.status.conditions[0].status = 'True'; }, 'kubelet', 'status', false],
  ];
  for (const [name, store, old, change, manager, sub, shortcut] of cases) {
    for (let attempt = 0; ; attempt++) {
      const fast = structuredClone(old);
      change(fast);
      const full = structuredClone(fast);
      stampUpdateFullyForTest(store, old, full, manager, sub);
      stampUpdate(store, old, fast, manager, sub);
      // A second boundary between the two stamps moves a time: measure that case again.
      if (attempt < 3 && JSON.stringify(fast.metadata.managedFields) !== JSON.stringify(full.metadata.managedFields)) continue;
      assert.deepEqual(fast.metadata.managedFields, full.metadata.managedFields, name);
      // The shortcut keeps the writer's own field set as stored (only its time moves).
      const own = (old.metadata.managedFields as any[]).find((o) => o.manager === manager && o.subresource === sub);
      const kept = !!own && (fast.metadata.managedFields as any[]).some((e) => e.fieldsV1 === own.fieldsV1);
      assert.equal(kept, shortcut, `${name}: ${shortcut ? 'shortcut' : 'full algebra'} expected`);
      break;
    }
  }
});

/**
 * A status write keeps the entries that own nothing under status as stored (the creator's spec
 * entry) and runs the algebra on the rest: the same entries, times and order as the full algebra.
 */
test('managedFields: a status write keeps entries that own no status as stored, as the full algebra would', () => {
  const pod: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: '1' } },
    spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '10m' } } }], nodeName: 'n1' },
  };
  stampUpdate(pods, undefined, pod, 'creator', undefined);
  const labelled = structuredClone(pod);
  labelled.metadata.labels = { ...labelled.metadata.labels, b: '2' };
  stampUpdate(pods, pod, labelled, 'labeller', undefined);
  const scheduled = structuredClone(labelled);
  scheduled.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] };
  stampUpdate(pods, labelled, scheduled, 'scheduler', 'status');
  const running = (o: KubeObject) => {
    o.status = {
      ...o.status, phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], startTime: '2026-01-01T00:00:00Z',
      conditions: [{ type: 'Ready', status: 'True' }, ...o.status.conditions],
      containerStatuses: [{ name: 'c', ready: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    };
  };
  const kubelet = structuredClone(scheduled);
  running(kubelet);
  stampUpdate(pods, scheduled, kubelet, 'kubelet', 'status');
  const many = structuredClone(scheduled);
  for (let i = 0; i < 8; i++) (many.metadata.managedFields as any[]).push({ manager: `m${i}`, operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { [`f:k${i}`]: {} } } } });
  const duplicate = structuredClone(scheduled);
  duplicate.metadata.managedFields!.push(structuredClone(duplicate.metadata.managedFields![0]));
  const odd = structuredClone(scheduled);
  const first = (odd.metadata.managedFields as any[])[0];
  (odd.metadata.managedFields as any[])[0] = { fieldsV1: first.fieldsV1, ...first };
  const stripped = structuredClone(scheduled);
  (stripped.metadata.managedFields as any[])[0].fieldsV1['f:metadata']['f:uid'] = {};
  const cases: [string, KubeObject, (o: KubeObject) => void, string, boolean][] = [
    ['a new status manager adds fields', scheduled, running, 'kubelet', true],
    ['the status manager changes a list item and removes a field', kubelet, (o) => { o.status.conditions[0].status = 'False'; delete o.status.podIP; }, 'kubelet', true],
    ['another manager takes a field', kubelet, (o) => { o.status.phase = 'Succeeded'; }, 'controller', true],
    ['status removed whole', kubelet, (o) => { delete o.status; }, 'kubelet', true],
    ['nothing changed, a new manager', kubelet, () => {}, 'other', true],
    ['ten Update managers with the writer (the cap)', many, running, 'kubelet', false],
    ['a duplicate entry', duplicate, running, 'kubelet', false],
    ['an entry not as the algebra writes it', odd, running, 'kubelet', false],
    ['an entry naming a server field', stripped, running, 'kubelet', false],
  ];
  for (const [name, old, change, manager, split] of cases) {
    for (let attempt = 0; ; attempt++) {
      const fast = structuredClone(old);
      change(fast);
      const full = structuredClone(fast);
      stampUpdateFullyForTest(pods, old, full, manager, 'status');
      stampUpdate(pods, old, fast, manager, 'status');
      if (attempt < 3 && JSON.stringify(fast.metadata.managedFields) !== JSON.stringify(full.metadata.managedFields)) continue;
      assert.deepEqual(fast.metadata.managedFields, full.metadata.managedFields, name);
      const creator = (old.metadata.managedFields as any[]).find((e) => e.manager === 'creator');
      assert.equal((fast.metadata.managedFields as any[]).includes(creator), split, `${name}: the creator's entry ${split ? 'kept as stored' : 'encoded again'}`);
      break;
    }
  }
});

test('a create takes the entries of an earlier create of the same shape: equal to the full algebra but for the time, for random objects', () => {
  const shapes = new Map<string, unknown>();
  let hits = 0;
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const value = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 5 : 7)) {
      case 0: return `v${rnd(3)}`;
      case 1: return rnd(100);
      case 2: return rnd(2) === 0;
      case 3: return null;
      case 4: return rnd(4) === 0 ? ['x', 'y'] : 's';
      default: {
        const o: Record<string, unknown> = {};
        for (let i = rnd(3); i >= 0; i--) o[['a', 'b', 'size', 'tags', 'ready'][rnd(5)]!] = value(depth + 1);
        return o;
      }
    }
  };
  const strip = (entries: any[] | undefined) => entries?.map(({ time: _t, ...rest }) => rest);
  for (let i = 0; i < 400; i++) {
    const spec = value(1);
    const obj: KubeObject = { ...widget(typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec as Record<string, unknown> : { size: 1 }), ...(rnd(3) === 0 ? { status: { ready: true } } : {}) };
    const key = JSON.stringify(obj, (_k, v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : Array.isArray(v) ? v : typeof v));
    if (shapes.has(key)) hits++;
    shapes.set(key, true);
    const fast = structuredClone(obj);
    const full = structuredClone(obj);
    stampUpdate(store, undefined, fast, 'creator', undefined);
    stampUpdateFullyForTest(store, undefined, full, 'creator', undefined);
    assert.deepEqual(strip(fast.metadata.managedFields as any[]), strip(full.metadata.managedFields as any[]), JSON.stringify(obj));
    assert.equal(fast.metadata.managedFields === undefined, full.metadata.managedFields === undefined);
    if (fast.metadata.managedFields) assert.match((fast.metadata.managedFields as any[])[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  assert.ok(hits > 100, `shapes repeated (${hits}): the cache was exercised`);
});

test('entries taken from an earlier create are the object\'s own: changing them leaves the next create alone', () => {
  const a = widget({ size: 1, selector: { x: '1' } });
  stampUpdate(store, undefined, a, 'shaper', undefined);
  const b = widget({ size: 2, selector: { x: '2' } });
  stampUpdate(store, undefined, b, 'shaper', undefined);
  (b.metadata.managedFields as any[])[0].fieldsV1['f:spec']['f:bogus'] = {};
  const c = widget({ size: 3, selector: { x: '3' } });
  stampUpdate(store, undefined, c, 'shaper', undefined);
  assert.deepEqual((c.metadata.managedFields as any[])[0].fieldsV1, (a.metadata.managedFields as any[])[0].fieldsV1);
  assert.equal((c.metadata.managedFields as any[])[0].fieldsV1['f:spec']['f:bogus'], undefined);
});
