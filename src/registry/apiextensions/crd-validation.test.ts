/** CRD validation with upstream's messages: names, group, versions, storage, schemas, stored versions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCrd } from './crd-validation.ts';
import { customResourceDefinitionStrategy } from './crd-strategy.ts';
import type { Crd } from '../../apis/custom-resource-definition.ts';

export function crontabCrd(): Crd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com', scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer', default: 1 } } } } } } }],
    },
  };
}

const lines = (crd: Crd, old?: Crd) => validateCrd(crd, old).map((e) => `${e.field}: ${e.message}`);

test('a valid CRD passes; defaults fill singular, listKind and conversion', () => {
  const crd = crontabCrd();
  customResourceDefinitionStrategy.defaults!(crd);
  assert.deepEqual(lines(crd), []);
  assert.equal(crd.spec.names.listKind, 'CronTabList');
  assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
});

test('name and group mismatches', () => {
  const crd = crontabCrd();
  crd.metadata.name = 'crontab.stable.example.com';
  assert.deepEqual(lines(crd), ['metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group']);
  const g = crontabCrd();
  g.spec.group = 'example';
  g.metadata.name = 'crontabs.example';
  assert.deepEqual(lines(g), ['spec.group: Invalid value: "example": should be a domain with at least one dot']);
});

test('exactly one storage version; schemas required; scope', () => {
  const crd = crontabCrd();
  crd.spec.versions.push({ ...crd.spec.versions[0], name: 'v2' });
  assert.deepEqual(lines(crd), ['spec.versions: Invalid value: []string{"v1", "v2"}: must have exactly one version marked as storage version']);
  const none = crontabCrd();
  delete none.spec.versions[0].schema;
  none.spec.scope = 'Global' as never;
  assert.deepEqual(lines(none), [
    'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
  ]);
});

test('a non-structural schema refuses the CRD', () => {
  const crd = crontabCrd();
  crd.spec.versions[0].schema = { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } };
  assert.deepEqual(lines(crd), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']);
});

test('a default that does not validate refuses the CRD', () => {
  const crd = crontabCrd();
  crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.replicas = { type: 'integer', minimum: 2, default: 1 };
  assert.deepEqual(lines(crd), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: 1: spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default in body should be greater than or equal to 2']);
});

test('a version listed in status.storedVersions cannot be removed; the new storage version is recorded', () => {
  const old = crontabCrd();
  customResourceDefinitionStrategy.prepareForCreate!(old);
  assert.deepEqual(old.status?.storedVersions, ['v1']);
  const next = crontabCrd();
  next.spec.versions = [{ ...next.spec.versions[0], name: 'v2' }];
  next.status = structuredClone(old.status);
  customResourceDefinitionStrategy.prepareForUpdate!(next, old);
  assert.deepEqual(next.status?.storedVersions, ['v1', 'v2']);
  assert.deepEqual(lines(next, old), ['status.storedVersions[0]: Invalid value: "v1": must appear in spec.versions']);
});

test('group and scope are immutable', () => {
  const old = crontabCrd();
  const next = crontabCrd();
  next.spec.scope = 'Cluster';
  assert.deepEqual(lines(next, old), ['spec.scope: Invalid value: "Cluster": field is immutable']);
});
