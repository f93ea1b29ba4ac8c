import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servicePortsOf } from './build-model.ts';
import { serviceObject, sliceObject } from './service-model.fixture.ts';
import type { ProxyContext } from './model.ts';
import { servicePortFragment } from './service-rules.ts';
import { stateOf } from './desired-table.ts';
import type { TableState } from './table-state.ts';
import { diffScript, fullScript } from './transaction.ts';

const ctx: ProxyContext = { nodeName: 'n1', serviceCidr: '10.61.0.0/16' };

function state(services: { name: string; ip: string; eps: string[]; affinity?: boolean }[]): TableState {
  return stateOf(services.map((s) => servicePortsOf(
    serviceObject('ns', s.name, { clusterIP: s.ip, ports: [{ port: 80 }], ...(s.affinity ? { sessionAffinity: 'ClientIP' as const } : {}) }),
    [sliceObject('ns', s.name, `${s.name}-1`, [{ port: 80 }], s.eps.map((ip) => ({ ip })))],
  ).map((p) => servicePortFragment(p, ctx))));
}

test('full script replaces the table atomically and declares chains before rules', () => {
  const s = fullScript('t1', ctx, state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1'] }]));
  const lines = s.trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['add table ip t1', 'delete table ip t1']);
  const firstRule = lines.findIndex((l) => l.startsWith('add rule'));
  const lastChain = lines.map((l) => l.startsWith('add chain')).lastIndexOf(true);
  assert.ok(lastChain < firstRule);
  assert.ok(lines.includes('add rule ip t1 cluster-ips-check ip daddr 10.61.0.0/16 reject comment "unallocated cluster IP"'));
  assert.ok(lines.some((l) => /^add element ip t1 service-ips \{ 10\.61\.0\.1 \. tcp \. 80 : goto service-/.test(l)));
});

test('no change, no script', () => {
  const svcs = [{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1'] }];
  assert.equal(diffScript('t', state(svcs), state(svcs)), '');
});

test('an endpoint change rewrites one service chain and its hairpin elements only', () => {
  const others = Array.from({ length: 20 }, (_, i) => ({ name: `o${i}`, ip: `10.61.1.${i}`, eps: ['10.60.2.1', '10.60.2.2'] }));
  const from = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1', '10.60.1.2'] }, ...others]);
  const to = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1', '10.60.1.3'] }, ...others]);
  assert.deepEqual(diffScript('t', from, to).trim().split('\n'), [
    `flush chain ip t ${[...to.chains.keys()][0]}`,
    `add rule ip t ${[...to.chains.keys()][0]} meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.60.1.1 . 80, 1 : 10.60.1.3 . 80 }`,
    'delete element ip t hairpin { 10.60.1.2 . 10.60.1.2 }',
    'add element ip t hairpin { 10.60.1.3 . 10.60.1.3 }',
  ]);
});

test('with affinity, an endpoint change adds and removes endpoint chains and sets in a safe order', () => {
  const from = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1', '10.60.1.2'], affinity: true }]);
  const to = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1', '10.60.1.3'], affinity: true }]);
  const lines = diffScript('t', from, to).trim().split('\n');
  assert.ok(lines.every((l) => l.includes('ns/a/') || l.includes('affinity-') || l.includes('hairpin')), lines.join('\n'));
  assert.match(lines[0], /^add set ip t affinity-\S+ \{ type ipv4_addr; flags dynamic,timeout; timeout 10800s; \}$/);
  assert.match(lines[1], /^add chain ip t endpoint-\S+__10\.60\.1\.3\/80$/);
  assert.ok(lines.some((l) => /^flush chain ip t service-\S+ns\/a\/tcp\/$/.test(l)));
  const flushOld = lines.findIndex((l) => /^flush chain ip t endpoint-\S+__10\.60\.1\.2\/80$/.test(l));
  const deleteOld = lines.findIndex((l) => /^delete chain ip t endpoint-\S+__10\.60\.1\.2\/80$/.test(l));
  const rewrite = lines.findIndex((l) => /^add rule ip t service-/.test(l));
  const deleteSet = lines.findIndex((l) => l.startsWith('delete set ip t affinity-'));
  assert.ok(rewrite >= 0 && rewrite < flushOld && flushOld < deleteOld && deleteOld < deleteSet, 'referrers rewritten before the old chain and set go');
  assert.deepEqual(lines.filter((l) => l.includes('element')), ['delete element ip t hairpin { 10.60.1.2 . 10.60.1.2 }', 'add element ip t hairpin { 10.60.1.3 . 10.60.1.3 }']);
});

test('losing the last endpoint swaps the map element for a reject and deletes the chains after', () => {
  const from = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1'], affinity: true }]);
  const to = state([{ name: 'a', ip: '10.61.0.1', eps: [], affinity: true }]);
  const lines = diffScript('t', from, to).trim().split('\n');
  const delEl = lines.findIndex((l) => /^delete element ip t service-ips \{ 10\.61\.0\.1 \. tcp \. 80 \}$/.test(l));
  const addEl = lines.indexOf('add element ip t no-endpoint-services { 10.61.0.1 . tcp . 80 : goto reject-chain }');
  const delChain = lines.findIndex((l) => l.startsWith('delete chain ip t service-'));
  const delSet = lines.findIndex((l) => l.startsWith('delete set ip t affinity-'));
  assert.ok(delEl >= 0 && addEl > delEl && delChain > addEl && delSet > delChain, lines.join('\n'));
});

test('deleting a Service removes its elements, chains and cluster IP', () => {
  const from = state([{ name: 'a', ip: '10.61.0.1', eps: ['10.60.1.1'] }, { name: 'b', ip: '10.61.0.2', eps: ['10.60.1.2'] }]);
  const to = state([{ name: 'b', ip: '10.61.0.2', eps: ['10.60.1.2'] }]);
  const s = diffScript('t', from, to);
  assert.match(s, /delete element ip t cluster-ips \{ 10\.61\.0\.1 \}/);
  assert.equal((s.match(/^delete chain/gm) ?? []).length, 1);
  assert.match(s, /delete element ip t hairpin \{ 10\.60\.1\.1 \. 10\.60\.1\.1 \}/);
  assert.doesNotMatch(s, /ns\/b\//);
});
