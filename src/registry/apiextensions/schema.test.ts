/**
 * Structural-schema checks, value validation, defaulting and pruning — cases from the Kubernetes
 * documentation on CRD validation, defaulting and pruning (tasks/extend-kubernetes/custom-resources/
 * custom-resource-definitions) and upstream's messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError } from '../../apis/field-errors.ts';
import { validateSchema } from './structural.ts';
import { validateValue } from './value-validation.ts';
import { applyDefaults, prune } from './defaulting.ts';
import type { JSONSchemaProps } from './schema.ts';

const P = 'spec.versions[0].schema.openAPIV3Schema';
const lines = (errs: FieldError[]) => errs.map((e) => `${e.field}: ${e.message}`);

test('a structural schema passes', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
          replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
          port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  assert.deepEqual(validateSchema(s, P), []);
});

test('non-structural schemas are refused with upstream messages', () => {
  // The documentation's first non-structural example: no type for specified fields, and type in a value validation.
  const s: JSONSchemaProps = {
    properties: { foo: { type: 'string', pattern: 'abc' }, metadata: { type: 'object', properties: { name: { type: 'string', pattern: '^a' }, finalizers: { type: 'array', items: { type: 'string' } } } }, bar: { anyOf: [{ type: 'integer' }] } as JSONSchemaProps },
    anyOf: [{ properties: { bar: { type: 'integer', minimum: 42 } }, required: ['bar'], description: 'foo bar object' }],
  };
  assert.deepEqual(lines(validateSchema(s, P)), [
    `${P}.anyOf[0].description: Forbidden: must be empty to be structural`,
    `${P}.anyOf[0].properties[bar].type: Forbidden: must be empty to be structural`,
    `${P}.properties[bar].anyOf[0].type: Forbidden: must be empty to be structural`,
    `${P}.properties[bar].type: Required value: must not be empty for specified object fields`,
    `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    `${P}.type: Required value: must not be empty at the root`,
  ]);
});

test('arrays need items, the root may not have additionalProperties, embedded resources are objects', () => {
  const s: JSONSchemaProps = {
    type: 'object', additionalProperties: { type: 'string' },
  };
  assert.deepEqual(lines(validateSchema(s, P)), [`${P}.additionalProperties: Forbidden: must not be used at the root`]);
  const t: JSONSchemaProps = { type: 'object', properties: { list: { type: 'array' }, emb: { type: 'string', 'x-kubernetes-embedded-resource': true } } };
  assert.deepEqual(lines(validateSchema(t, P)), [
    `${P}.properties[emb].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
    `${P}.properties[emb].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
    `${P}.properties[list].items: Required value: must be specified`,
  ]);
});

test('OpenAPI features Kubernetes refuses', () => {
  const s = { type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, uniqueItems: true }, b: { $ref: '#/x' }, c: { type: 'object', additionalProperties: false } } } as JSONSchemaProps;
  const out = lines(validateSchema(s, P));
  assert.ok(out.includes(`${P}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`), out.join('\n'));
  assert.ok(out.includes(`${P}.properties[b].$ref: Forbidden: $ref is not supported`));
  assert.ok(out.includes(`${P}.properties[c].additionalProperties: Forbidden: additionalProperties cannot be set to false`));
  const m = { type: 'object', properties: { l: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object', properties: { name: { type: 'string' } } } } } } as JSONSchemaProps;
  assert.ok(lines(validateSchema(m, P)).some((l) => l.includes('x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map')));
});

const cronTab: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string', default: 'busybox' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        color: { type: 'string', enum: ['red', 'green'] },
        email: { type: 'string', format: 'email' },
        tags: { type: 'array', maxItems: 2, items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port'], items: { type: 'object', required: ['port'], properties: { port: { type: 'integer' }, name: { type: 'string' } } } },
        nested: { type: 'object', default: {}, properties: { level: { type: 'string', default: 'info' } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'integer' } } },
        size: { 'x-kubernetes-int-or-string': true },
      },
    },
    status: { type: 'object', properties: { replicas: { type: 'integer' } } },
  },
};

function check(value: unknown): string[] {
  const errs: FieldError[] = [];
  validateValue(cronTab, value, '', errs);
  return lines(errs);
}

test('values: types, patterns, bounds, enum, format, required, list types (upstream messages)', () => {
  assert.deepEqual(check({ spec: { cronSpec: '* * * * */5', replicas: 3, color: 'red', email: 'a@b.io', tags: ['a', 'b'], size: '10Gi' } }), []);
  assert.deepEqual(check({ spec: { cronSpec: '* * * *', replicas: 15 } }), [
    `spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
    'spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10',
  ]);
  assert.deepEqual(check({ spec: { cronSpec: '* * * * *', replicas: 'three', color: 'blue' } }), [
    'spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"',
    'spec.color: Unsupported value: "blue": supported values: "red", "green"',
  ]);
  assert.deepEqual(check({ spec: {} }), ['spec.cronSpec: Required value']);
  assert.deepEqual(check({ spec: { cronSpec: '* * * * *', email: 'nope', tags: ['a', 'a', 'b'], size: true } }), [
    'spec.email: Invalid value: "nope": spec.email in body must be of type email: "nope"',
    'spec.tags: Too many: 3: must have at most 2 items',
    'spec.tags[1]: Duplicate value: "a"',
    'spec.size: Invalid value: true: spec.size in body must be of type integer,string: "boolean"',
  ]);
  assert.deepEqual(check({ spec: { cronSpec: '* * * * *', ports: [{ port: 80 }, { port: 80, name: 'x' }] } }), ['spec.ports[1]: Duplicate value: {"port":80}']);
});

test('defaulting fills missing fields, nested defaults of defaults, and never shares the default', () => {
  const obj: Record<string, any> = { spec: { cronSpec: '* * * * *' } };
  applyDefaults(cronTab, obj);
  assert.deepEqual(obj.spec, { cronSpec: '* * * * *', image: 'busybox', replicas: 1, nested: { level: 'info' } });
  const other: Record<string, any> = { spec: { cronSpec: 'x', replicas: 5, nested: {} } };
  applyDefaults(cronTab, other);
  assert.equal(other.spec.replicas, 5);
  other.spec.nested.level = 'debug';
  const third: Record<string, any> = { spec: {} };
  applyDefaults(cronTab, third);
  assert.equal(third.spec.nested.level, 'info');
});

test('pruning drops unknown fields, keeps preserved ones, apiVersion/kind/metadata at the root and embedded resources', () => {
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          known: { type: 'string' },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { inner: { type: 'object', properties: {} } } },
          emb: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  };
  const obj: Record<string, any> = {
    apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a', labels: { l: '1' } }, extra: 1,
    spec: { known: 'k', unknown: 'u', free: { anything: { goes: 1 }, inner: { dropped: 1 } }, emb: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x', b: 'y' }, other: 1 }, labels: { a: 'b' } },
  };
  assert.deepEqual(prune(schema, obj).sort(), ['extra', 'spec.emb.other', 'spec.emb.spec.b', 'spec.free.inner.dropped', 'spec.unknown']);
  assert.deepEqual(obj, {
    apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a', labels: { l: '1' } },
    spec: { known: 'k', free: { anything: { goes: 1 }, inner: {} }, emb: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x' } }, labels: { a: 'b' } },
  });
});
