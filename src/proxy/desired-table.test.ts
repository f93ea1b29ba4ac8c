import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredTable } from './desired-table.ts';
import { copyScope, copyState } from './table-state.ts';
import { diffScript } from './transaction.ts';
import type { Fragment } from './table-state.ts';

const frag = (chain: string, rules: string[], elements: [string, string, string][]): Fragment => ({ sets: [], chains: [[chain, rules]], elements });

test('shared elements stay while any owner claims them; conflicting claims: first wins, then the next', () => {
  const d = new DesiredTable();
  assert.deepEqual(d.set('a', [frag('ca', ['r1'], [['hairpin', 'x . x', ''], ['service-nodeports', 'tcp . 30000', 'goto ca']])]), []);
  assert.deepEqual(d.set('b', [frag('cb', ['r2'], [['hairpin', 'x . x', ''], ['service-nodeports', 'tcp . 30000', 'goto cb']])]), ['service-nodeports tcp . 30000']);
  assert.equal(d.state.elements.get('service-nodeports')!.get('tcp . 30000'), 'goto ca');
  d.set('a', undefined);
  assert.equal(d.state.elements.get('service-nodeports')!.get('tcp . 30000'), 'goto cb', 'the next claim takes over');
  assert.ok(d.state.elements.get('hairpin')!.has('x . x'), 'b still claims the hairpin pair');
  assert.ok(!d.state.chains.has('ca'));
  d.set('b', []);
  assert.equal(d.state.elements.get('hairpin')!.size, 0);
  assert.equal(d.state.chains.size, 0);
});

test('one owner claiming a key twice (two ports of one cluster IP) is one claim', () => {
  const d = new DesiredTable();
  d.set('a', [frag('c1', [], [['cluster-ips', '10.61.0.1', '']]), frag('c2', [], [['cluster-ips', '10.61.0.1', '']])]);
  d.set('a', [frag('c1', [], [['cluster-ips', '10.61.0.1', '']])]);
  assert.ok(d.state.elements.get('cluster-ips')!.has('10.61.0.1'));
});

test('the scoped diff of the touched names equals the whole-table diff, and only names what changed', () => {
  const d = new DesiredTable();
  for (let i = 0; i < 50; i++) d.set(`s${i}`, [frag(`c${i}`, [`r${i}`], [['service-ips', `k${i}`, `goto c${i}`], ['hairpin', `h${i}`, '']])]);
  d.takeChanges();
  const applied = copyState(d.state);
  d.set('s7', [frag('c7', ['r7-new'], [['service-ips', 'k7', 'goto c7'], ['hairpin', 'h7b', '']])]);
  d.set('s9', undefined);
  const changes = d.takeChanges();
  assert.deepEqual([...changes.chains].sort(), ['c7', 'c9']);
  const scoped = diffScript('t', applied, d.state, changes);
  assert.equal(scoped, diffScript('t', applied, d.state));
  assert.match(scoped, /flush chain ip t c7\nadd rule ip t c7 r7-new/);
  copyScope(d.state, applied, changes);
  assert.equal(diffScript('t', applied, d.state), '', 'after copying the scope, the kernel copy equals the wanted state');
});
