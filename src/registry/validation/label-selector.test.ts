import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateLabelSelector, isEmptySelector } from './label-selector.ts';
import { selectorMatches } from '../../apis/selectors/label-selector-spec.ts';

test('operators and values rules', () => {
  const errs = validateLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In' },
      { key: 'env', operator: 'Exists', values: ['x'] },
      { key: 'x', operator: 'Like', values: ['a'] },
      { key: 'bad key!', operator: 'NotIn', values: ['ok', 'not ok'] },
    ],
  }, 'spec.selector');
  assert.deepEqual(errs.map((e) => [e.field, e.type]), [
    ['spec.selector.matchExpressions[0].values', 'FieldValueRequired'],
    ['spec.selector.matchExpressions[1].values', 'FieldValueForbidden'],
    ['spec.selector.matchExpressions[2].operator', 'FieldValueInvalid'],
    ['spec.selector.matchExpressions[3].key', 'FieldValueInvalid'],
    ['spec.selector.matchExpressions[3].values[1]', 'FieldValueInvalid'],
  ]);
  assert.equal(errs[2].message, 'Invalid value: "Like": not a valid selector operator');
});

test('invalid matchLabels', () => {
  const errs = validateLabelSelector({ matchLabels: { app: 'a b' } }, 'spec.selector');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.selector.matchLabels');
});

test('matching', () => {
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }, { key: 'canary', operator: 'DoesNotExist' }] };
  assert.equal(selectorMatches(sel, { app: 'web', tier: 'fe' }), true);
  assert.equal(selectorMatches(sel, { app: 'web', tier: 'db' }), false);
  assert.equal(selectorMatches(sel, { app: 'web', tier: 'fe', canary: '1' }), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}), true);
  assert.equal(selectorMatches({}, { any: 'x' }), true);
  assert.equal(selectorMatches(undefined, { any: 'x' }), false);
  assert.equal(isEmptySelector({ matchLabels: {} }), true);
});
