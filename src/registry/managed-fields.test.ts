/**
 * The registry's side of server-side apply: a custom resource merged by its structural schema
 * (x-kubernetes-list-type map with keys, a set, an atomic map), status reset on the main resource,
 * and the 409 as kube-apiserver words it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { ApiError } from '../errors/index.ts';
import { applyToObject, stampUpdate } from './managed-fields.ts';
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
