import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definitionNameFor, loadDefinitions, resolveSchema, type Schema } from '../../apis/openapi/definitions.ts';
import { definitionName, resolved } from './schema-lookup.ts';

test('resolved gives resolveSchema\'s schema for every schema of every definition, twice (memoized)', () => {
  const defs = loadDefinitions();
  let seen = 0;
  const visit = (s: Schema | undefined) => {
    if (!s) return;
    seen++;
    assert.equal(resolved(s, defs), resolveSchema(s, defs).schema);
    assert.equal(resolved(s, defs), resolveSchema(s, defs).schema);
  };
  for (const d of Object.values(defs)) {
    visit(d);
    for (const p of Object.values(d.properties ?? {})) { visit(p); visit(p.items); }
    if (typeof d.additionalProperties === 'object') visit(d.additionalProperties as Schema);
  }
  assert.ok(seen > 1000, `walked ${seen} schemas`);
  assert.equal(resolved(undefined, defs), undefined);
  assert.equal(resolved({ $ref: '#/definitions/no.such.Thing' }, defs), undefined);
});

test('definitionName gives definitionNameFor\'s answer, also for kinds without a schema', () => {
  const defs = loadDefinitions();
  for (const [v, k] of [['v1', 'Pod'], ['apps/v1', 'Deployment'], ['coordination.k8s.io/v1', 'Lease'], ['v1', 'Status'], ['example.com/v1', 'Widget'], ['v1', 'NoSuchKind']]) {
    assert.equal(definitionName(v, k, defs), definitionNameFor(v, k, defs));
    assert.equal(definitionName(v, k, defs), definitionNameFor(v, k, defs));
  }
  assert.equal(definitionName('v1', 'Pod', defs), 'io.k8s.api.core.v1.Pod');
});
