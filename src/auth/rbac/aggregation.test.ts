import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregatedRules, needsAggregation } from './aggregation.ts';
import { selectorMatches as labelSelectorMatches } from '../../apis/selectors/label-selector-spec.ts';
import { clusterRole, rule } from './policy-builders.ts';

test('aggregation: matching roles in name order, each rule once, never itself; a role without a rule is not aggregated', () => {
  const agg = clusterRole('agg', [rule(['*'], ['*'], ['*'])], { labels: { 'x/agg': 'true' }, aggregateFrom: 'x/agg' });
  const b = clusterRole('b', [rule(['get'], [''], ['pods']), rule(['list'], [''], ['pods'])], { labels: { 'x/agg': 'true' } });
  const a = clusterRole('a', [rule(['list'], [''], ['pods'])], { labels: { 'x/agg': 'true' } });
  const other = clusterRole('c', [rule(['delete'], [''], ['pods'])], { labels: { 'x/agg': 'false' } });
  assert.deepEqual(aggregatedRules(agg, [agg, b, a, other]), [rule(['list'], [''], ['pods']), rule(['get'], [''], ['pods'])]);
  assert.equal(aggregatedRules(a, [agg, a, b]), undefined);
  assert.deepEqual(needsAggregation({ ...agg, rules: [rule(['list'], [''], ['pods']), rule(['get'], [''], ['pods'])] }, [agg, a, b]), undefined);
  assert.ok(needsAggregation(agg, [agg, a, b]));
  assert.deepEqual(aggregatedRules(agg, [agg]), [], 'nothing matches: no rules');
});

test('selectors: matchLabels and every operator', () => {
  const labels = { tier: 'web', env: 'prod' };
  assert.equal(labelSelectorMatches({ matchLabels: { tier: 'web' } }, labels), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, labels), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels), false);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels), false);
  assert.equal(labelSelectorMatches(undefined, labels), false);
});
