import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRuntimeAnnotations } from './runtime-annotations.ts';

const spec = { containers: [{ name: 'app' }], initContainers: [{ name: 'setup' }] };

test('known handlers on existing containers (init ones too) pass; other annotations are ignored', () => {
  const meta = { annotations: { 'runtime.berth.dev/app': 'runc', 'runtime.berth.dev/setup': 'process', 'other.io/x': 'y' } };
  assert.deepEqual(validateRuntimeAnnotations(meta, spec, 'metadata'), []);
  assert.deepEqual(validateRuntimeAnnotations({}, spec, 'metadata'), []);
});

test('an unknown handler is FieldValueNotSupported with the supported list', () => {
  const errs = validateRuntimeAnnotations({ annotations: { 'runtime.berth.dev/app': 'docker' } }, spec, 'metadata');
  assert.deepEqual(errs, [{
    type: 'FieldValueNotSupported', field: 'metadata.annotations[runtime.berth.dev/app]',
    message: 'Unsupported value: "docker": supported values: "process", "runc"',
  }]);
});

test('a container that does not exist is FieldValueInvalid; templates use their own path', () => {
  const errs = validateRuntimeAnnotations({ annotations: { 'runtime.berth.dev/ap': 'runc' } }, spec, 'spec.template.metadata');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.template.metadata.annotations[runtime.berth.dev/ap]');
  assert.match(errs[0].message, /no container named "ap"/);
});
