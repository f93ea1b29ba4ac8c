/**
 * x-kubernetes-validations: the documentation's examples (self, oldSelf transition rules, message and
 * messageExpression, reason and fieldPath), compile errors at CRD write and warnings for rules that
 * cannot be evaluated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError } from '../../apis/field-errors.ts';
import { compileErrors, evaluateRules } from './cel-rules.ts';
import type { JSONSchemaProps } from './schema.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas', message: 'replicas should be greater than or equal to minReplicas' },
        { rule: 'self.replicas <= self.maxReplicas', messageExpression: "'replicas may not exceed ' + string(self.maxReplicas)" },
        { rule: "!has(self.name) || self.name.startsWith('a')", reason: 'FieldValueForbidden', fieldPath: '.name', message: 'name must start with a' },
      ],
      properties: {
        replicas: { type: 'integer' }, minReplicas: { type: 'integer' }, maxReplicas: { type: 'integer' },
        name: { type: 'string' },
        immutable: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] },
        ratio: { type: 'number', 'x-kubernetes-validations': [{ rule: 'self.missing > 1' }] },
      },
    },
  },
};

function run(obj: unknown, old?: unknown): { errs: string[]; warnings: string[] } {
  const errs: FieldError[] = [];
  const warnings: string[] = [];
  evaluateRules(schema, obj, old, '', errs, warnings);
  return { errs: errs.map((e) => `${e.field}: ${e.message}`), warnings };
}

test('rules pass and fail with message, messageExpression, reason and fieldPath', () => {
  assert.deepEqual(run({ spec: { replicas: 3, minReplicas: 1, maxReplicas: 5, name: 'abc' } }), { errs: [], warnings: [] });
  assert.deepEqual(run({ spec: { replicas: 7, minReplicas: 8, maxReplicas: 5, name: 'zed' } }).errs, [
    'spec: Invalid value: "object": replicas should be greater than or equal to minReplicas',
    'spec: Invalid value: "object": replicas may not exceed 5',
    'spec.name: Forbidden: name must start with a',
  ]);
});

test('transition rules run only on updates, with oldSelf', () => {
  const base = { replicas: 1, minReplicas: 1, maxReplicas: 1 };
  assert.deepEqual(run({ spec: { ...base, immutable: 'a' } }).errs, []);
  assert.deepEqual(run({ spec: { ...base, immutable: 'a' } }, { spec: { ...base, immutable: 'a' } }).errs, []);
  assert.deepEqual(run({ spec: { ...base, immutable: 'b' } }, { spec: { ...base, immutable: 'a' } }).errs, ['spec.immutable: Invalid value: "string": Value is immutable']);
});

test('a rule that cannot be evaluated is a warning, never skipped silently', () => {
  const out = run({ spec: { replicas: 1, minReplicas: 1, maxReplicas: 1, ratio: 0.5 } });
  assert.deepEqual(out.errs, []);
  assert.equal(out.warnings.length, 1);
  assert.match(out.warnings[0], /^spec\.ratio: the validation rule "self\.missing > 1" could not be evaluated: /);
});

test('rules that do not compile refuse the CRD', () => {
  const bad: JSONSchemaProps = { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.replicas <' }, { rule: 'true', messageExpression: "'x' +" }] } } };
  const errs = compileErrors(bad, 'spec.versions[0].schema.openAPIV3Schema');
  assert.equal(errs.length, 2);
  assert.equal(errs[0].field, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule');
  assert.match(errs[0].message, /^Invalid value: "self.replicas <": compilation failed: /);
  assert.equal(errs[1].field, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].messageExpression');
});
